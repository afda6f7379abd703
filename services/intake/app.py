from dataclasses import dataclass

from fastapi import FastAPI

from services.intake.adapters import announcements, repository
from services.intake.adapters.repository import token_hash
from services.intake.adapters.revocations import follow_revocations
from services.intake.adapters.round_book import RoundBook
from services.intake.adapters.versions import VersionWriter
from services.intake.domain.principals import PrincipalCache
from services.intake.domain.rounds import calendar, fiscal_year_of
from services.intake.entrypoints import (
    accounts,
    centers,
    evidence,
    exports,
    http,
    offices,
    openapi,
    problems,
    rounds,
    sessions,
    standards,
    subscribers,
)
from services.intake.entrypoints.auth import Authentication
from services.intake.entrypoints.evidence_sweep import sweep_periodically
from services.intake.entrypoints.limits import BodySizeLimit, RequestGuard
from services.intake.entrypoints.progress import measure_progress
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from shared.messaging.runtime import ServiceRuntime
from shared.object_storage import ObjectStorage, ObjectStorageConfig
from shared.rate_limit import RateLimiter
from shared.service.http import service_app
from shared.standards import load_catalog
from shared.submission import SubmissionBody


@dataclass(frozen=True)
class Wiring:
    runtime: ServiceRuntime
    metrics: IntakeMetrics
    principals: PrincipalCache
    storage: ObjectStorage


def wire(settings: IntakeSettings) -> Wiring:
    runtime = ServiceRuntime(settings)
    subscribers.register(runtime)
    metrics = IntakeMetrics(runtime.registry)
    principals = PrincipalCache(settings.token_cache_seconds)

    async def round_progress(runtime: ServiceRuntime) -> None:
        await measure_progress(runtime, metrics, settings.progress_interval_seconds)

    async def revocations(_: ServiceRuntime) -> None:
        await follow_revocations(settings.database_url, principals)

    # The client only: it connects to the server with the first request that needs it.
    storage = ObjectStorage(ObjectStorageConfig.of(settings))

    async def open_storage(_: ServiceRuntime) -> None:
        await storage.connect()

    async def evidence_sweep(runtime: ServiceRuntime) -> None:
        await sweep_periodically(
            runtime,
            storage,
            settings.evidence_sweep_interval_seconds,
            settings.evidence_orphan_age_seconds,
        )

    runtime.on_start(open_storage)
    runtime.on_stop(storage.close)
    runtime.in_background("round-progress", round_progress)
    runtime.in_background("credential-revocations", revocations)
    runtime.in_background("evidence-sweep", evidence_sweep)
    return Wiring(runtime, metrics, principals, storage)


def build_runtime(settings: IntakeSettings) -> ServiceRuntime:
    return wire(settings).runtime


async def ensure_calendar(runtime: ServiceRuntime) -> None:
    """Rounds of the current and the next fiscal year exist with their default dates, and
    every round's schedule is announced again (the other services' copies catch up with
    anything they missed; an unchanged schedule changes nothing there)."""
    this_year = fiscal_year_of(runtime.clock.now().date())
    async with runtime.pool.acquire() as conn, conn.transaction():
        await repository.ensure_rounds(conn, calendar(this_year) + calendar(this_year + 1))
        await announcements.announce_rounds(conn, await repository.list_rounds(conn))


def create_app(settings: IntakeSettings) -> FastAPI:
    wiring = wire(settings)
    runtime = wiring.runtime
    runtime.on_start(ensure_calendar)
    app = service_app(
        runtime,
        "GECC intake",
        "Submissions, rounds and completeness for GECC centers, parent offices and operators.",
    )
    app.state.runtime = runtime
    app.state.metrics = wiring.metrics
    app.state.catalog = load_catalog(settings.standards_dir)
    app.state.storage = wiring.storage
    app.state.evidence_limits = settings.evidence_limits()
    app.state.checklist_items = frozenset(
        item.code for standard in app.state.catalog.standards.values() for item in standard.items
    )
    app.state.principals = wiring.principals
    app.state.rounds = RoundBook(settings.round_cache_seconds)
    app.state.writes = VersionWriter(
        max_batch=settings.write_batch_max, max_in_flight=settings.write_batches_in_flight
    )
    app.state.rate_limiter = RateLimiter(
        per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
    )
    app.state.refused_addresses = RateLimiter(
        per_minute=settings.auth_failures_per_minute, burst=settings.auth_failures_burst
    )
    app.state.portal_client = token_hash(settings.portal_client_secret)
    app.state.sign_in = settings.sign_in_rules()
    problems.install(app)
    openapi.document(app, SubmissionBody, problems.ScopeChoice)
    app.include_router(http.router)
    app.include_router(rounds.router)
    app.include_router(exports.router)
    app.include_router(sessions.router)
    app.include_router(centers.router)
    app.include_router(standards.router)
    app.include_router(offices.router)
    app.include_router(accounts.router)
    app.include_router(evidence.router)
    # Added innermost first: a request meets RequestGuard, Authentication, the body limit.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={accounts.IMPORT_PATH: settings.max_accounts_file_bytes},
        streamed=evidence.UPLOAD_PATH,
    )
    app.add_middleware(Authentication)
    app.add_middleware(RequestGuard)
    return app
