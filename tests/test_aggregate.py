"""The arithmetic between stages on the 2024 point table: criteria, group scores, the values later stages read.

The expected figures are the 2024 rule set's own (public service units): representation
10 + 5 + 10 + 15, organisation 8 + 4 + 5 + 5 + 6 + 12, communication 4 + 6 + 5 + 5.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

import pytest

from conftest import compiled
from engine.grading.aggregate import choose_grade, stage_one

PLAN, _ = compiled("rules/2024/ruleset-2024.1.yaml")
WORKPLACE = "public_service"


def outcomes(**changed: Optional[bool]) -> dict[str, Optional[bool]]:
    """Every stage-1 and level decision of a unit that meets everything: eligible, no veto, every first tier,
    every check, every level; ``changed`` sets some (``criterion__members_informed__tier1=False``)."""
    o: dict[str, Optional[bool]] = {}
    o.update({k: True for k in PLAN.outline.eligibility})
    o.update({key: False for _, key, _ in PLAN.outline.vetoes})
    o.update({key: True for _, key, _ in PLAN.outline.checks})
    for _, tiers in PLAN.outline.scoring[WORKPLACE]:
        o.update({key: True for key, _ in tiers})
    o.update({k: True for level in PLAN.outline.levels for k in level.keys})
    o.update({k.replace("__", "."): v for k, v in changed.items()})
    return o


def by_id(one) -> dict[str, tuple[Optional[Fraction], Optional[int]]]:
    return {c.id: (c.points, c.tier) for c in one.criteria}


def test_every_first_tier_gives_the_full_point_table():
    one = stage_one(PLAN, WORKPLACE, outcomes())
    assert one.score == 100 and one.eligible is True and one.finance_passed is True
    assert one.group_scores == {"representation": 40, "organisation": 40, "communication": 20}
    assert by_id(one)["tasks_completed"] == (15, 1) and by_id(one)["exec_meetings"] == (8, 1)
    assert by_id(one)["party_referral"] == (4, 1)


def test_a_second_tier_gives_its_points_and_is_named_as_the_second():
    one = stage_one(PLAN, WORKPLACE, outcomes(criterion__members_informed__tier1=False))
    assert by_id(one)["members_informed"] == (5, 2)
    assert one.group_scores["representation"] == 35 and one.score == 95


def test_no_tier_gives_no_points_and_no_tier():
    one = stage_one(PLAN, WORKPLACE, outcomes(criterion__members_informed__tier1=False,
                                              criterion__members_informed__tier2=False))
    assert by_id(one)["members_informed"] == (0, None) and one.score == 90


def test_an_undecided_tier_leaves_its_criterion_its_group_and_the_total_undecided_and_no_other():
    one = stage_one(PLAN, WORKPLACE, outcomes(criterion__exec_meetings__tier1=None))
    assert by_id(one)["exec_meetings"] == (None, None)
    assert one.group_scores == {"representation": 40, "organisation": None, "communication": 20}
    assert one.score is None


def test_later_stages_read_every_known_score_group_and_check_and_nothing_undecided():
    one = stage_one(PLAN, WORKPLACE, outcomes(criterion__exec_meetings__tier1=None, check__disclosure=None))
    env = one.engine_env()
    assert env["group_score.representation"] == 4000 and env["group_score.communication"] == 2000
    assert "group_score.organisation" not in env and "score" not in env and "check.disclosure" not in env
    assert env["check.self_inspection"] == 1 and "finance_passed" not in env  # a required check is undecided
    exact = one.env()
    assert exact["group_score.representation"] == Fraction(40) and exact["check.self_inspection"] is True
    full = stage_one(PLAN, WORKPLACE, outcomes()).engine_env()
    assert full["score"] == 10000 and full["finance_passed"] == 1


@pytest.mark.parametrize("changed, grade, undecided", [
    ({}, "excellent", []),
    ({"level.excellent.band": None}, None, ["level.excellent"]),
    ({"level.excellent.band": False}, "good", []),
    ({"level.excellent.band": False, "level.good.band": None}, None, ["level.good"]),
    ({"veto.corruption": None}, None, ["veto.corruption"]),
])
def test_what_keeps_a_grade_from_being_decided_is_named(changed: dict, grade: Optional[str], undecided: list[str]):
    o = outcomes()
    o.update(changed)
    one = stage_one(PLAN, WORKPLACE, o)
    choice = choose_grade(PLAN, one, o)
    assert (choice.grade, choice.undecided) == (grade, undecided)
    assert choice.status == ("graded" if grade else "invalid")
