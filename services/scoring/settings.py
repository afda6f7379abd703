from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.standards import default_standards_dir


class ScoringSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_SCORING_", extra="ignore")

    service_name: str = "scoring"
    database_url: str = "postgresql://scoring@127.0.0.1:5432/gecc"
    http_port: int = 8081
    standards_dir: Path = default_standards_dir()
