"""The AsyncAPI document of the whole system, from the services' FastStream brokers."""

import json
from importlib.metadata import version

from faststream.specification import AsyncAPI

from services.export.app import build_runtime as export_runtime
from services.export.settings import ExportSettings
from services.intake.app import build_runtime as intake_runtime
from services.intake.settings import IntakeSettings
from services.notifier.app import build_runtime as notifier_runtime
from services.notifier.settings import NotifierSettings
from services.scoring.app import build_runtime as scoring_runtime
from services.scoring.settings import ScoringSettings
from services.survey.app import build_runtime as survey_runtime
from services.survey.settings import SurveySettings


def asyncapi_document() -> str:
    # Built from defaults only (no namespace), so the document names the production topics.
    brokers = [
        intake_runtime(IntakeSettings(_env_file=None, topic_namespace="")).broker,
        scoring_runtime(ScoringSettings(_env_file=None, topic_namespace="")).broker,
        notifier_runtime(NotifierSettings(_env_file=None, topic_namespace="")).broker,
        export_runtime(ExportSettings(_env_file=None, topic_namespace="")).broker,
        # One of its consumers: they share one subscription.
        survey_runtime(
            SurveySettings(_env_file=None, topic_namespace="", tallier_consumers=1)
        ).broker,
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
