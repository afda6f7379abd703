"""``gecc centers ...`` and ``gecc tokens ...``: the registry and API credentials, run by
OPS/PMO operators against intake's database."""

import dataclasses
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from gecc.cli_database import actor, fail, on_database
from gecc.cli_output import bangkok_time, echo_table
from gecc.registry_generator import CENTERS_2022, generate_registry, generated_offices
from services.intake import admin
from services.intake.domain.centers import Center
from services.intake.domain.offices import format_offices
from services.intake.domain.principals import Role
from services.intake.domain.registry_file import (
    RegistryFileError,
    decode_registry,
    format_registry,
    parse_registry,
)

centers_app = typer.Typer(help="The registry of certified centers.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API tokens of centers, parent offices and operators.", no_args_is_help=True
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        envvar="GECC_INTAKE_DATABASE_URL",
        help="intake's database. Default: the local stack's (gecc stack up).",
        show_default=False,
    ),
]
CONTACT_DOMAIN = "gecc.example.go.th"


@centers_app.command("import")
def import_centers(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="FILE.csv", help="Registry CSV."
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Add new centers and update changed ones; a file with any error imports nothing.

    Columns: code,name_th,name_en,office_path,province,contact_emails,certified_until
    (e-mails separated by ';', date as YYYY-MM-DD or empty), UTF-8.
    """
    try:
        centers = parse_registry(decode_registry(file.read_bytes()))
    except RegistryFileError as error:
        for wrong in error.errors:
            typer.echo(f"{file}:{wrong.line}: {wrong.field}: {wrong.reason}", err=True)
        typer.echo(f"nothing imported: {len(error.errors)} error(s)", err=True)
        raise typer.Exit(1) from None
    inserted, updated = on_database(
        "intake", database_url, lambda conn: admin.register_centers(conn, centers, actor())
    )
    typer.echo(f"{len(centers)} centers: {inserted} new, {updated} updated")


@centers_app.command("generate")
def generate_centers(
    out: Annotated[Path, typer.Option(dir_okay=False, help="Where to write the CSV.")],
    count: Annotated[int, typer.Option(min=0, help="Centers in the registry.")] = CENTERS_2022,
    seed: Annotated[int, typer.Option(help="Same seed, same registry.")] = 2570,
) -> None:
    """Write a realistic made-up registry (the 2022 shape at 1,343 centers), for demos and
    tests, and beside it the names of its offices (OUT-offices.csv, for gecc offices import)."""
    centers = [_with_contact(center) for center in generate_registry(count, seed)]
    out.write_text(format_registry(centers), encoding="utf-8", newline="")
    typer.echo(f"wrote {len(centers)} centers to {out}")
    offices = generated_offices(centers)
    offices_out = offices_file_beside(out)
    offices_out.write_text(format_offices(offices), encoding="utf-8", newline="")
    typer.echo(f"wrote {len(offices)} offices to {offices_out}")


def offices_file_beside(registry: Path) -> Path:
    """Where ``gecc centers generate`` writes the offices of a registry file."""
    return registry.with_name(f"{registry.stem}-offices{registry.suffix or '.csv'}")


@tokens_app.command("issue")
def issue_token(
    center: Annotated[str | None, typer.Option(help="For this center (its code).")] = None,
    office: Annotated[
        str | None, typer.Option(help="For this parent office (its path, e.g. PMO/MOI/DOL).")
    ] = None,
    operator: Annotated[bool, typer.Option("--operator", help="For an OPS/PMO operator.")] = False,
    label: Annotated[str, typer.Option(help="Who or what the token is for.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Issue a token for one center, one office or an operator, and print it once."""
    if [center is not None, office is not None, operator].count(True) != 1:
        raise typer.BadParameter(
            "give exactly one of them", param_hint="--center / --office / --operator"
        )
    kind: Role = "center" if center is not None else "office" if office is not None else "operator"
    try:
        issued = on_database(
            "intake",
            database_url,
            lambda conn: admin.issue_token(conn, kind, center, office, label, actor()),
        )
    except LookupError as error:
        fail(str(error))
    typer.echo(f"id     {issued.id}\ntoken  {issued.token}")
    typer.echo("Store the token now: only its hash is kept, it cannot be shown again.", err=True)


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[UUID, typer.Argument(help="The token's id (gecc tokens list).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a token: it stops working at once."""
    if not on_database(
        "intake", database_url, lambda conn: admin.revoke_token(conn, token_id, actor())
    ):
        fail(f"no token {token_id}, or it is revoked already")
    typer.echo(f"revoked {token_id}")


@tokens_app.command("list")
def list_tokens(database_url: DatabaseUrl = None) -> None:
    """Every token with what it is for (never the token itself); times in Bangkok time."""
    tokens = on_database("intake", database_url, admin.list_tokens)
    echo_table(
        ("ID", "KIND", "CENTER/OFFICE", "LABEL", "PREFIX", "CREATED", "REVOKED"),
        [
            (
                str(t.id),
                t.kind,
                t.center_id or t.office_path or "-",
                t.label or "-",
                t.prefix or "-",
                bangkok_time(t.created_at),
                bangkok_time(t.revoked_at) if t.revoked_at else "-",
            )
            for t in tokens
        ],
    )


def _with_contact(center: Center) -> Center:
    address = f"{center.id.lower()}@{CONTACT_DOMAIN}"
    return dataclasses.replace(center, contact_emails=(address,))
