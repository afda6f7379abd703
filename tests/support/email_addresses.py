"""E-mail addresses for the tests of every place addresses enter: the registry, the
recipients file, the notifier's settings, the sender."""

THAI_LOCAL_PART = "ทดสอบ@example.go.th"
"""Deliverable only over SMTPUTF8 (RFC 6531)."""
THAI_DOMAIN = "info@ตัวอย่าง.ไทย"
THAI_DOMAIN_ASCII = "info@xn--72c1a1bt4awk9o.xn--o3cw4h"
"""The same address as it goes over SMTP: the domain in punycode, no SMTPUTF8 needed."""

# Addresses the notifier cannot deliver to, or could deliver elsewhere than its To header
# says, each with words of the reason it is refused for.
UNDELIVERABLE = [
    ("x>@example.go.th", "invalid characters before the @-sign: '>'"),
    ("a@b", "It should have a period"),
    ("a@@b.go.th", "after the @-sign contains invalid characters: '@'"),
    ("a b@x.go.th", "invalid characters before the @-sign: SPACE"),
    ("a,b@x.go.th", "invalid characters before the @-sign: ','"),
    ("a@x.go.th\r\nBcc: evil@x.com", "control character"),
    ("a@x.go.th.", "cannot end with a period"),
    ("a.@x.go.th", "period immediately before the @-sign"),
    (".a@x.go.th", "cannot start with a period"),
    ("a..b@x.go.th", "two periods in a row"),
    ("a@x..go.th", "two periods in a row"),
    ("a@x.go.th>", "after the @-sign contains invalid characters: '>'"),
    ("<a@x.go.th>", "angle brackets"),
    ("Saraban <a@x.go.th>", "display name"),
    ('"a b"@x.go.th', "Quoting the part before the @-sign is not allowed"),
    ("a@[192.0.2.1]", "bracketed IP address"),
    ("a@gecc.localhost", "special-use or reserved name"),
    ("a@-x.go.th", "hyphen"),
    ("a\u200b@x.go.th", "unsafe characters: ZERO WIDTH SPACE"),
    ("a" * 65 + "@x.go.th", "too long before the @-sign"),
]
