from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.intake.domain.evidence import MIB, EvidenceLimits
from services.intake.domain.sign_in import SignInRules
from shared.settings import ObjectStorageSettings, env
from shared.standards import default_standards_dir


class IntakeSettings(ObjectStorageSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_INTAKE_", extra="ignore")

    service_name: str = "intake"
    database_url: str = "postgresql://intake@127.0.0.1:5432/gecc"
    http_port: int = 8080
    db_pool_max: int = 20
    standards_dir: Path = default_standards_dir()
    max_body_bytes: int = 1024 * 1024
    max_accounts_file_bytes: int = 5 * 1024 * 1024  # POST /v1/accounts/import
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 60
    token_cache_seconds: float = 10.0
    # Refused credentials (unknown, malformed) per client address: each costs a lookup.
    auth_failures_per_minute: int = 30
    auth_failures_burst: int = 20
    # Rounds and extensions cached for the one-statement submission write; a change shows
    # at once anyway (the statement checks them and falls back when they differ).
    round_cache_seconds: float = 5.0
    # Submissions that arrive while one is being written go together in one statement;
    # 1 writes each alone (docs/benchmarks.md measures both).
    write_batch_max: int = 64
    write_batches_in_flight: int = 1
    progress_interval_seconds: float = 10.0
    # The portal's credential for the calls before anyone is signed in (the sign-in routes
    # only); the portal holds the same secret.
    portal_client_secret: str = Field(
        "gecc-local-portal-secret", validation_alias=env("portal_client_secret")
    )
    # Sign-in requests per address (known or not) in a window, shared by every process;
    # how long a one-time code and a session last. Real time, whatever the clock's speed.
    sign_in_per_address: int = Field(5, ge=1)
    sign_in_window_minutes: float = Field(15.0, gt=0)
    sign_in_code_minutes: float = Field(15.0, gt=0)
    session_hours: float = Field(8.0, gt=0)

    # Evidence files (spec §10): a center's files in one round at most this much
    # (GECC_INTAKE_EVIDENCE_QUOTA_MIB); objects no row needs (a crash between the stored
    # bytes and the commit) removed this often once this old.
    evidence_quota_mib: int = Field(300, ge=1)
    evidence_sweep_interval_seconds: float = Field(3600.0, gt=0)
    evidence_orphan_age_seconds: float = Field(3600.0, ge=0)

    def evidence_limits(self) -> EvidenceLimits:
        return EvidenceLimits(quota_bytes=self.evidence_quota_mib * MIB)

    def sign_in_rules(self) -> SignInRules:
        return SignInRules(
            per_address=self.sign_in_per_address,
            window=timedelta(minutes=self.sign_in_window_minutes),
            code_lifetime=timedelta(minutes=self.sign_in_code_minutes),
            session_lifetime=timedelta(hours=self.session_hours),
        )
