"""Signing in without a password: a one-time code sent to the account's address opens a
session (the adapters store only the SHA-256 of a code, a session token or an address)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_TOKEN_PREFIX = "gecc_session_"


@dataclass(frozen=True)
class SignInRules:
    """How often an address may ask, and how long a code and a session last."""

    per_address: int
    window: timedelta
    code_lifetime: timedelta
    session_lifetime: timedelta


def new_code() -> str:
    return secrets.token_urlsafe(32)


def new_session_token() -> str:
    return f"{SESSION_TOKEN_PREFIX}{secrets.token_urlsafe(32)}"


def seconds_to_wait(
    earlier: Sequence[datetime], now: datetime, per_address: int, window: timedelta
) -> float:
    """0 when one more request from an address is allowed now, given its ``earlier``
    requests; else the seconds until the oldest of the window's requests leaves it."""
    recent = sorted(at for at in earlier if at > now - window)
    if len(recent) < per_address:
        return 0.0
    leaves = recent[len(recent) - per_address] + window
    return max((leaves - now).total_seconds(), 0.001)
