import json
from pathlib import Path

from gecc.asyncapi import asyncapi_document

DOCUMENT = Path(__file__).parents[2] / "docs" / "asyncapi.json"


def test_committed_asyncapi_document_matches_the_services() -> None:
    generated = asyncapi_document()
    assert generated == DOCUMENT.read_text(encoding="utf-8"), "run `make asyncapi` and commit"


def test_every_event_topic_is_documented_with_its_envelope() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {"gecc.submission.received.v1", "gecc.submission.scored.v1"} <= addresses
    schemas = document["components"]["schemas"]
    envelope = next(
        s
        for name, s in schemas.items()
        if "SubmissionReceived" in name and "event_id" in s.get("properties", {})
    )
    assert {"event_id", "event_type", "occurred_at", "producer", "schema_version", "data"} <= set(
        envelope["properties"]
    )
