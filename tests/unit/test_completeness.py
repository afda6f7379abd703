from services.intake.domain.completeness import CenterState, ancestors, completeness


def center(
    cid: str,
    path: str,
    submitted: bool = True,
    late: bool = False,
    verdict: str | None = "maintained",
) -> CenterState:
    return CenterState(cid, f"ศูนย์ {cid}", path, "กรุงเทพมหานคร", submitted, late, verdict)


CENTERS = [
    center("A", "PMO/BMA/DISTRICT"),
    center("B", "PMO/BMA/DISTRICT", late=True, verdict="at_risk"),
    center("C", "PMO/BMA/HEALTH", submitted=False, verdict=None),
    center("D", "PMO/MOI/DOL", verdict=None),
    center("E", "PMO/MOI/DOL", submitted=False, verdict=None),
]


def test_ancestors_run_from_the_root_down() -> None:
    assert ancestors("PMO/MOI/DOL") == ["PMO", "PMO/MOI", "PMO/MOI/DOL"]


def test_operator_scope_counts_every_level() -> None:
    report = completeness(CENTERS)
    levels = {level.office_path: level for level in report.levels}
    assert list(levels) == [
        "PMO",
        "PMO/BMA",
        "PMO/BMA/DISTRICT",
        "PMO/BMA/HEALTH",
        "PMO/MOI",
        "PMO/MOI/DOL",
    ]
    top = levels["PMO"]
    assert (top.expected, top.submitted, top.on_time, top.late, top.missing) == (5, 3, 2, 1, 2)
    assert top.verdicts == {"maintained": 1, "at_risk": 1, "not_maintained": 0, "pending": 1}
    assert (levels["PMO/BMA"].expected, levels["PMO/BMA"].missing) == (3, 1)
    assert [c.center_id for c in report.missing] == ["C", "E"]


def test_office_scope_sees_only_its_subtree() -> None:
    report = completeness(CENTERS, scope="PMO/BMA")
    assert [level.office_path for level in report.levels] == [
        "PMO/BMA",
        "PMO/BMA/DISTRICT",
        "PMO/BMA/HEALTH",
    ]
    assert [c.center_id for c in report.missing] == ["C"]


def test_a_sibling_with_a_common_prefix_is_not_in_scope() -> None:
    report = completeness([center("X", "PMO/BMAX")], scope="PMO/BMA")
    assert report.levels == [] and report.missing == []
