"""`gecc offices import` against intake's real database: the generated registry's offices
are named, a file with any error imports nothing and names each wrong cell, and a second
import renames what changed."""

from pathlib import Path

import asyncpg

from services.intake.domain.offices import COLUMNS
from tests.integration.test_registry_cli import gecc
from tests.support.isolation import Isolated


async def test_offices_import_all_or_nothing_then_rename(
    isolated: Isolated, tmp_path: Path
) -> None:
    url = isolated.service_url("intake")
    registry = tmp_path / "registry.csv"
    generate = ["centers", "generate", "--count", "30", "--seed", "7", "--out", str(registry)]
    assert (await gecc(*generate)).exit_code == 0
    named = tmp_path / "registry-offices.csv"
    imported = await gecc("offices", "import", str(named), "--database-url", url)
    assert imported.exit_code == 0, imported.output
    lines = named.read_text(encoding="utf-8-sig").splitlines()
    assert imported.output.strip() == f"{len(lines) - 1} offices: {len(lines) - 1} new, 0 renamed"

    wrong = tmp_path / "wrong.csv"
    wrong.write_text(
        f"{','.join(COLUMNS)}\nPMO/BMA,กทม.,BMA\nPMO/bad path,ชื่อ,Name\nPMO/MOI,,Interior\n",
        encoding="utf-8",
    )
    refused = await gecc("offices", "import", str(wrong), "--database-url", url)
    assert refused.exit_code == 1
    assert f"{wrong}:3: office_path:" in refused.output
    assert f"{wrong}:4: name_th: missing" in refused.output
    assert "nothing imported: 2 error(s)" in refused.output

    conn = await asyncpg.connect(url)
    try:
        bma = await conn.fetchrow("SELECT name_th, name_en FROM offices WHERE path = 'PMO/BMA'")
        assert tuple(bma) == ("กรุงเทพมหานคร", "Bangkok Metropolitan Administration")
        renamed = tmp_path / "renamed.csv"
        renamed.write_text(f"{','.join(COLUMNS)}\nPMO/BMA,กทม.,BMA\n", encoding="utf-8")
        again = await gecc("offices", "import", str(renamed), "--database-url", url)
        assert again.output.strip() == "1 offices: 0 new, 1 renamed"
        assert await conn.fetchval("SELECT name_th FROM offices WHERE path = 'PMO/BMA'") == "กทม."
        audited = await conn.fetch("SELECT actor FROM audit_log WHERE action = 'offices.import'")
        assert len(audited) == 2 and audited[0]["actor"].startswith("cli:")
    finally:
        await conn.close()
