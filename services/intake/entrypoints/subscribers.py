from services.intake.handlers import exports, submissions, survey
from shared.events import (
    CenterRegistered,
    Envelope,
    ExportRequested,
    ExportStatus,
    RoundScheduled,
    SignInRequested,
    SubmissionReceived,
    SubmissionScored,
    SurveyTally,
)
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


def register(runtime: ServiceRuntime) -> None:
    runtime.subscribe(Topic.SUBMISSION_SCORED, Envelope[SubmissionScored], submissions.note_score)
    runtime.subscribe(Topic.EXPORT_STATUS, Envelope[ExportStatus], exports.note_export_status)
    runtime.subscribe_batch(Topic.SURVEY_TALLY, Envelope[SurveyTally], survey.note_tallies)
    runtime.publishes(
        Topic.EXPORT_REQUESTED,
        Envelope[ExportRequested],
        "An operator asked for a round's export now; key: round id.",
    )
    runtime.publishes(
        Topic.SUBMISSION_RECEIVED,
        Envelope[SubmissionReceived],
        "A center's submission version was accepted (with its full report); key: center id.",
    )
    runtime.publishes(
        Topic.ROUND_SCHEDULED,
        Envelope[RoundScheduled],
        "A round's schedule as it now stands (new, dates changed, or again at intake's"
        " start); key: round id; compacted.",
    )
    runtime.publishes(
        Topic.SIGN_IN_REQUESTED,
        Envelope[SignInRequested],
        "A person asked to sign in with an enabled account's address: the one-time code for"
        " the notifier's e-mail; key: the address; kept an hour.",
    )
    runtime.publishes(
        Topic.CENTER_REGISTERED,
        Envelope[CenterRegistered],
        "A certified center as the registry now has it (new or changed); key: center id;"
        " compacted.",
    )
