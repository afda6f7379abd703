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
    standards_dir: Path = default_standards_dir()
    # Responses folded in one transaction at most: a batch from many centers changes about as
    # many tallies as it holds responses, and larger batches fold more of them into one
    # (docs/benchmarks.md, "Survey tallier").
    consumer_batch_size: int = 1000
    # 0: this process does not tally (a replica for the public page only).
    tallier_consumers: int = Field(2, ge=0, le=6)
    # The tally read API's shared secret (GECC_SURVEY_READ_SECRET): the portal holds it.
    read_secret: str = Field("gecc-local-survey-read-secret", min_length=1, repr=False)
