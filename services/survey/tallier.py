"""``python -m services.survey.tallier``: the tallier's process, started and supervised by
the survey's (``entrypoints/tallier.run_beside``), its settings on stdin; it reports its
metrics and whether it reached Kafka twice a second on stdout."""

import asyncio
import logging

import uvloop

from services.survey.app import build_tallier_runtime
from services.survey.settings import SurveySettings
from shared.messaging.runtime import ServiceRuntime
from shared.service.child_metrics import families
from shared.service.child_process import read_settings, report, until_told_to_stop

REPORT_INTERVAL_SECONDS = 0.5


async def report_forever(runtime: ServiceRuntime) -> None:
    while True:
        state = "ok" if runtime.kafka_connected else "connecting"
        report({"kafka": state, "metrics": families(runtime.registry)})
        await asyncio.sleep(REPORT_INTERVAL_SECONDS)


async def serve(settings: SurveySettings) -> None:
    runtime = build_tallier_runtime(settings)
    await runtime.start(relay=False)  # the survey's process relays the outbox
    reporting = asyncio.create_task(report_forever(runtime))
    try:
        await until_told_to_stop()
    finally:
        reporting.cancel()
        await runtime.stop()


def main() -> None:
    settings = SurveySettings.model_validate_json(read_settings())
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s survey-tallier %(name)s: %(message)s",
    )
    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
