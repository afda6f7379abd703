from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ExportSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_EXPORT_", extra="ignore")

    service_name: str = "export"
    database_url: str = "postgresql://export@127.0.0.1:5432/gecc"
    http_port: int = 8083
