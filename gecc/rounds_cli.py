"""``gecc rounds ...``: operators' round commands that are not HTTP calls."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry

from gecc.stack.config import StackConfig
from services.scoring import admin
from services.scoring.metrics import ScoringMetrics
from services.scoring.settings import ScoringSettings
from shared.database import connect
from shared.standards import StandardError, default_standards_dir, load_catalog

rounds_app = typer.Typer(help="Rounds: re-scoring.", no_args_is_help=True)


@rounds_app.command("rescore")
def rescore(
    round_id: Annotated[str, typer.Argument(metavar="ROUND", help="e.g. FY2570-H1")],
    standard: Annotated[
        str | None, typer.Option(help="Only submissions that name this standard.")
    ] = None,
    standards_dir: Annotated[
        Path | None, typer.Option(help="Where the standard definitions are (default: standards/).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="GECC_SCORING_DATABASE_URL",
            show_default=False,
            help="scoring's database. Default: the local stack's.",
        ),
    ] = None,
) -> None:
    """Score a round's latest versions again with the standards as they are now (after a
    correction); a new score version is published only where the result changed."""
    try:
        catalog = load_catalog(standards_dir or default_standards_dir())
    except StandardError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    config = StackConfig.from_env()
    url = database_url or config.service_dsn("scoring")

    async def run() -> admin.Rescored:
        conn = await connect(url)
        try:
            async with conn.transaction():
                return await admin.rescore_round(
                    conn,
                    catalog,
                    round_id,
                    ScoringMetrics(CollectorRegistry()),
                    ScoringSettings().clock().now(),
                    standard,
                )
        finally:
            await conn.close()

    result = asyncio.run(run())
    typer.echo(
        f"{round_id}: {result.checked} checked, {len(result.changed)} changed"
        + (
            f" ({', '.join(result.changed[:20])}{' ...' if len(result.changed) > 20 else ''})"
            if result.changed
            else ""
        )
    )
