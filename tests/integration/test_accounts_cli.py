"""`gecc accounts` and the registry's contacts against intake's real database: an accounts
file imports all or nothing with every error named, contact addresses are center
memberships that follow the registry, and a disabled account keeps no session."""

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.intake.adapters import sign_in
from services.intake.domain.accounts import Scope
from services.intake.domain.accounts_file import COLUMNS
from services.intake.domain.centers import Center
from tests.integration.test_registry_cli import gecc, read_registry, with_contacts
from tests.support.isolation import Isolated


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def centers(isolated: Isolated, tmp_path: Path) -> list[Center]:
    """A registry of 20 centers imported, each with its contact address."""
    registry = tmp_path / "registry.csv"
    generate = ["centers", "generate", "--count", "20", "--seed", "7", "--out", str(registry)]
    assert (await gecc(*generate)).exit_code == 0
    url = isolated.service_url("intake")
    assert (await gecc("centers", "import", str(registry), "--database-url", url)).exit_code == 0
    return read_registry(registry)


def accounts_file(tmp_path: Path, *rows: str) -> Path:
    file = tmp_path / "accounts.csv"
    file.write_text("\r\n".join((",".join(COLUMNS), *rows)) + "\r\n", encoding="utf-8")
    return file


async def memberships(conn: asyncpg.Connection) -> set[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT a.email, m.scope, m.source FROM memberships m"
        " JOIN accounts a ON a.id = m.account_id"
    )
    return {(row["email"], row["scope"], row["source"]) for row in rows}


async def audited(conn: asyncpg.Connection, action: str) -> list[tuple[str, str, dict[str, str]]]:
    rows = await conn.fetch(
        "SELECT actor, target, details FROM audit_log WHERE action = $1 ORDER BY id", action
    )
    return [(row["actor"], row["target"], json.loads(row["details"])) for row in rows]


def ministry(center: Center) -> str:
    return "/".join(center.office_path.split("/")[:2])  # an ancestor office, like PMO/MOI


async def test_an_accounts_file_imports_all_or_nothing_naming_every_error(
    isolated: Isolated, intake: asyncpg.Connection, centers: list[Center], tmp_path: Path
) -> None:
    url = isolated.service_url("intake")
    office = ministry(centers[0])
    registry_only = await memberships(intake)
    wrong_cells = accounts_file(
        tmp_path,
        f"saraban@moi.go.th,office,{office}",
        "ops@opdc.go.th,operators,operators",
        "not an address,office,PMO",
    )
    refused = await gecc("accounts", "import", str(wrong_cells), "--database-url", url)
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"{wrong_cells}:3: role: 'operators' is not a role: center, office, operator",
        f"{wrong_cells}:4: email: 'not an address' is not an e-mail address: "
        "An email address must have an @-sign.",
        f"{wrong_cells}:4: scope: 'PMO' is not an office path: like PMO/MOI/DOL"
        " (capital letters, digits and '-')",
        "nothing imported: 3 error(s)",
    ]
    unknown_to_the_registry = accounts_file(
        tmp_path,
        f"saraban@moi.go.th,office,{office}",
        "ops@opdc.go.th,operator,operators",
        "staff@nowhere.go.th,center,GECC-9999",
        "saraban@moi.go.th,office,PMO/NO-SUCH-OFFICE",
    )
    refused = await gecc("accounts", "import", str(unknown_to_the_registry), "--database-url", url)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"{unknown_to_the_registry}:4: scope: no center GECC-9999 is registered",
        f"{unknown_to_the_registry}:5: scope: no registered center reports through office"
        " PMO/NO-SUCH-OFFICE",
        "nothing imported: 2 error(s)",
    ]
    assert await memberships(intake) == registry_only
    assert await intake.fetchval("SELECT count(*) FROM accounts") == len(centers)

    good = accounts_file(
        tmp_path,
        f"Saraban@MOI.go.th,office,{office}",
        "ops@opdc.go.th,operator,operators",
        f"ops@opdc.go.th,office,{office}",
        f"{centers[0].contact_emails[0]},office,{office}",
    )
    imported = await gecc("accounts", "import", str(good), "--database-url", url)
    again = await gecc("accounts", "import", str(good), "--database-url", url)
    assert imported.stdout == "4 rows: 2 new accounts, 4 new memberships\n", imported.output
    assert again.stdout == "4 rows: 0 new accounts, 0 new memberships\n"
    assert await memberships(intake) - registry_only == {
        ("saraban@moi.go.th", f"office:{office}", "import"),
        ("ops@opdc.go.th", "operators", "import"),
        ("ops@opdc.go.th", f"office:{office}", "import"),
        (centers[0].contact_emails[0], f"office:{office}", "import"),
    }
    created = await audited(intake, "account.create")
    assert [target for _, target, _ in created[-2:]] == [
        "account:ops@opdc.go.th",
        "account:saraban@moi.go.th",
    ]
    added = [
        entry
        for entry in await audited(intake, "account.add_membership")
        if entry[2]["source"] == "import"
    ]
    assert len(added) == 4 and all(actor.startswith("cli:") for actor, _, _ in added)


async def test_contact_addresses_are_center_memberships_that_follow_the_registry(
    isolated: Isolated, intake: asyncpg.Connection, centers: list[Center], tmp_path: Path
) -> None:
    url = isolated.service_url("intake")
    first, second = centers[0], centers[1]
    old_contact = first.contact_emails[0]
    assert (old_contact, f"center:{first.id}", "registry") in await memberships(intake)
    assert len(await memberships(intake)) == len(centers)
    # The same address imported for the center is the file's, not the registry's.
    kept = accounts_file(tmp_path, f"{second.contact_emails[0]},center,{first.id}")
    assert (await gecc("accounts", "import", str(kept), "--database-url", url)).exit_code == 0

    registry = tmp_path / "changed.csv"
    (tmp_path / "registry.csv").replace(registry)
    with_contacts(registry, {0: ("new.contact@bma.go.th", "Another@BMA.go.th"), 1: ()})
    assert (await gecc("centers", "import", str(registry), "--database-url", url)).exit_code == 0

    now = await memberships(intake)
    assert (old_contact, f"center:{first.id}", "registry") not in now
    assert ("new.contact@bma.go.th", f"center:{first.id}", "registry") in now
    assert ("another@bma.go.th", f"center:{first.id}", "registry") in now
    assert (second.contact_emails[0], f"center:{second.id}", "registry") not in now
    assert (second.contact_emails[0], f"center:{first.id}", "import") in now
    removed = await audited(intake, "account.remove_membership")
    assert sorted((target, details["scope"]) for _, target, details in removed) == [
        (f"account:{old_contact}", f"center:{first.id}"),
        (f"account:{second.contact_emails[0]}", f"center:{second.id}"),
    ]
    listed = await gecc("accounts", "list", "--database-url", url)
    row = next(line for line in listed.stdout.splitlines() if line.startswith(old_contact))
    assert re.fullmatch(rf"{re.escape(old_contact)}\s+-\s+yes\s+never", row)


async def test_disabling_an_account_ends_its_sessions_and_shows_in_the_list(
    isolated: Isolated, intake: asyncpg.Connection, centers: list[Center]
) -> None:
    url = isolated.service_url("intake")
    contact = centers[2].contact_emails[0]
    account_id = await intake.fetchval("SELECT id FROM accounts WHERE email = $1", contact)
    now = datetime.now(UTC)
    session = await sign_in.add_session(
        intake,
        "gecc_session_test",
        account_id,
        Scope("center", center_id=centers[2].id),
        "t",
        now + timedelta(hours=8),
    )

    unknown = await gecc("accounts", "disable", "nobody@bma.go.th", "--database-url", url)
    disabled = await gecc(
        "accounts",
        "disable",
        contact.replace("gecc.example.go.th", "GECC.example.GO.TH"),  # normalized as stored
        "--reason",
        "ย้ายหน่วยงาน",
        "--database-url",
        url,
    )
    again = await gecc("accounts", "disable", contact, "--database-url", url)

    assert (unknown.exit_code, unknown.stderr) == (1, "error: no account nobody@bma.go.th\n")
    assert again.exit_code == 1 and "disabled already" in again.stderr
    assert disabled.exit_code == 0, disabled.output
    assert disabled.stdout == f"disabled {contact}; sessions ended: 1\n"
    revoked = await intake.fetchrow(
        "SELECT revoked_at, revoked_by FROM api_tokens WHERE id = $1", session
    )
    assert revoked is not None and revoked["revoked_by"].startswith("cli:")
    listed = await gecc("accounts", "list", "--database-url", url)
    row = next(line for line in listed.stdout.splitlines() if line.startswith(contact))
    assert f"center:{centers[2].id}" in row and " no (since 2" in row
    assert "gecc_session" not in listed.stdout
    [(actor, target, details)] = await audited(intake, "account.disable")
    assert actor.startswith("cli:") and target == f"account:{contact}"
    assert details == {"sessions_ended": 1, "reason": "ย้ายหน่วยงาน"}
