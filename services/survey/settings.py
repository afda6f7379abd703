from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.standards import default_standards_dir


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_SURVEY_", extra="ignore")

    service_name: str = "survey"
    database_url: str = "postgresql://survey@127.0.0.1:5432/gecc"
    http_port: int = 8085
    # The survey's standard: the newest of this catalogue (like intake's GET /v1/standards).
    standards_dir: Path = default_standards_dir()
    # The address citizens open (the poster's QR code leads there); cookies are Secure
    # unless it is loopback.
    public_url: str = "http://127.0.0.1:8085"
    # Signs the visit tokens of the public page (GECC_SURVEY_TOKEN_SECRET); a deployment
    # sets its own. Tokens expire after token_minutes and serve once.
    token_secret: str = Field("gecc-local-survey-token-secret", repr=False)
    token_minutes: int = Field(120, ge=1)
    # Visits remembered as used (until they expire); the oldest forgotten beyond this, the
    # responses' event ids still keep a repeat from counting twice.
    used_tokens_kept: int = Field(200_000, ge=1)
    # Responses per client address: a service hall behind one NAT answers hundreds an hour;
    # a flood is turned away.
    responses_per_hour: int = Field(600, ge=1)
    responses_burst: int = Field(120, ge=1)
    # Kafka must acknowledge a response within this, else the page answers 503 (answers kept).
    kafka_ack_seconds: float = Field(3.0, gt=0)
    # The in-memory copy of the centers and rounds is read again from the database this often.
    directory_refresh_seconds: float = Field(5.0, gt=0)
    # Responses folded in one transaction at most: a batch from many centers changes about as
    # many tallies as it holds responses, and larger batches fold more of them into one
    # (docs/benchmarks.md, "Survey tallier").
    consumer_batch_size: int = 1000
    # The tallier's Kafka consumers, in a process of its own that the survey's runs beside
    # it (entrypoints/tallier.py); 0: no tallier (a replica serving the public page only).
    tallier_consumers: int = Field(2, ge=0, le=6)
    # The tally read API's shared secret (GECC_SURVEY_READ_SECRET): the portal holds it.
    read_secret: str = Field("gecc-local-survey-read-secret", min_length=1, repr=False)
