from datetime import timedelta
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.retry import RetryPolicy
from shared.settings import ObjectStorageSettings


class ExportSettings(ObjectStorageSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_EXPORT_", extra="ignore")

    service_name: str = "export"
    database_url: str = "postgresql://export@127.0.0.1:5432/gecc"
    http_port: int = 8083

    # The OPS/PMO system (the local stack runs the reference receiver there).
    pmo_url: str = "http://127.0.0.1:8090"
    pmo_secret: str = "gecc-local-pmo-secret"
    pmo_timeout_seconds: float = 10.0
    # Where each export's files go: {exports_dir}/{round}/{export id}/.
    exports_dir: Path = Path(".gecc/exports")
    batch_size: int = 500
    # Transient failures are retried without end, the wait doubling up to the cap.
    retry_first_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    # A delta goes once a round's corrections have been quiet this long.
    correction_quiet_seconds: float = 5.0

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=1_000_000,
            first=timedelta(seconds=self.retry_first_seconds),
            cap=timedelta(seconds=self.retry_max_seconds),
        )
