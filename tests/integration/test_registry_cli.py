"""`gecc centers` and `gecc tokens` against intake's real database."""

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from gecc.cli import app
from services.intake.adapters.repository import principal_for, token_hash
from services.intake.domain.centers import Center
from services.intake.domain.registry_file import format_registry, parse_registry
from tests.support.email_addresses import THAI_DOMAIN, THAI_DOMAIN_ASCII, THAI_LOCAL_PART
from tests.support.isolation import Isolated


async def gecc(*args: str) -> Result:
    # In a thread: the command runs its own event loop with asyncio.run.
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args)))


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    file = tmp_path / "registry.csv"
    generate = ["centers", "generate", "--count", "50", "--seed", "7", "--out", str(file)]
    generated = CliRunner().invoke(app, generate)
    assert generated.exit_code == 0, generated.output
    return file


def read_registry(file: Path) -> list[Center]:
    return parse_registry(file.read_text(encoding="utf-8"))


def rename_one(file: Path, index: int, name_en: str) -> Center:
    centers = read_registry(file)
    centers[index] = dataclasses.replace(centers[index], name_en=name_en)
    file.write_text(format_registry(centers), encoding="utf-8", newline="")
    return centers[index]


def break_two_rows_and_add_one(file: Path, broken: Path) -> None:
    """Line 26 gets a wrong office path, line 31 a cell too many; a valid new center follows."""
    lines = file.read_text(encoding="utf-8").splitlines()
    lines[25] = lines[25].replace(",PMO/", ",MOI/", 1)
    lines[30] = lines[30] + ",surplus"
    lines.append(lines[5].replace("GECC-0005", "GECC-0051", 1).replace("Branch", "Unit"))
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def audit(conn: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT actor, target, details FROM audit_log WHERE action = $1 ORDER BY id", action
    )


async def test_reimport_updates_only_what_changed_and_audits_each_import(
    isolated: Isolated, intake: asyncpg.Connection, registry: Path
) -> None:
    url = isolated.service_url("intake")
    first = await gecc("centers", "import", str(registry), "--database-url", url)
    again = await gecc("centers", "import", str(registry), "--database-url", url)
    renamed = rename_one(registry, 7, "Renamed Service Point")
    changed = await gecc("centers", "import", str(registry), "--database-url", url)

    assert first.stdout == "50 centers: 50 new, 0 updated\n", first.output
    assert again.stdout == "50 centers: 0 new, 0 updated\n"
    assert changed.stdout == "50 centers: 0 new, 1 updated\n"
    assert await intake.fetchval("SELECT count(*) FROM centers") == 50
    stored = await intake.fetchrow(
        "SELECT name_en, contact_emails FROM centers WHERE id = $1", renamed.id
    )
    assert stored is not None
    assert stored["name_en"] == "Renamed Service Point"
    assert stored["contact_emails"] == [f"{renamed.id.lower()}@gecc.example.go.th"]
    imports = await audit(intake, "centers.import")
    assert [json.loads(entry["details"]) for entry in imports] == [
        {"centers": 50, "inserted": 50, "updated": 0},
        {"centers": 50, "inserted": 0, "updated": 0},
        {"centers": 50, "inserted": 0, "updated": 1},
    ]
    assert all(e["actor"].startswith("cli:") and e["target"] == "registry" for e in imports)


async def test_a_file_with_bad_rows_imports_nothing_and_names_every_error(
    isolated: Isolated, intake: asyncpg.Connection, registry: Path, tmp_path: Path
) -> None:
    url = isolated.service_url("intake")
    assert (await gecc("centers", "import", str(registry), "--database-url", url)).exit_code == 0
    broken = tmp_path / "broken.csv"
    break_two_rows_and_add_one(registry, broken)

    refused = await gecc("centers", "import", str(broken), "--database-url", url)

    assert refused.exit_code == 1
    assert refused.stdout == ""
    reported = refused.stderr.splitlines()
    assert re.fullmatch(rf"{broken}:26: office_path: 'MOI/.*' is not an office path.*", reported[0])
    assert reported[1].startswith(f"{broken}:31: row: 1 cell(s) after certified_until")
    assert reported[2:] == ["nothing imported: 2 error(s)"]
    assert await intake.fetchval("SELECT count(*) FROM centers") == 50
    assert len(await audit(intake, "centers.import")) == 1


def with_contacts(file: Path, contacts: dict[int, tuple[str, ...]]) -> list[Center]:
    centers = read_registry(file)
    for index, emails in contacts.items():
        centers[index] = dataclasses.replace(centers[index], contact_emails=emails)
    file.write_text(format_registry(centers), encoding="utf-8", newline="")
    return centers


async def test_a_file_with_an_undeliverable_contact_email_imports_nothing(
    isolated: Isolated, intake: asyncpg.Connection, registry: Path
) -> None:
    url = isolated.service_url("intake")
    assert (await gecc("centers", "import", str(registry), "--database-url", url)).exit_code == 0
    before = await intake.fetch("SELECT id, contact_emails FROM centers ORDER BY id")
    with_contacts(registry, {3: (THAI_LOCAL_PART,), 9: ("ok@dol.go.th", "x>@example.go.th")})

    refused = await gecc("centers", "import", str(registry), "--database-url", url)

    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"{registry}:11: contact_emails: 'x>@example.go.th' is not an e-mail address: "
        "The email address contains invalid characters before the @-sign: '>'.",
        "nothing imported: 1 error(s)",
    ]
    assert await intake.fetch("SELECT id, contact_emails FROM centers ORDER BY id") == before
    assert len(await audit(intake, "centers.import")) == 1


async def test_contact_emails_are_stored_normalized_thai_ones_included(
    isolated: Isolated, intake: asyncpg.Connection, registry: Path
) -> None:
    url = isolated.service_url("intake")
    centers = with_contacts(
        registry, {0: (THAI_LOCAL_PART, THAI_DOMAIN_ASCII), 1: ("Saraban@DOL.GO.TH",)}
    )

    imported = await gecc("centers", "import", str(registry), "--database-url", url)

    assert imported.exit_code == 0, imported.output
    rows = await intake.fetch(
        "SELECT contact_emails FROM centers WHERE id = ANY($1) ORDER BY id",
        [centers[0].id, centers[1].id],
    )
    assert [row["contact_emails"] for row in rows] == [
        [THAI_LOCAL_PART, THAI_DOMAIN],
        ["Saraban@dol.go.th"],
    ]


async def test_tokens_are_issued_listed_without_the_secret_and_revoked(
    isolated: Isolated, intake: asyncpg.Connection, registry: Path
) -> None:
    url = isolated.service_url("intake")
    assert (await gecc("centers", "import", str(registry), "--database-url", url)).exit_code == 0
    center = read_registry(registry)[0]
    ministry = "/".join(center.office_path.split("/")[:2])  # an ancestor office, like PMO/MOI

    issued = {
        "center": await gecc("tokens", "issue", "--center", center.id, "--database-url", url),
        "office": await gecc("tokens", "issue", "--office", ministry, "--database-url", url),
        "operator": await gecc(
            "tokens", "issue", "--operator", "--label", "ops desk", "--database-url", url
        ),
    }
    assert all(result.exit_code == 0 for result in issued.values()), issued
    ids = {kind: issued_id(result) for kind, result in issued.items()}
    tokens = {kind: issued_token(result) for kind, result in issued.items()}
    assert tokens["center"].startswith("gecc_center_")
    for kind, token in tokens.items():
        principal = await principal_for(intake, token, datetime.now(UTC))
        assert principal is not None and principal.kind == kind

    listed = await gecc("tokens", "list", "--database-url", url)
    assert listed.exit_code == 0
    for kind in ids:
        row = next(line for line in listed.stdout.splitlines() if str(ids[kind]) in line)
        assert kind in row and tokens[kind][:20] in row and tokens[kind] not in row
    assert center.id in listed.stdout and ministry in listed.stdout and "ops desk" in listed.stdout

    revoked = await gecc("tokens", "revoke", str(ids["center"]), "--database-url", url)
    twice = await gecc("tokens", "revoke", str(ids["center"]), "--database-url", url)

    assert revoked.exit_code == 0 and twice.exit_code == 1
    assert "revoked already" in twice.stderr
    row = await intake.fetchrow(
        "SELECT revoked_at, revoked_by FROM api_tokens WHERE token_hash = $1",
        token_hash(tokens["center"]),
    )
    assert row is not None and row["revoked_at"] is not None
    assert row["revoked_by"].startswith("cli:")
    assert await principal_for(intake, tokens["center"], datetime.now(UTC)) is None
    assert await principal_for(intake, tokens["office"], datetime.now(UTC)) is not None
    issues, revokes = await audit(intake, "tokens.issue"), await audit(intake, "tokens.revoke")
    assert sorted(e["target"] for e in issues) == sorted(f"token:{i}" for i in ids.values())
    assert [e["target"] for e in revokes] == [f"token:{ids['center']}"]
    logged = await intake.fetchval("SELECT string_agg(details::text, ' ') FROM audit_log")
    assert not any(token in logged for token in tokens.values())


async def test_a_token_for_an_unknown_center_or_office_is_refused(
    isolated: Isolated, intake: asyncpg.Connection, registry: Path
) -> None:
    url = isolated.service_url("intake")
    assert (await gecc("centers", "import", str(registry), "--database-url", url)).exit_code == 0

    no_center = await gecc("tokens", "issue", "--center", "GECC-9999", "--database-url", url)
    no_office = await gecc("tokens", "issue", "--office", "PMO/NOWHERE", "--database-url", url)
    partial = await gecc("tokens", "issue", "--office", "PMO/M", "--database-url", url)
    both = await gecc("tokens", "issue", "--operator", "--center", "GECC-0001")

    assert (no_center.exit_code, no_office.exit_code, partial.exit_code) == (1, 1, 1)
    assert "no center GECC-9999 is registered" in no_center.stderr
    assert "office PMO/NOWHERE" in no_office.stderr
    assert both.exit_code == 2
    assert await intake.fetchval("SELECT count(*) FROM api_tokens") == 0


def issued_id(result: Result) -> UUID:
    found = re.search(r"^id\s+(\S+)$", result.stdout, re.MULTILINE)
    assert found, result.output
    return UUID(found[1])


def issued_token(result: Result) -> str:
    found = re.search(r"^token\s+(\S+)$", result.stdout, re.MULTILINE)
    assert found, result.output
    return found[1]
