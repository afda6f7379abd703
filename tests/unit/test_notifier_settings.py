"""The notifier's settings: e-mail addresses given in the environment are checked like the
recipients file's."""

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.notifier.settings import NotifierSettings
from shared.retry import RetryPolicy
from tests.support.email_addresses import THAI_DOMAIN, THAI_DOMAIN_ASCII, THAI_LOCAL_PART

VARIABLE = "GECC_NOTIFIER_OPERATOR_EMAILS"


def test_operator_emails_are_kept_in_normalized_form(monkeypatch: pytest.MonkeyPatch) -> None:
    given = ["Ops@OPDC.Go.Th", THAI_LOCAL_PART, THAI_DOMAIN_ASCII]
    monkeypatch.setenv(VARIABLE, json.dumps(given))
    assert NotifierSettings().operator_emails == ["Ops@opdc.go.th", THAI_LOCAL_PART, THAI_DOMAIN]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("x>@example.go.th", "invalid characters before the @-sign: '>'"),
        ("ops@opdc.go.th\r\nBcc: evil@x.com", "invalid characters"),
        ("ops@opdc.go.th, evil@x.com", "invalid characters"),
        ("ops@opdc", "It should have a period"),
    ],
)
def test_an_undeliverable_operator_email_stops_the_settings_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, address: str, reason: str
) -> None:
    monkeypatch.setenv(VARIABLE, json.dumps(["ops@opdc.go.th", address]))
    with pytest.raises(ValidationError) as raised:
        NotifierSettings()
    (error,) = raised.value.errors()
    assert error["loc"] == ("operator_emails",)
    assert f"{address!r} is not an e-mail address: " in error["msg"]
    assert reason in error["msg"]


def test_the_sender_gets_each_delivery_setting_under_its_own_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "BATCH_SIZE": "120",
        "POLL_SECONDS": "0.25",
        "LEASE_SECONDS": "45",
        "CONCURRENCY": "16",
        "MAX_ATTEMPTS": "3",
        "FIRST_RETRY_SECONDS": "2",
        "MAX_RETRY_SECONDS": "60",
    }.items():
        monkeypatch.setenv(f"GECC_NOTIFIER_DELIVERY_{name}", value)
    sender = NotifierSettings().sender()
    assert (sender.batch_size, sender.poll_seconds, sender.lease_seconds) == (120, 0.25, 45.0)
    assert sender.concurrency == 16
    assert sender.retry == RetryPolicy(
        max_attempts=3, first=timedelta(seconds=2), cap=timedelta(seconds=60)
    )
