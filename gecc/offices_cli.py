"""``gecc offices ...``: the names of the parent offices centers report through, run by
OPS/PMO operators against intake's database (the office and operator pages show them)."""

from pathlib import Path
from typing import Annotated

import typer

from gecc.cli_database import actor, on_database
from gecc.registry_cli import DatabaseUrl
from services.intake.domain.offices import OfficesFileError, decode_offices, parse_offices
from services.intake.handlers import offices

offices_app = typer.Typer(help="Parent offices' names.", no_args_is_help=True)


@offices_app.command("import")
def import_offices(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="FILE.csv", help="Offices CSV."
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Add new offices and rename changed ones; a file with any error imports nothing.

    Columns: office_path,name_th,name_en (PMO, PMO/BMA, PMO/MOI/DOL ...), UTF-8. Offices
    missing from the file keep their names; `gecc centers generate` writes one beside its
    registry.
    """
    try:
        listed = parse_offices(decode_offices(file.read_bytes()))
    except OfficesFileError as error:
        for wrong in error.errors:
            typer.echo(f"{file}:{wrong.line}: {wrong.field}: {wrong.reason}", err=True)
        typer.echo(f"nothing imported: {len(error.errors)} error(s)", err=True)
        raise typer.Exit(1) from None
    added, renamed = on_database(
        "intake", database_url, lambda conn: offices.import_offices(conn, listed, actor())
    )
    typer.echo(f"{len(listed)} offices: {added} new, {renamed} renamed")
