"""Signing in as the portal does: ask for a link with the portal's credential, take the
one-time code from the SignInRequested event on Kafka (what the notifier would mail), open
a session with it."""

from typing import Any

import httpx

from shared.events import Envelope, SignInRequested
from shared.topics import Topic, TopicNames
from tests.support.kafka import read_all

PORTAL_SECRET = "portal-secret-of-the-tests"
PORTAL = {"Authorization": f"Bearer {PORTAL_SECRET}"}


def ask_body(email: str) -> dict[str, str]:
    return {"email": email, "locale": "th", "client": "203.0.113.5"}


def session_body(code: str, scope: str | None = None) -> dict[str, Any]:
    return {"code": code, "scope": scope, "client": "203.0.113.5"}


async def sent_codes(bootstrap: str, topics: TopicNames, email: str, count: int) -> list[str]:
    """The codes sent to ``email`` so far, once at least ``count`` are on the topic."""
    records = await read_all(bootstrap, topics(Topic.SIGN_IN_REQUESTED), count)
    events = [Envelope[SignInRequested].model_validate_json(r.value) for r in records]
    return [e.data.code for e, r in zip(events, records, strict=True) if r.key == email.encode()]


async def signed_in(
    client: httpx.AsyncClient,
    bootstrap: str,
    topics: TopicNames,
    email: str,
    scope: str | None = None,
    sent_before: int = 0,
) -> dict[str, Any]:
    """The session opened for ``email`` (its answer: token, expires_at, account);
    ``sent_before``: how many events the topic held before."""
    asked = await client.post("/v1/sign-in-requests", json=ask_body(email), headers=PORTAL)
    assert asked.status_code == 202, asked.text
    code = (await sent_codes(bootstrap, topics, email, sent_before + 1))[-1]
    opened = await client.post("/v1/sessions", json=session_body(code, scope), headers=PORTAL)
    assert opened.status_code == 201, opened.text
    session: dict[str, Any] = opened.json()
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
