"""Where the local stack keeps its files and which ports it uses, read from ``GECC_*`` variables."""

import os
import secrets
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gecc.pmo_receiver import DEFAULT_PORT as DEFAULT_PMO_PORT
from gecc.pmo_receiver import DEFAULT_SECRET as DEFAULT_PMO_SECRET
from gecc.stack.errors import StackError
from shared.settings import (
    DEFAULT_S3_ACCESS_KEY,
    DEFAULT_S3_BUCKET,
    DEFAULT_S3_PORT,
    DEFAULT_S3_REGION,
    DEFAULT_S3_SECRET_KEY,
)
from shared.topics import SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALHOST = "127.0.0.1"
SUPERUSER = "postgres"
DEFAULT_SERVICE_PORTS = {
    "intake": 8080,
    "scoring": 8081,
    "notifier": 8082,
    "export": 8083,
    "portal": 8084,
    "survey": 8085,
}
DEFAULT_SERVICE_COMMAND = (sys.executable, "-m", "services.{name}")
DEFAULT_MAILSINK_PORT = 8025
DEFAULT_PROMETHEUS_PORT = 9090
# The services that keep files in object storage (evidence files, packages of them).
OBJECT_STORAGE_SERVICES = ("intake", "export")


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not a whole number: set it like {default}") from None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise StackError(
            f"{name}={raw!r} is not a number of seconds: set it like {default}"
        ) from None


def _env_command(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    return tuple(shlex.split(raw)) if raw else default


def find_prometheus() -> str | None:
    """``GECC_PROMETHEUS_BIN``, else ``prometheus`` on the PATH (Debian: ``apt-get install
    prometheus``), else None."""
    configured = os.environ.get("GECC_PROMETHEUS_BIN")
    if configured:
        return shutil.which(configured) or configured
    return shutil.which("prometheus")


@dataclass(frozen=True)
class StackConfig:
    """One local stack: its home directory (data, logs, state) and its ports.

    ``service_command`` is how a service process is launched; ``{name}`` is replaced by the
    service name. ``start_timeout`` bounds the wait for each component to become ready.
    ``mailsink_port`` is the local SMTP sink's (``gecc.mailsink``); it keeps what it receives
    in ``mail_dir``, and the notifier sends its e-mail there. ``pmo_port`` is the reference
    PMO receiver's (``gecc.pmo_receiver``); it stores the batches it receives in ``pmo_dir``,
    and the export service pushes there, signing with ``pmo_secret``. ``prometheus_bin`` is the
    Prometheus binary that runs beside the services on ``prometheus_port``, scraping them and
    evaluating ``deploy/prometheus/alerts.yml``; None runs none (``from_env`` finds it when it
    is installed). ``s3_port`` is S3Proxy's, the S3 server keeping its objects in ``s3_dir``;
    it accepts the pair ``s3_access_key``/``s3_secret_key`` (the stack's own, not a secret),
    and ``up`` creates ``s3_bucket`` in it.
    """

    home: Path = field(default_factory=lambda: REPO_ROOT / ".gecc")
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    postgres_port: int = 5432
    mailsink_port: int = DEFAULT_MAILSINK_PORT
    pmo_port: int = DEFAULT_PMO_PORT
    pmo_secret: str = field(default=DEFAULT_PMO_SECRET, repr=False)
    database: str = "gecc"
    topic_namespace: str = ""
    service_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SERVICE_PORTS))
    service_command: tuple[str, ...] = DEFAULT_SERVICE_COMMAND
    start_timeout: float = 60.0
    prometheus_bin: str | None = None
    prometheus_port: int = DEFAULT_PROMETHEUS_PORT
    s3_port: int = DEFAULT_S3_PORT
    s3_bucket: str = DEFAULT_S3_BUCKET
    s3_access_key: str = DEFAULT_S3_ACCESS_KEY
    s3_secret_key: str = field(default=DEFAULT_S3_SECRET_KEY, repr=False)
    s3_region: str = DEFAULT_S3_REGION

    @classmethod
    def from_env(cls) -> "StackConfig":
        return cls(
            home=Path(_env_str("GECC_HOME", str(REPO_ROOT / ".gecc"))).expanduser().resolve(),
            kafka_port=_env_int("GECC_KAFKA_PORT", 9092),
            kafka_controller_port=_env_int("GECC_KAFKA_CONTROLLER_PORT", 9093),
            postgres_port=_env_int("GECC_PG_PORT", 5432),
            mailsink_port=_env_int("GECC_MAILSINK_PORT", DEFAULT_MAILSINK_PORT),
            pmo_port=_env_int("GECC_PMO_PORT", DEFAULT_PMO_PORT),
            pmo_secret=_env_str("GECC_PMO_SECRET", DEFAULT_PMO_SECRET),
            database=_env_str("GECC_PG_DATABASE", "gecc"),
            topic_namespace=os.environ.get("GECC_TOPIC_NAMESPACE", ""),
            service_ports={
                name: _env_int(f"GECC_{name.upper()}_HTTP_PORT", port)
                for name, port in DEFAULT_SERVICE_PORTS.items()
            },
            service_command=_env_command("GECC_SERVICE_COMMAND", DEFAULT_SERVICE_COMMAND),
            start_timeout=_env_float("GECC_START_TIMEOUT", 60.0),
            prometheus_bin=find_prometheus(),
            prometheus_port=_env_int("GECC_PROMETHEUS_PORT", DEFAULT_PROMETHEUS_PORT),
            s3_port=_env_int("GECC_S3_PORT", DEFAULT_S3_PORT),
            s3_bucket=_env_str("GECC_S3_BUCKET", DEFAULT_S3_BUCKET),
            s3_access_key=_env_str("GECC_S3_ACCESS_KEY", DEFAULT_S3_ACCESS_KEY),
            s3_secret_key=_env_str("GECC_S3_SECRET_KEY", DEFAULT_S3_SECRET_KEY),
            s3_region=_env_str("GECC_S3_REGION", DEFAULT_S3_REGION),
        )

    @property
    def kafka_bootstrap(self) -> str:
        return f"{LOCALHOST}:{self.kafka_port}"

    @property
    def postgres_address(self) -> str:
        return f"{LOCALHOST}:{self.postgres_port}"

    @property
    def s3_address(self) -> str:
        return f"{LOCALHOST}:{self.s3_port}"

    @property
    def s3_endpoint(self) -> str:
        """S3Proxy's URL (every service's ``GECC_S3_ENDPOINT``)."""
        return f"http://{self.s3_address}"

    @property
    def s3_dir(self) -> Path:
        """S3Proxy's generated configuration; its objects are in ``data/<bucket>/<key>``."""
        return self.home / "s3proxy"

    def s3_env(self) -> dict[str, str]:
        """Where object storage is and how to sign in, as the services read it."""
        return {
            "GECC_S3_ENDPOINT": self.s3_endpoint,
            "GECC_S3_BUCKET": self.s3_bucket,
            "GECC_S3_ACCESS_KEY": self.s3_access_key,
            "GECC_S3_SECRET_KEY": self.s3_secret_key,
            "GECC_S3_REGION": self.s3_region,
        }

    @property
    def mailsink_address(self) -> str:
        return f"{LOCALHOST}:{self.mailsink_port}"

    @property
    def mail_dir(self) -> Path:
        """Where the SMTP sink stores each message it receives, one ``.eml`` file each."""
        return self.home / "mail"

    @property
    def pmo_address(self) -> str:
        return f"{LOCALHOST}:{self.pmo_port}"

    @property
    def pmo_url(self) -> str:
        """The PMO receiver's base URL (the export service's ``GECC_EXPORT_PMO_URL``)."""
        return f"http://{self.pmo_address}"

    @property
    def pmo_dir(self) -> Path:
        """Where the PMO receiver stores each batch it receives, one JSON file each."""
        return self.home / "pmo"

    @property
    def portal_secret_file(self) -> Path:
        """The portal client's secret (intake's and the portal's ``GECC_PORTAL_CLIENT_SECRET``),
        made once per home, readable by its owner only."""
        return self.home / "portal-client-secret"

    def portal_client_secret(self) -> str:
        """The stack's portal client secret: read, or made now (random) on first use; written
        whole or not at all (``up`` holds the home's lock meanwhile)."""
        path = self.portal_secret_file
        kept = path.read_text(encoding="ascii").strip() if path.exists() else ""
        if kept:
            return kept
        made = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(made + "\n")
        os.replace(partial, path)
        return made

    @property
    def exports_dir(self) -> Path:
        """Where the export service writes each export's files (``<round>/<export id>/``)."""
        return self.home / "exports"

    @property
    def prometheus_address(self) -> str:
        return f"{LOCALHOST}:{self.prometheus_port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.prometheus_address}"

    @property
    def prometheus_dir(self) -> Path:
        """Prometheus' generated configuration (``prometheus.yml``) and its data (``data/``)."""
        return self.home / "prometheus"

    def postgres_url(self, user: str, database: str) -> str:
        return f"postgresql://{user}@{self.postgres_address}/{database}"

    @property
    def admin_dsn(self) -> str:
        return self.postgres_url(SUPERUSER, self.database)

    def service_dsn(self, name: str) -> str:
        return self.postgres_url(self._known(name), self.database)

    def service_address(self, name: str) -> str:
        return f"{LOCALHOST}:{self.service_ports[self._known(name)]}"

    def service_env(self, name: str) -> dict[str, str]:
        """The environment a service process runs with: the parent's plus where everything is,
        every path under ``home``; intake and export know object storage's endpoint, bucket
        and credential pair; intake and the portal share the stack's portal client
        secret, the portal knows intake's address and its own, and the notifier's sign-in
        links lead to the portal; the survey's posters lead to its own address."""
        prefix = f"GECC_{self._known(name).upper()}_"
        env = {
            **os.environ,
            "GECC_HOME": str(self.home),
            "GECC_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "GECC_TOPIC_NAMESPACE": self.topic_namespace,
            f"{prefix}DATABASE_URL": self.service_dsn(name),
            f"{prefix}HTTP_HOST": LOCALHOST,
            f"{prefix}HTTP_PORT": str(self.service_ports[name]),
        }
        if name in OBJECT_STORAGE_SERVICES:
            env.update(self.s3_env())
        if name == "notifier":
            env[f"{prefix}SMTP_HOST"] = LOCALHOST
            env[f"{prefix}SMTP_PORT"] = str(self.mailsink_port)
            env[f"{prefix}PORTAL_URL"] = self.portal_url
        if name == "export":
            env[f"{prefix}PMO_URL"] = self.pmo_url
            env[f"{prefix}PMO_SECRET"] = self.pmo_secret
            env[f"{prefix}EXPORTS_DIR"] = str(self.exports_dir)
        if name in ("intake", "portal"):
            env["GECC_PORTAL_CLIENT_SECRET"] = self.portal_client_secret()
        survey = f"http://{self.service_address('survey')}"
        if name == "survey":
            env[f"{prefix}PUBLIC_URL"] = survey
        if name == "portal":
            env[f"{prefix}INTAKE_URL"] = f"http://{self.service_address('intake')}"
            env[f"{prefix}PUBLIC_URL"] = self.portal_url
            env[f"{prefix}SURVEY_URL"] = survey  # the tally read API and the posters
            env[f"{prefix}SURVEY_PUBLIC_URL"] = survey  # the address shown to centers
        return env

    @property
    def portal_url(self) -> str:
        """Where people open the portal (the links in sign-in e-mails lead there)."""
        return f"http://{self.service_address('portal')}"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def log_file(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    @property
    def state_file(self) -> Path:
        return self.home / "stack.json"

    def _known(self, name: str) -> str:
        if name not in SERVICES or name not in self.service_ports:
            raise StackError(f"unknown service {name!r}: expected one of {', '.join(SERVICES)}")
        return name
