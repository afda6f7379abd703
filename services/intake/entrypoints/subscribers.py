from services.intake import handlers
from shared.events import Envelope, SubmissionReceived, SubmissionScored
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


def register(runtime: ServiceRuntime) -> None:
    runtime.subscribe(Topic.SUBMISSION_SCORED, Envelope[SubmissionScored], handlers.note_score)
    runtime.publishes(
        Topic.SUBMISSION_RECEIVED,
        Envelope[SubmissionReceived],
        "A center's submission version was accepted (with its full report); key: center id.",
    )
