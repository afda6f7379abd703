"""``gecc stack ...``: the local stack from the command line."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from gecc.stack import stack
from gecc.stack.config import StackConfig
from gecc.stack.errors import StackError
from gecc.stack.stack import Health

app = typer.Typer(
    help=(
        "Run the SMTP sink, the PMO receiver, PostgreSQL, Kafka, the five services and, where it "
        "is installed, Prometheus locally, under $GECC_HOME."
    ),
    no_args_is_help=True,
)


@contextmanager
def failing_cleanly() -> Iterator[None]:
    try:
        yield
    except StackError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@app.command()
def up(
    services: Annotated[
        bool, typer.Option("--services/--no-services", help="Also start the five services.")
    ] = True,
) -> None:
    """Start everything not already running; safe to run again.

    Mail the notifier sends lands in $GECC_HOME/mail/ (the SMTP sink), exports the export
    service pushes in $GECC_HOME/pmo/ (the PMO receiver on GECC_PMO_PORT, default 8090); both
    also with --no-services. Where Prometheus is installed (`prometheus` on the PATH, or
    GECC_PROMETHEUS_BIN), it scrapes the services and evaluates deploy/prometheus/alerts.yml on
    GECC_PROMETHEUS_PORT (default 9090), its data in $GECC_HOME/prometheus/.
    """
    with failing_cleanly():
        stack.up(StackConfig.from_env(), services=services)


@app.command()
def status() -> None:
    """Show each recorded component; exit 1 if one is not running and healthy."""
    with failing_cleanly():
        report = stack.status(StackConfig.from_env())
    if not report:
        typer.echo("nothing recorded as running: start it with `gecc stack up`")
        return
    rows = [("COMPONENT", "PID", "ADDRESS", "STATE", "DETAIL")]
    rows += [(c.name, str(c.pid), c.address, c.state.value, c.detail) for c in report]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())
    if any(c.state is not Health.RUNNING for c in report):
        raise typer.Exit(1)


@app.command()
def down() -> None:
    """Stop what `up` started and clear the recorded state; safe to run again."""
    with failing_cleanly():
        stack.down(StackConfig.from_env())
