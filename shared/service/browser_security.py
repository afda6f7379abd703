"""What every answer to a browser carries (the portal's pages, the citizens' survey page): a
Content-Security-Policy without inline script or framing, same-origin referrers, no
sniffing; and whether cookies are Secure."""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]


def security_headers(style_hashes: str = "") -> Headers:
    """``style_hashes``: inline styles allowed by their hash (the survey page's one)."""
    styles = f"'self' {style_hashes}" if style_hashes else "'self'"
    policy = (
        f"default-src 'self'; script-src 'self'; style-src {styles}; img-src 'self' data:;"
        " font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none';"
        " object-src 'none'; frame-ancestors 'none'"
    )
    return [
        (b"content-security-policy", policy.encode()),
        (b"referrer-policy", b"same-origin"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


class SecurityHeaders:
    """``headers`` on every answer; anything but ``/static/`` is not cached (pages may show
    personal data), static files get ``static_cache`` when given."""

    def __init__(self, app: ASGIApp, headers: Headers, static_cache: bytes | None = None) -> None:
        self.app = app
        self.headers = headers
        self.static_cache = static_cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        cache = self.static_cache if static else b"no-store"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += self.headers
                if cache is not None:
                    headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def secure_cookies(public_url: str) -> bool:
    """Cookies are Secure unless the public address is loopback (a developer's machine)."""
    host = urlsplit(public_url).hostname or ""
    return not (host in ("localhost", "::1") or host.startswith("127."))
