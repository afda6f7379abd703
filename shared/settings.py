"""Settings helpers: each service's one typed settings object builds on these."""

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.clock import Clock, build_clock
from shared.service.http_protocol import HttpLimits
from shared.topics import TopicNames

# Object storage as the local stack runs it (gecc/stack/s3proxy.py, docker-compose.yml): the
# credential pair is the stack's own, not a secret; a real deployment sets GECC_S3_*.
DEFAULT_S3_PORT = 9000
DEFAULT_S3_ENDPOINT = f"http://127.0.0.1:{DEFAULT_S3_PORT}"
DEFAULT_S3_BUCKET = "gecc-evidence"
DEFAULT_S3_ACCESS_KEY = "gecc-local"
DEFAULT_S3_SECRET_KEY = "gecc-local-secret-key"
DEFAULT_S3_REGION = "us-east-1"


def env(name: str) -> AliasChoices:
    """Read a field from ``GECC_<NAME>`` (the deployment-wide variable)."""
    return AliasChoices(f"GECC_{name.upper()}")


class ServiceSettings(BaseSettings):
    """What every service needs: where Kafka and its database are, and how to name topics.

    A subclass sets ``model_config`` with its own ``env_prefix`` (``GECC_INTAKE_`` ...) so that
    each service's database URL, port and tuning are separate variables, while the broker and
    topic namespace are shared ones.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias=env("kafka_bootstrap"))
    topic_namespace: str = Field("", validation_alias=env("topic_namespace"))
    database_url: str = "postgresql://postgres@127.0.0.1:5432/gecc"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # What an HTTP client may hold (shared/service/http_protocol.py): seconds for a request's head,
    # seconds for its body plus one per http_body_min_rate bytes, open connections.
    http_header_timeout_seconds: float = Field(10.0, gt=0)
    http_body_timeout_seconds: float = Field(20.0, gt=0)
    http_body_min_rate: float = Field(500.0, gt=0)
    http_max_connections: int = Field(1000, ge=1)
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto
    # are believed, comma-separated; by default none: the client is the socket's peer.
    trusted_proxies: str = Field("", validation_alias=env("trusted_proxies"))
    db_pool_min: int = 1
    db_pool_max: int = 10
    consumer_batch_size: int = 200
    # The outbox relay in a child process (shared/messaging/relay_process.py) or in the
    # service's event loop.
    outbox_relay: Literal["process", "loop"] = "process"
    # While events keep coming the relay looks for more this often instead of being woken
    # by each commit (shared/messaging/migrations/003_outbox_doorbell.sql).
    outbox_busy_poll_ms: float = Field(20.0, ge=0)
    log_level: str = "INFO"
    # One timeline for every service: accelerated for demos and tests (a round in minutes).
    clock_speed: float = Field(1.0, gt=0, validation_alias=env("clock_speed"))
    clock_epoch: datetime | None = Field(None, validation_alias=env("clock_epoch"))
    clock_start: datetime | None = Field(None, validation_alias=env("clock_start"))

    def http_limits(self) -> HttpLimits:
        return HttpLimits(
            header_seconds=self.http_header_timeout_seconds,
            body_seconds=self.http_body_timeout_seconds,
            body_min_rate=self.http_body_min_rate,
            max_connections=self.http_max_connections,
        )

    def clock(self) -> Clock:
        return build_clock(self.clock_speed, self.clock_start, epoch=self.clock_epoch)

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.topic_namespace)

    @property
    def consumer_group(self) -> str:
        return f"{self.topic_namespace}gecc.{self.service_name}"


class ObjectStorageSettings(ServiceSettings):
    """A service that keeps files in S3-compatible object storage (intake, export): where the
    server is, the bucket and the credential pair, from the deployment-wide ``GECC_S3_*``
    variables (one bucket for the deployment, like one Kafka cluster)."""

    s3_endpoint: str = Field(DEFAULT_S3_ENDPOINT, validation_alias=env("s3_endpoint"))
    s3_bucket: str = Field(DEFAULT_S3_BUCKET, validation_alias=env("s3_bucket"))
    s3_access_key: str = Field(DEFAULT_S3_ACCESS_KEY, validation_alias=env("s3_access_key"))
    s3_secret_key: str = Field(
        DEFAULT_S3_SECRET_KEY, validation_alias=env("s3_secret_key"), repr=False
    )
    s3_region: str = Field(DEFAULT_S3_REGION, validation_alias=env("s3_region"))
