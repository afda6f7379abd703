"""The table and the pointers `gecc demo` ends with."""

from gecc.demo import DEMO_ROUND, DemoResult
from gecc.stack.config import StackConfig
from shared.topics import SERVICES


def render(config: StackConfig, result: DemoResult) -> str:
    missing = result.centers - result.submitting
    rate = result.posted / result.post_seconds if result.post_seconds else 0.0
    rows = [
        ("round", DEMO_ROUND),
        ("centers in the registry", f"{result.centers:,}"),
        ("centers that submitted", f"{result.submitting:,}"),
        ("centers missing", f"{missing:,}"),
        ("amendments (version 2)", f"{result.amended:,}"),
        (
            "submissions accepted",
            f"{result.posted:,} in {result.post_seconds:.1f} s ({rate:.0f}/s)",
        ),
        ("refused", ", ".join(f"{n} x HTTP {s}" for s, n in result.refused.items()) or "none"),
        ("all scored after", f"{result.scored_seconds:.1f} s"),
        ("received -> scored", f"p50 {result.lag_p50_ms:.0f} ms, p99 {result.lag_p99_ms:.0f} ms"),
        *[(f"verdict {v}", f"{n:,}") for v, n in sorted(result.verdicts.items())],
        *[(f"messages {k}", f"{n:,}") for k, n in sorted(result.messages.items())],
        ("messages still pending", f"{result.messages_pending:,}"),
    ]
    width = max(len(label) for label, _ in rows)
    table = "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)
    intake = f"http://{config.service_address('intake')}"
    metrics = "\n".join(
        f"  {name:<9} http://{config.service_address(name)}/metrics" for name in SERVICES
    )
    return f"""
Demo round finished.
{table}

Where to look:
  API (OpenAPI)  {intake}/docs
  a submission   curl -H 'Authorization: Bearer {result.operator_token}' \\
                   {result.example_submission}
  completeness   curl -H 'Authorization: Bearer {result.operator_token}' \\
                   '{intake}/v1/rounds/{DEMO_ROUND}/completeness?format=csv'
  metrics
{metrics}
  mail (SMTP)    {config.mail_dir}  (one .eml file per message)
  logs           {config.logs_dir}
  database       psql {config.postgres_url("postgres", config.database)}
  stack          gecc stack status | gecc stack down  (the stack keeps running)
"""
