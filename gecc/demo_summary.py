"""The table and the pointers `gecc demo` ends with."""

from gecc.demo import DAY_SECONDS, DEMO_ROUND, DemoResult
from gecc.demo_portal import HANDS_ON_ROUND
from gecc.stack.config import StackConfig
from shared.thai import thai_date
from shared.topics import SERVICES

MESSAGE_KINDS = ("receipt", "result", "reminder", "overdue", "office_summary", "operator_summary")


def render(config: StackConfig, result: DemoResult) -> str:
    missing = result.centers - result.submitted
    export = result.export
    rows = [
        (
            "round",
            f"{DEMO_ROUND}, due {thai_date(result.due_at)}, closed {thai_date(result.closes_at)}",
        ),
        ("centers in the registry", f"{result.centers:,}"),
        ("submitted", f"{result.submitted:,} ({result.submitted / result.centers:.0%})"),
        ("  of them late", f"{result.late:,}"),
        ("  amended (2 versions)", f"{result.amended:,}"),
        ("missing", f"{missing:,}"),
        (
            "reports refused",
            ", ".join(f"{n} x HTTP {s}" for s, n in result.refused.items()) or "none",
        ),
        *[(f"verdict {v}", f"{n:,}") for v, n in sorted(result.verdicts.items())],
        *[(f"e-mail {kind}", f"{result.messages.get(kind, 0):,} sent") for kind in MESSAGE_KINDS],
        ("e-mail still pending", f"{result.messages_pending:,}"),
        ("export", _export(export)),
        ("took", f"{result.real_seconds:.0f} s real time (one virtual day = {DAY_SECONDS:g} s)"),
    ]
    width = max(len(label) for label, _ in rows)
    table = "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)
    intake = f"http://{config.service_address('intake')}"
    files = config.exports_dir / DEMO_ROUND / export["export_id"] if export else "(no export)"
    metrics = "\n".join(
        f"  {name:<9}      http://{config.service_address(name)}/metrics" for name in SERVICES
    )
    auth = f"-H 'Authorization: Bearer {result.operator_token}'"
    prometheus = (
        f"  prometheus     http://127.0.0.1:{config.prometheus_port}/alerts (rules and graphs)"
        if config.prometheus_bin
        else "  prometheus     not installed (apt-get install prometheus): deploy/prometheus/ has"
        " the rules"
    )
    return f"""
Demo round finished.
{table}

The portal (centers report; parent offices follow them; OPS/PMO runs the rounds), Thai
first with English in the header:
  address        http://{config.service_address("portal")}
{_links(result)}
{_survey(result)}
  the office     its link opens the completeness of {DEMO_ROUND}: drill down to each unit
                 and center, the missing, late and follow-up lists, CSV and XLSX
  the operator   its link opens {DEMO_ROUND}: its dates, extensions and exports; the audit log
                 and accounts are in the menu
  the mail       every sign-in link also lands in {config.mail_dir}; ask for a new one on the
                 portal's sign-in page with the same address (a link works once, 15 minutes)

Where to look:
  export files   {files}/records.csv (UTF-8 with BOM: Thai opens intact in Excel),
                 records.xlsx, records.jsonl, manifest.json
  PMO receiver   {config.pmo_dir}  (one JSON file per batch); the round's view:
                 GET {config.pmo_url}/gecc/v1/rounds/{DEMO_ROUND}/records, signed
                 with GECC_PMO_SECRET over its path (docs/local-stack.md: "The PMO receiver")
  mail (SMTP)    {config.mail_dir}  (one .eml file per message)
  API (OpenAPI)  {intake}/docs
  a submission   curl {auth} \\
                   {result.example_submission}
  completeness   curl {auth} \\
                   '{intake}/v1/rounds/{DEMO_ROUND}/completeness?format=csv'
  exports        curl {auth} {intake}/v1/rounds/{DEMO_ROUND}/exports
  metrics
{metrics}
{prometheus}
  logs           {config.logs_dir}
  database       psql {config.postgres_url("postgres", config.database)}
  stack          gecc stack status | gecc stack down  (the stack keeps running, now on real
                 time, until then)
"""


def _links(result: DemoResult) -> str:
    lines = []
    for link in result.sign_in_links:
        lines.append(f"  sign in as     {link.who} ({link.email}):")
        lines.append(f"                 {link.link}")
    if result.hands_on_due is not None:
        lines.append(
            f"  report by hand {HANDS_ON_ROUND} is open until {thai_date(result.hands_on_due)}:"
            " fill in the form, attach photos\n                 and PDFs to checklist items,"
            " send it; the receipt is in the mail folder, the verdict\n                 on the"
            ' page; the office opens the files; the operator\'s "export now" lists them'
            "\n                 with their SHA-256 (and delivers them to the PMO receiver)"
        )
    return "\n".join(lines)


def _survey(result: DemoResult) -> str:
    """The citizen survey: what the generated citizens did, and where to try it by hand."""
    survey = result.survey
    refused = ", ".join(f"{n} x HTTP {s}" for s, n in survey.refused.items()) or "none refused"
    if survey.report_responses:
        report = (
            f"{survey.report_center}'s report took its figures from the survey"
            f" ({survey.report_responses:,} responses)"
        )
    else:
        report = (
            f"{survey.report_center}'s report from the survey was not taken:"
            f" {survey.report_refused}"
        )
    return "\n".join(
        [
            f"  survey         {survey.answered:,} generated citizens answered at"
            f" {', '.join(survey.centers)} ({refused});",
            f"                 {report}",
            f"  survey page    {result.survey_page}",
            "                 open it on a phone (or a narrow window), answer, and watch the"
            " tally move on the",
            "                 center's rounds page and report form in the portal (its sign-in"
            " link above)",
            f"  poster         {result.poster}",
            "                 the A4 poster with the QR code, for the center and its office"
            " (signed in)",
        ]
    )


def _export(export: dict[str, object]) -> str:
    if not export:
        return "none"
    return (
        f"{export['state']}: {export['records']:,} records in {export['batches']} batches,"
        f" {export['batches_acknowledged']} acknowledged, {export['attempts']} attempt(s);"
        f" PMO counts {export['acknowledged']}"
    )
