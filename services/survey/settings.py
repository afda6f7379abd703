from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_SURVEY_", extra="ignore")

    service_name: str = "survey"
    database_url: str = "postgresql://survey@127.0.0.1:5432/gecc"
    http_port: int = 8085
