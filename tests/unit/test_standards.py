import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.standards import StandardError, load_catalog, load_standard
from tests.support.samples import standard


def test_shipped_standard_is_illustrative_and_covers_three_areas() -> None:
    s = standard()
    assert s.illustrative
    assert len(s.questions) == 8
    assert 20 <= len(s.items) <= 30
    assert {i.area for i in s.items} == {"physical", "quality", "outcome"}


def test_broken_file_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(
        'id = "broken"\nversion = 1\ntitle_th = "x"\ntitle_en = "x"\n'
        '[[questions]]\ncode = "S1"\ntitle_th = "x"\ntitle_en = "x"\n'
        '[[items]]\ncode = "P01"\narea = "garden"\nmandatory = true\nweight = 1\n'
        'title_th = "x"\ntitle_en = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(StandardError, match=r"broken.toml: invalid standard: items\.0\.area"):
        load_standard(path)


def test_repeated_codes_are_refused(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "standards" / "gecc-maintenance-2570.toml").read_text()
    (tmp_path / "gecc-maintenance-2570.toml").write_text(
        text.replace('code = "P02"', 'code = "P01"'), encoding="utf-8"
    )
    with pytest.raises(StandardError, match="codes repeated: P01"):
        load_catalog(tmp_path)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StandardError, match="no standard definition files"):
        load_catalog(tmp_path)


def test_a_service_with_a_broken_standard_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('id = "broken"\n', encoding="utf-8")
    started = subprocess.run(
        [sys.executable, "-m", "services.scoring"],
        cwd=Path(__file__).parents[2],
        env={**os.environ, "GECC_SCORING_STANDARDS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "scoring: cannot start:" in started.stderr
    assert "broken.toml: invalid standard: version: Field required" in started.stderr
