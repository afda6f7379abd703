from services.export import handlers
from shared.events import (
    CenterRegistered,
    Envelope,
    ExportRequested,
    ExportStatus,
    RoundClosed,
    SubmissionReceived,
    SubmissionScored,
)
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


def register(runtime: ServiceRuntime) -> None:
    runtime.subscribe_batch(
        Topic.SUBMISSION_RECEIVED, Envelope[SubmissionReceived], handlers.keep_submissions
    )
    runtime.subscribe_batch(
        Topic.SUBMISSION_SCORED, Envelope[SubmissionScored], handlers.keep_scores
    )
    runtime.subscribe(Topic.CENTER_REGISTERED, Envelope[CenterRegistered], handlers.keep_center)
    runtime.subscribe(Topic.ROUND_CLOSED, Envelope[RoundClosed], handlers.export_closed_round)
    runtime.subscribe(Topic.EXPORT_REQUESTED, Envelope[ExportRequested], handlers.export_on_request)
    runtime.publishes(
        Topic.EXPORT_STATUS,
        Envelope[ExportStatus],
        "Where an export to OPS/PMO stands, at each change; key: export id; compacted.",
    )
