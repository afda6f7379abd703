"""The AsyncAPI document of the whole system, from the services' FastStream brokers."""

import json
from importlib.metadata import version
from typing import Any

from faststream.specification import AsyncAPI

from services.export.app import build_runtime as export_runtime
from services.export.settings import ExportSettings
from services.intake.app import build_runtime as intake_runtime
from services.intake.settings import IntakeSettings
from services.notifier.app import build_runtime as notifier_runtime
from services.notifier.settings import NotifierSettings
from services.scoring.app import build_runtime as scoring_runtime
from services.scoring.settings import ScoringSettings
from services.survey.app import build_described_runtime as survey_runtime
from services.survey.settings import SurveySettings

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def asyncapi_document() -> str:
    # Built from defaults only (no namespace, the local broker's address whatever the
    # environment says), so the document names the production topics.
    fixed: dict[str, Any] = {
        "_env_file": None,
        "topic_namespace": "",
        "kafka_bootstrap": DEFAULT_BOOTSTRAP,
    }
    brokers = [
        intake_runtime(IntakeSettings(**fixed)).broker,
        scoring_runtime(ScoringSettings(**fixed)).broker,
        notifier_runtime(NotifierSettings(**fixed)).broker,
        export_runtime(ExportSettings(**fixed)).broker,
        # With one of its tallier's consumers: they share one subscription.
        survey_runtime(SurveySettings(**fixed, tallier_consumers=1)).broker,
    ]
    spec = AsyncAPI(
        *brokers,
        title="GECC maintenance reporting events",
        version=version("gecc"),
        description=(
            "Events between the intake, scoring, notifier, export and survey services. Every "
            "message is an envelope (event_id, event_type, occurred_at, producer, "
            "schema_version, data); consumers de-duplicate on event_id. Submission events and "
            "survey responses are keyed by center id, round events by round id, survey "
            "tallies by center id/round id."
        ),
    )
    return (
        json.dumps(
            spec.to_specification().to_jsonable(), indent=2, ensure_ascii=False, sort_keys=True
        )
        + "\n"
    )
