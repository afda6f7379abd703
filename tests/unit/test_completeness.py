import pytest

from services.intake.domain.completeness import (
    CenterState,
    LevelCounts,
    Reason,
    ancestors,
    lists_asked,
    roll_up,
    scorecard_reasons,
)


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


def own_counts(centers: list[CenterState]) -> list[LevelCounts]:
    """What the database gives: per office path, its own centers counted."""
    counts: dict[str, LevelCounts] = {}
    for c in centers:
        counts.setdefault(c.office_path, LevelCounts(c.office_path, 0)).add(c)
    return list(counts.values())


def test_operator_scope_counts_every_level() -> None:
    levels = {level.office_path: level for level in roll_up(own_counts(CENTERS), "PMO")}
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
    assert [level.depth for level in levels.values()] == [0, 1, 2, 2, 1, 2]


def test_an_office_sees_only_its_subtree() -> None:
    levels = roll_up(own_counts(CENTERS), "PMO/BMA")
    assert [level.office_path for level in levels] == [
        "PMO/BMA",
        "PMO/BMA/DISTRICT",
        "PMO/BMA/HEALTH",
    ]


def test_a_sibling_with_a_common_prefix_is_not_in_scope() -> None:
    assert roll_up(own_counts([center("X", "PMO/BMAX")]), "PMO/BMA") == []


def test_depth_limits_the_levels_below_the_office_but_not_their_counts() -> None:
    only = roll_up(own_counts(CENTERS), "PMO", depth=0)
    assert [(level.office_path, level.expected) for level in only] == [("PMO", 5)]
    children = roll_up(own_counts(CENTERS), "PMO/BMA", depth=1)
    assert [(lv.office_path, lv.depth, lv.expected) for lv in children] == [
        ("PMO/BMA", 1, 3),
        ("PMO/BMA/DISTRICT", 2, 2),
        ("PMO/BMA/HEALTH", 2, 1),
    ]
    assert [lv.office_path for lv in roll_up(own_counts(CENTERS), "PMO", depth=1)] == [
        "PMO",
        "PMO/BMA",
        "PMO/MOI",
    ]


def test_each_list_total_comes_from_the_office_level() -> None:
    top = roll_up(own_counts(CENTERS), "PMO", depth=0)[0]
    totals = {name: top.list_total(name) for name in ("missing", "late", "follow_up", "centers")}
    assert totals == {"missing": 2, "late": 1, "follow_up": 1, "centers": 5}


@pytest.mark.parametrize(
    ("text", "lists"),
    [
        (None, ("missing",)),
        ("", ()),
        ("centers,missing", ("missing", "centers")),
        (" late , follow_up,late", ("late", "follow_up")),
    ],
)
def test_lists_asked_in_a_fixed_order(text: str | None, lists: tuple[str, ...]) -> None:
    assert lists_asked(text) == lists


def test_a_list_that_does_not_exist_is_named() -> None:
    with pytest.raises(ValueError, match="everything: not a list"):
        lists_asked("missing,everything")


def test_reasons_come_from_the_scorecard_as_scoring_sent_them() -> None:
    scorecard = {
        "reasons": [
            {"code": "checklist_low", "detail": {"score": 40}, "text_th": "ต่ำ", "text_en": "Low"},
            {"code": "bare"},
        ]
    }
    assert scorecard_reasons(scorecard) == (
        Reason("checklist_low", "ต่ำ", "Low"),
        Reason("bare", "", ""),
    )
    assert scorecard_reasons(None) == () == scorecard_reasons({"reasons": None})
