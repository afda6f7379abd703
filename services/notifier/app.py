import asyncio

import httpx
from fastapi import FastAPI

from services.notifier import handlers
from services.notifier.adapters.mail import SmtpSender
from services.notifier.adapters.webhook import WebhookSender
from services.notifier.entrypoints import subscribers
from services.notifier.entrypoints.clock import RoundClock
from services.notifier.entrypoints.sender import Sender, keep_ledger_counted
from services.notifier.metrics import NotifierMetrics
from services.notifier.settings import NotifierSettings
from shared.messaging.runtime import ServiceRuntime
from shared.service.http import service_app


def build_runtime(settings: NotifierSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(settings)
    metrics = NotifierMetrics(runtime.registry)
    subscribers.register(runtime, metrics, settings.portal_url)

    async def round_clock(runtime: ServiceRuntime) -> None:
        await RoundClock(runtime.pool, runtime.clock, metrics, settings.round_clock()).run()

    async def sender(runtime: ServiceRuntime) -> None:
        mail = SmtpSender(settings.smtp(), max_idle=settings.delivery_concurrency)
        try:
            async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
                webhooks = WebhookSender(client)
                await Sender(runtime.pool, mail, webhooks, metrics, settings.sender()).run()
        finally:
            await mail.close()

    async def held_notices(runtime: ServiceRuntime) -> None:
        while True:
            async with runtime.pool.acquire() as conn, conn.transaction():
                await handlers.release_ready(conn, metrics)
            await asyncio.sleep(settings.held_sweep_seconds)

    runtime.in_background("round-clock", round_clock)
    runtime.in_background("held-notices", held_notices)
    runtime.in_background("sender", sender)

    async def ledger_counts(runtime: ServiceRuntime) -> None:
        await keep_ledger_counted(runtime.pool, metrics, settings.delivery_ledger_count_seconds)

    runtime.in_background("ledger-counts", ledger_counts)
    return runtime


def create_app(settings: NotifierSettings) -> FastAPI:
    return service_app(
        build_runtime(settings),
        "GECC notifier",
        "The round clock and the messages to centers, parent offices and operators.",
    )
