from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    database_url: str = "postgresql://notifier@127.0.0.1:5432/gecc"
    http_port: int = 8082
