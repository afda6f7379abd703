"""`gecc recipients` against the notifier's real database."""

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from gecc.cli import app
from services.intake.domain.registry_file import parse_registry
from services.notifier.domain.recipients_file import (
    OPERATORS_EMAIL,
    Recipient,
    format_recipients,
    parse_recipients,
)
from tests.support.email_addresses import THAI_DOMAIN, THAI_DOMAIN_ASCII, THAI_LOCAL_PART
from tests.support.isolation import Isolated

SECRET = "first-secret-0123456789abcdef"
ROTATED = "rotated-secret-0123456789abcdef"
IMPORT_HINT = "`gecc recipients import FILE.csv`"


async def gecc(*args: str) -> Result:
    # In a thread: the command runs its own event loop with asyncio.run.
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args)))


@pytest.fixture
async def notifier(isolated: Isolated) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(isolated.service_url("notifier"))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    file = tmp_path / "centers.csv"
    generate = ["centers", "generate", "--count", "80", "--seed", "11", "--out", str(file)]
    generated = CliRunner().invoke(app, generate)
    assert generated.exit_code == 0, generated.output
    return file


def webhook(secret: str) -> Recipient:
    return Recipient("center:GECC-0001", "webhook", "https://gecc-0001.example.go.th/hook", secret)


def office_paths(registry: Path) -> list[str]:
    return sorted({center.office_path for center in parse_registry(registry.read_text())})


async def stored(conn: asyncpg.Connection) -> set[tuple[str, str, str, str | None]]:
    rows = await conn.fetch("SELECT owner, channel, address, secret FROM recipients")
    return {(r["owner"], r["channel"], r["address"], r["secret"]) for r in rows}


async def test_generate_then_import_is_idempotent_and_a_changed_secret_is_updated(
    isolated: Isolated, notifier: asyncpg.Connection, registry: Path, tmp_path: Path
) -> None:
    url = isolated.service_url("notifier")
    out = tmp_path / "recipients.csv"
    generated = await gecc("recipients", "generate", "--registry", str(registry), "--out", str(out))
    again = tmp_path / "again.csv"
    await gecc("recipients", "generate", "--registry", str(registry), "--out", str(again))

    offices = office_paths(registry)
    assert generated.exit_code == 0, generated.output
    assert generated.stdout == (
        f"wrote {len(offices) + 1} recipients ({len(offices)} offices and the operators) to {out}\n"
    )
    assert out.read_bytes() == again.read_bytes()
    recipients = parse_recipients(out.read_text(encoding="utf-8"))
    assert [r.owner for r in recipients] == [f"office:{path}" for path in offices] + ["operators"]
    assert recipients[-1].address == OPERATORS_EMAIL
    mailbox = re.compile(r"saraban\.[a-z0-9.-]+@gecc\.example\.go\.th")
    assert all(mailbox.fullmatch(r.address) for r in recipients[:-1])

    first = await gecc("recipients", "import", str(out), "--database-url", url)
    assert first.exit_code == 0, first.output
    assert first.stdout == f"{len(recipients)} recipients: {len(recipients)} new, 0 updated\n"
    assert await stored(notifier) == {(*r.key, None) for r in recipients}

    out.write_text(format_recipients([*recipients, webhook(SECRET)]), encoding="utf-8")
    added = await gecc("recipients", "import", str(out), "--database-url", url)
    same = await gecc("recipients", "import", str(out), "--database-url", url)
    out.write_text(format_recipients([webhook(ROTATED)]), encoding="utf-8")
    rotated = await gecc("recipients", "import", str(out), "--database-url", url)

    total = len(recipients) + 1
    assert added.stdout == f"{total} recipients: 1 new, 0 updated\n", added.output
    assert same.stdout == f"{total} recipients: 0 new, 0 updated\n"
    assert rotated.stdout == "1 recipients: 0 new, 1 updated\n"
    # A file holding only some recipients updates those and keeps the rest.
    assert await stored(notifier) == {(*r.key, None) for r in recipients} | {
        (*webhook(ROTATED).key, ROTATED)
    }


async def test_list_shows_every_recipient_and_a_fingerprint_never_the_secret(
    isolated: Isolated, tmp_path: Path
) -> None:
    url = isolated.service_url("notifier")
    empty = await gecc("recipients", "list", "--database-url", url)
    assert (empty.exit_code, empty.stdout) == (0, f"no recipients: add them with {IMPORT_HINT}\n")
    file = tmp_path / "recipients.csv"
    office = Recipient("office:PMO/BMA", "email", "saraban@bangkok.go.th")
    operators = Recipient("operators", "email", "ops@opdc.go.th")
    file.write_text(format_recipients([webhook(SECRET), office, operators]), encoding="utf-8")
    assert (await gecc("recipients", "import", str(file), "--database-url", url)).exit_code == 0

    listed = await gecc("recipients", "list", "--database-url", url)

    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["OWNER", "CHANNEL", "ADDRESS", "SECRET"]
    fingerprint = hashlib.sha256(SECRET.encode()).hexdigest()[:12]
    assert [line.split() for line in lines[1:]] == [
        ["operators", "email", "ops@opdc.go.th", "-"],
        ["center:GECC-0001", "webhook", webhook(SECRET).address, f"sha256:{fingerprint}"],
        ["office:PMO/BMA", "email", "saraban@bangkok.go.th", "-"],
    ]
    assert SECRET not in listed.stdout


async def test_a_file_with_bad_rows_imports_nothing_and_names_every_error(
    isolated: Isolated, notifier: asyncpg.Connection, tmp_path: Path
) -> None:
    url = isolated.service_url("notifier")
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "\ufeffowner,channel,address,secret\n"
        "operators,email,ops@opdc.go.th,\n"
        "office:PMO/BMA,webhook,http://bma.example.go.th/hook,\n"
        "province:TH-10,email,saraban@th10.go.th,\n",
        encoding="utf-8",
    )

    refused = await gecc("recipients", "import", str(broken), "--database-url", url)

    assert refused.exit_code == 1
    assert refused.stdout == ""
    reported = refused.stderr.splitlines()
    assert reported[0].startswith(f"{broken}:3: address: 'http://bma.example.go.th/hook' is not")
    assert reported[1].startswith(f"{broken}:3: secret: missing")
    assert reported[2].startswith(f"{broken}:4: owner: 'province:TH-10' is not an owner")
    assert reported[3:] == ["nothing imported: 3 error(s)"]
    assert await notifier.fetchval("SELECT count(*) FROM recipients") == 0


async def test_a_file_with_an_undeliverable_address_imports_nothing(
    isolated: Isolated, notifier: asyncpg.Connection, tmp_path: Path
) -> None:
    url = isolated.service_url("notifier")
    file = tmp_path / "recipients.csv"
    file.write_text(
        "owner,channel,address,secret\n"
        f"office:PMO/BMA,email,{THAI_LOCAL_PART},\n"
        "office:PMO/MOI,email,x>@example.go.th,\n"
        "operators,email,ops@opdc.go.th,\n",
        encoding="utf-8",
    )

    refused = await gecc("recipients", "import", str(file), "--database-url", url)

    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"{file}:3: address: 'x>@example.go.th' is not an e-mail address: "
        "The email address contains invalid characters before the @-sign: '>'.",
        "nothing imported: 1 error(s)",
    ]
    assert await notifier.fetchval("SELECT count(*) FROM recipients") == 0


async def test_email_addresses_are_stored_normalized_thai_ones_included(
    isolated: Isolated, notifier: asyncpg.Connection, tmp_path: Path
) -> None:
    url = isolated.service_url("notifier")
    file = tmp_path / "recipients.csv"
    file.write_text(
        "owner,channel,address,secret\n"
        f"office:PMO/BMA,email,{THAI_LOCAL_PART},\n"
        f"office:PMO/MOI,email,{THAI_DOMAIN_ASCII},\n"
        "operators,email,Ops@OPDC.Go.Th,\n",
        encoding="utf-8",
    )

    imported = await gecc("recipients", "import", str(file), "--database-url", url)

    assert imported.exit_code == 0, imported.output
    assert await stored(notifier) == {
        ("office:PMO/BMA", "email", THAI_LOCAL_PART, None),
        ("office:PMO/MOI", "email", THAI_DOMAIN, None),
        ("operators", "email", "Ops@opdc.go.th", None),
    }


def test_generate_refuses_an_office_path_too_long_for_a_mailbox(tmp_path: Path) -> None:
    registry = tmp_path / "centers.csv"
    office = "PMO/MOI/DEPARTMENT-OF-PROVINCIAL-ADMINISTRATION/CHIANG-MAI-CITY"
    registry.write_text(
        "code,name_th,name_en,office_path,province,contact_emails,certified_until\n"
        f"GECC-0001,ศาลากลาง,City Hall,{office},เชียงใหม่,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "recipients.csv"

    refused = CliRunner().invoke(
        app, ["recipients", "generate", "--registry", str(registry), "--out", str(out)]
    )

    assert refused.exit_code == 1
    reported = refused.stderr.splitlines()
    assert reported[0].startswith(
        f"{registry}: office_path: office {office} has no demo mailbox: 'saraban."
    )
    assert "too long before the @-sign" in reported[0]
    assert reported[1:] == ["nothing written: 1 error(s)"]
    assert not out.exists()


async def test_an_unreachable_database_is_reported_plainly(tmp_path: Path) -> None:
    file = tmp_path / "recipients.csv"
    file.write_text(format_recipients([webhook(SECRET)]), encoding="utf-8")
    nowhere = "postgresql://notifier@127.0.0.1:1/gecc"

    failed = await gecc("recipients", "import", str(file), "--database-url", nowhere)

    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: cannot reach notifier's database")
