from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from services.survey.adapters.producer import ResponseProducer
from services.survey.domain.tokens import UsedVisits, VisitTokens
from services.survey.entrypoints import directory, posters, tallier, tally_api
from services.survey.entrypoints.i18n import Catalogue
from services.survey.entrypoints.pages import Pages, style_hash
from services.survey.entrypoints.public import PREFIX, PublicPages
from services.survey.handlers.responses import Desk
from services.survey.metrics import SurveyMetrics, TallierMetrics
from services.survey.settings import SurveySettings
from shared.events import Envelope, SurveyResponse
from shared.messaging.runtime import ServiceRuntime
from shared.rate_limit import RateLimiter
from shared.service.browser_security import SecurityHeaders, security_headers
from shared.service.http import service_app
from shared.standards import Standard, StandardCatalog, load_catalog
from shared.topics import Topic

STATIC = Path(__file__).resolve().parent / "static"


def newest_standard(catalog: StandardCatalog) -> Standard:
    """The standard reports are made on now: the newest of the catalogue (as intake lists)."""
    return max(catalog.standards.values(), key=lambda s: (s.version, s.id))


def build_desk(settings: SurveySettings, runtime: ServiceRuntime, standard: Standard) -> Desk:
    lifetime = settings.token_minutes * 60
    producer = ResponseProducer(
        settings.kafka_bootstrap,
        settings.topics(Topic.SURVEY_RESPONSE),
        f"gecc-{settings.service_name}-responses",
        settings.kafka_ack_seconds,
    )

    async def keep_connected(_: ServiceRuntime) -> None:
        await producer.keep_connected()

    async def watch_deliveries(_: ServiceRuntime) -> None:
        await producer.watch()

    runtime.in_background("response-producer", keep_connected)
    runtime.in_background("delivery-watchdog", watch_deliveries)
    runtime.on_stop(producer.close)
    return Desk(
        tokens=VisitTokens(settings.token_secret.encode(), lifetime),
        used=UsedVisits(lifetime, settings.used_tokens_kept),
        producer=producer,
        clock=runtime.clock,
        standard=standard.id,
        questions=tuple(q.code for q in standard.questions),
        producer_name=settings.service_name,
    )


@dataclass(frozen=True)
class Wiring:
    runtime: ServiceRuntime
    metrics: SurveyMetrics
    standard: Standard
    desk: Desk


def wire(settings: SurveySettings) -> Wiring:
    runtime = ServiceRuntime(settings)
    metrics = SurveyMetrics(runtime.registry)
    catalog = load_catalog(settings.standards_dir)
    standard = newest_standard(catalog)
    desk = build_desk(settings, runtime, standard)
    directory.register(runtime, desk, metrics, settings.directory_refresh_seconds)
    tallier.run_beside(runtime, settings, metrics)
    runtime.publishes(
        Topic.SURVEY_RESPONSE,
        Envelope[SurveyResponse],
        "A citizen's answers to a center's survey, produced by the public page (idempotent,"
        " acks=all) before it answers; key: center id; event id: uuid5 of device, center"
        " and Bangkok day.",
    )
    return Wiring(runtime, metrics, standard, desk)


def build_runtime(settings: SurveySettings) -> ServiceRuntime:
    return wire(settings).runtime


def build_tallier_runtime(settings: SurveySettings) -> ServiceRuntime:
    """The tallier's process: its consumers, no page (``python -m services.survey.tallier``)."""
    return _with_tallier(ServiceRuntime(settings), settings)


def build_described_runtime(settings: SurveySettings) -> ServiceRuntime:
    """The survey's runtime with its tallier's consumers too, as one service in the AsyncAPI
    document (never started: the tallier runs in its own process)."""
    return _with_tallier(build_runtime(settings), settings)


def _with_tallier(runtime: ServiceRuntime, settings: SurveySettings) -> ServiceRuntime:
    catalog = load_catalog(settings.standards_dir)
    tallier.register(runtime, TallierMetrics(runtime.registry), catalog, settings.tallier_consumers)
    return runtime


class SurveyApp(FastAPI):
    """The survey's HTTP app: the citizens' pages (``/s/...``, the hot path) are answered
    by ``public`` before the framework and its middleware; everything else by FastAPI."""

    public: PublicPages | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        public = self.public
        if public is not None and scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await public(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: SurveySettings) -> FastAPI:
    wiring = wire(settings)
    runtime, metrics, desk = wiring.runtime, wiring.metrics, wiring.desk
    app = service_app(
        runtime,
        "GECC survey",
        "The citizen survey: the public page citizens answer, and the tally of their answers.",
        app_class=SurveyApp,
    )
    assert isinstance(app, SurveyApp)
    app.state.runtime = runtime
    app.state.desk = desk
    pages = Pages(Catalogue.load(), wiring.standard.questions)
    app.state.pages = pages
    posters.install(app, desk, pages, settings.public_url)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    limiter = RateLimiter(
        per_minute=max(1, settings.responses_per_hour // 60), burst=settings.responses_burst
    )
    # The font is cached a day: a phone on a slow line fetches it once.
    security = security_headers(style_hash(pages.css))
    app.add_middleware(SecurityHeaders, headers=security, static_cache=b"public, max-age=86400")
    app.public = PublicPages(
        desk=desk,
        pages=pages,
        limiter=limiter,
        metrics=metrics,
        public_url=settings.public_url,
        security=security,
    )
    app.include_router(tally_api.router(runtime, settings))
    return app
