"""``gecc recipients ...``: who else hears from the notifier (parent offices, operators,
webhooks), kept by OPS/PMO operators in the notifier's database."""

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from gecc.cli_database import on_database
from gecc.cli_output import echo_table
from services.intake.domain.registry_file import (
    RegistryFileError,
    decode_registry,
    parse_registry,
)
from services.notifier import admin
from services.notifier.domain.recipients_file import (
    RecipientsFileError,
    decode_recipients,
    demo_recipients,
    format_recipients,
    parse_recipients,
)
from shared.sheets import RowError

recipients_app = typer.Typer(
    help="Who else hears from the notifier: parent offices, operators, webhooks.",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        envvar="GECC_NOTIFIER_DATABASE_URL",
        help="notifier's database. Default: the local stack's (gecc stack up).",
        show_default=False,
    ),
]


@recipients_app.command("import")
def import_recipients(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="FILE.csv", help="Recipients CSV."
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Add new recipients and update changed secrets; a file with any error imports nothing.

    Columns: owner,channel,address,secret, UTF-8. owner is 'operators', 'office:PMO/...' or
    'center:CODE'; channel 'email' (secret empty) or 'webhook' (an https:// URL and the
    secret its receiver checks signatures with). Recipients missing from the file are kept.
    """
    try:
        recipients = parse_recipients(decode_recipients(file.read_bytes()))
    except RecipientsFileError as error:
        _refuse(file, error.errors)
    inserted, updated = on_database(
        "notifier", database_url, lambda conn: admin.import_recipients(conn, recipients)
    )
    typer.echo(f"{len(recipients)} recipients: {inserted} new, {updated} updated")


@recipients_app.command("list")
def list_recipients(database_url: DatabaseUrl = None) -> None:
    """Every recipient; a webhook's secret only as a SHA-256 fingerprint."""
    recipients = on_database("notifier", database_url, admin.list_recipients)
    if not recipients:
        typer.echo("no recipients: add them with `gecc recipients import FILE.csv`")
        return
    echo_table(
        ("OWNER", "CHANNEL", "ADDRESS", "SECRET"),
        [
            (
                r.owner,
                r.channel,
                r.address,
                f"sha256:{r.secret_fingerprint}" if r.secret_fingerprint else "-",
            )
            for r in recipients
        ],
    )


@recipients_app.command("generate")
def generate_recipients(
    registry: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            metavar="FILE.csv",
            help="A registry CSV (gecc centers generate).",
        ),
    ],
    out: Annotated[Path, typer.Option(dir_okay=False, help="Where to write the CSV.")],
) -> None:
    """Write made-up e-mail recipients for a registry's offices, for demos and tests.

    One mailbox per parent office its centers report to (PMO/MOI/DOL:
    saraban.moi.dol@gecc.example.go.th), plus the operators' desk; the same registry gives
    the same file.
    """
    try:
        centers = parse_registry(decode_registry(registry.read_bytes()))
    except RegistryFileError as error:
        _refuse(registry, error.errors, "nothing written")
    try:
        recipients = demo_recipients(center.office_path for center in centers)
    except ValueError as error:  # an office path too long for a mailbox
        typer.echo(f"{registry}: office_path: {error}", err=True)
        typer.echo("nothing written: 1 error(s)", err=True)
        raise typer.Exit(1) from None
    out.write_text(format_recipients(recipients), encoding="utf-8", newline="")
    offices = len(recipients) - 1
    typer.echo(f"wrote {len(recipients)} recipients ({offices} offices and the operators) to {out}")


def _refuse(file: Path, errors: Sequence[RowError], outcome: str = "nothing imported") -> NoReturn:
    for wrong in errors:
        typer.echo(f"{file}:{wrong.line}: {wrong.field}: {wrong.reason}", err=True)
    typer.echo(f"{outcome}: {len(errors)} error(s)", err=True)
    raise typer.Exit(1)
