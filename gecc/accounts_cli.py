"""``gecc accounts ...``: the people who sign in to the portal, run by OPS/PMO operators
against intake's database. Center accounts come from the registry (``gecc centers
import``); office and operator accounts from a file."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gecc.cli_database import actor, fail, on_database
from gecc.cli_output import bangkok_time, echo_table
from gecc.registry_cli import DatabaseUrl
from services.intake.adapters.accounts import AccountInfo
from services.intake.domain.accounts import account_email
from services.intake.domain.accounts_file import (
    AccountsFileError,
    decode_accounts,
    parse_accounts,
)
from services.intake.handlers import accounts
from shared.email_addresses import NotAnEmailAddress

accounts_app = typer.Typer(
    help="People's accounts for the portal: centers, parent offices, operators.",
    no_args_is_help=True,
)


@accounts_app.command("import")
def import_accounts(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="FILE.csv", help="Accounts CSV."
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Add the file's accounts and memberships; a file with any error imports nothing.

    Columns: email,role,scope, UTF-8. role is center, office or operator; scope a center's
    code, an office path (of or above a registered center, like PMO/BMA) or 'operators'.
    Memberships missing from the file are kept (disable an account to end its access).
    """
    try:
        listed = parse_accounts(decode_accounts(file.read_bytes()))
        added = on_database(
            "intake", database_url, lambda conn: accounts.import_accounts(conn, listed, actor())
        )
    except AccountsFileError as error:
        for wrong in error.errors:
            typer.echo(f"{file}:{wrong.line}: {wrong.field}: {wrong.reason}", err=True)
        typer.echo(f"nothing imported: {len(error.errors)} error(s)", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{len(listed)} rows: {added.accounts_added} new accounts,"
        f" {added.memberships_added} new memberships"
    )


@accounts_app.command("list")
def list_accounts(database_url: DatabaseUrl = None) -> None:
    """Every account with what it may act as, whether it is enabled and when it last signed
    in (Bangkok time); never a token or a code."""
    found = on_database("intake", database_url, accounts.list_accounts)
    if not found:
        typer.echo("no accounts: import the registry or an accounts file")
        return
    header = ("EMAIL", "MEMBERSHIPS", "ENABLED", "LAST SIGN-IN")
    echo_table(
        header,
        [
            (
                account.email,
                " ".join(account.scopes) or "-",
                _enabled(account),
                bangkok_time(account.last_signed_in_at) if account.last_signed_in_at else "never",
            )
            for account in found
        ],
    )


@accounts_app.command("disable")
def disable_account(
    email: Annotated[str, typer.Argument(help="The account's e-mail address.")],
    reason: Annotated[
        str | None, typer.Option(help="Why (kept in the audit log, as the portal's form does).")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Disable an account: it can no longer sign in, and its sessions end at once."""
    try:
        address = account_email(email)
    except NotAnEmailAddress as error:
        fail(str(error))
    try:
        ended = on_database(
            "intake",
            database_url,
            lambda conn: accounts.disable_account(
                conn, address, actor(), datetime.now(UTC), reason
            ),
        )
    except accounts.AccountNotFound:
        fail(f"no account {address}")
    if ended is None:
        fail(f"{address} is disabled already")
    typer.echo(f"disabled {address}; sessions ended: {ended}")


def _enabled(account: AccountInfo) -> str:
    if account.disabled_at is None:
        return "yes"
    return f"no (since {bangkok_time(account.disabled_at)})"
