"""The cohort quota's arithmetic on its own: places, ranking, ties, cohorts, what each unit is told;
then the grader that applies it to a batch."""
from __future__ import annotations

import dataclasses
import datetime
import itertools
from fractions import Fraction

import pytest

from conftest import ROOT, compiled
from engine.compiling.compile import compile_plan
from engine.backends.evaluate import Grader
from engine.reading.facts import load_facts, unit_from_row
from engine.model import Quota, RankKey, RuleSet
from engine.grading.quota import QuotaCandidate, apply_quota

QUOTA = Quota(share_pct=20, of_levels=["excellent", "good"], demote_to="good",
              rank_by=[RankKey(key="score", order="desc"), RankKey(key="tasks_exceeded", order="desc")])


def units(*rows) -> list[QuotaCandidate]:
    """(unit id, grade, score, tasks exceeded[, cohort]) rows."""
    return [QuotaCandidate(r[0], r[4] if len(r) > 4 else "", r[1], (r[2], r[3])) for r in rows]


def goods(n: int, cohort: str = "") -> list[tuple]:
    return [(f"G{i:02d}", "good", 80, 0, cohort) for i in range(n)]


def kept(effects) -> list[str]:
    return sorted(u for u, e in effects.items() if e.kept)


@pytest.mark.parametrize("base, allowed", [(4, 0), (5, 1), (9, 1), (10, 2), (14, 2), (15, 3)])
def test_places_are_the_share_of_the_base_rounded_down(base: int, allowed: int):
    candidates = [(f"E{i}", "excellent", 100 - i, 0) for i in range(3)]
    effects = apply_quota(QUOTA, units(*candidates, *goods(base - 3)))
    assert {e.allowed for e in effects.values()} == {allowed} and {e.base_count for e in effects.values()} == {base}
    assert kept(effects) == [f"E{i}" for i in range(min(allowed, 3))]


def test_only_the_base_levels_count_and_only_candidates_are_touched():
    rows = [("E1", "excellent", 99, 0), ("C1", "completed", 60, 0), ("N1", "not_completed", 10, 0), *goods(4)]
    effects = apply_quota(QUOTA, units(*rows))
    assert set(effects) == {"E1"} and effects["E1"].base_count == 5 and effects["E1"].kept


def test_higher_score_first_then_more_tasks_exceeded_then_the_smaller_unit_id():
    rows = [("B", "excellent", 95, 3), ("A", "excellent", 95, 3), ("C", "excellent", 95, 4), ("D", "excellent", 96, 0),
            *goods(11)]  # 15 in the base: 3 places
    for order in itertools.permutations(rows[:4]):
        effects = apply_quota(QUOTA, units(*order, *rows[4:]))
        assert [u for u, e in sorted(effects.items(), key=lambda x: x[1].rank)] == ["D", "C", "A", "B"]
        assert kept(effects) == ["A", "C", "D"] and effects["B"].demote_to == "good"


def test_a_full_tie_across_the_cut_off_keeps_the_smaller_unit_ids_whatever_the_order():
    rows = [("T03", "excellent", 100, 5), ("T02", "excellent", 100, 5), ("T01", "excellent", 100, 5), *goods(7)]
    effects = apply_quota(QUOTA, units(*rows))
    assert effects["T01"].allowed == 2
    assert kept(effects) == ["T01", "T02"] and effects["T03"].demote_to == "good" and effects["T03"].rank == 3


def test_an_unknown_rank_value_ranks_after_every_known_one():
    """Every listing order, so the unknown value is met on either side of a comparison."""
    rows = [("A", "excellent", 100, None), ("B", "excellent", 100, 0), ("C", "excellent", 100, None),
            ("D", "excellent", 99, 7), *goods(6)]  # 10 in the base: 2 places
    for order in itertools.permutations(rows[:4]):
        effects = apply_quota(QUOTA, units(*order, *rows[4:]))
        assert [u for u, e in sorted(effects.items(), key=lambda x: x[1].rank)] == ["B", "A", "C", "D"]
        assert kept(effects) == ["A", "B"] and effects["C"].demote_to == "good"


def test_ascending_rank_keys_keep_the_smaller_value():
    quota = QUOTA.model_copy(update={"rank_by": [RankKey(key="established_on", order="asc")]})
    rows = [QuotaCandidate("A", "", "excellent", (Fraction(3),)), QuotaCandidate("B", "", "excellent", (Fraction(2),))]
    effects = apply_quota(quota, rows + units(*goods(3)))
    assert kept(effects) == ["B"] and effects["A"].rank == 2


def test_a_date_rank_key_ranks_the_earlier_date_first_and_is_told_as_a_date():
    quota = QUOTA.model_copy(update={"rank_by": [RankKey(key="established_on", order="asc")]})
    rows = [QuotaCandidate("A", "", "excellent", (datetime.date(2019, 3, 2),)),
            QuotaCandidate("B", "", "excellent", (datetime.date(2019, 3, 1),))]
    effects = apply_quota(quota, rows + units(*goods(3)))
    assert kept(effects) == ["B"] and effects["A"].rank == 2
    assert effects["A"].rank_by == (("established_on", "asc", "2019-03-02"),)


def test_each_cohort_has_its_own_places():
    rows = [("A1", "excellent", 100, 0, "a"), ("B1", "excellent", 100, 0, "b"), *goods(4, "a"), *goods(1, "b")]
    rows[-1] = ("GB", "good", 80, 0, "b")
    effects = apply_quota(QUOTA, units(*rows))
    assert (effects["A1"].cohort, effects["A1"].base_count, effects["A1"].allowed, effects["A1"].kept) == ("a", 5, 1, True)
    assert (effects["B1"].cohort, effects["B1"].base_count, effects["B1"].allowed, effects["B1"].kept) == ("b", 2, 0, False)


def test_each_unit_is_told_its_rank_the_candidates_and_its_own_rank_values():
    rows = [("A", "excellent", Fraction(195, 2), 4), ("B", "excellent", 99, 1), *goods(3)]
    effects = apply_quota(QUOTA, units(*rows))
    a = effects["A"]
    assert (a.rank, a.candidates, a.level, a.base_levels, a.share_pct) == (2, 2, "excellent", ("excellent", "good"), 20)
    assert a.rank_by == (("score", "desc", Fraction(195, 2)), ("tasks_exceeded", "desc", 4))
    assert not a.kept and a.demote_to == "good" and effects["B"].kept and effects["B"].demote_to is None


# --- the quota through the grader, on the bundled example ------------------------------------------------------

EXAMPLE_CAPPED = {"HL-BV05", "HL-BV07", "HL-TTYT05", "HL-DN12", "HL-DN14"}  # excellent alone, good by the quota


def _example(plan):
    return load_facts(ROOT / "examples" / "province_2024.csv", plan.catalogue, plan.ruleset.year).units


def test_a_batch_is_graded_under_the_quota_unless_told_otherwise_and_an_invalid_unit_takes_no_place():
    plan, grader = compiled("rules/2024/ruleset-2024.1.yaml")
    units = _example(plan)
    broken = unit_from_row(len(units) + 1, dict(units[0].raw, unit_id="HL-BROKEN", tasks_done="nhiều"), {},
                           plan.catalogue, "example", plan.ruleset.year)
    assert broken.problems
    graded = {ev.unit.unit_id: ev for ev in grader.batch([*units, broken])}
    assert {u for u, ev in graded.items() if ev.quota and not ev.quota.kept} == EXAMPLE_CAPPED
    assert {graded[u].grade for u in EXAMPLE_CAPPED} == {"good"}
    invalid = graded["HL-BROKEN"]
    assert (invalid.status, invalid.grade, invalid.decided, invalid.quota) == ("invalid", None, None, None)
    assert invalid.problems == broken.problems
    alone = {ev.unit.unit_id: ev for ev in grader.batch(units, cohort=False)}
    assert all(ev.quota is None for ev in alone.values()) and {alone[u].grade for u in EXAMPLE_CAPPED} == {"excellent"}


@pytest.mark.parametrize("quota", [None, "disabled"])
def test_without_an_enabled_quota_every_unit_keeps_the_grade_it_earns_alone(quota):
    base, grader = compiled("rules/2024/ruleset-2024.1.yaml")
    data = base.ruleset.model_dump()
    data["id"] = f"quota_{quota}"
    data["quota"] = None if quota is None else dict(data["quota"], enabled=False)
    plan = compile_plan(dataclasses.replace(base.loaded, ruleset=RuleSet.model_validate(data)))
    units = _example(plan)
    graded = Grader(plan, explain=False).batch(units)
    assert [ev.unit.unit_id for ev in graded] == [u.unit_id for u in units]
    assert all(ev.quota is None for ev in graded)
    assert [(ev.status, ev.grade) for ev in graded] == [(ev.status, ev.grade) for ev in grader.batch(units, cohort=False)]
    assert {ev.grade for ev in graded if ev.unit.unit_id in EXAMPLE_CAPPED} == {"excellent"}


# --- the quota as the rule set says it: several cohort facts, a unit without one, the rounding ------------------

@pytest.mark.parametrize("rounding, at_least, base, allowed", [
    (None, None, 7, 1), ("floor", None, 7, 1), ("nearest", None, 7, 1), ("nearest", None, 8, 2),  # 1.4, 1.6
    ("nearest", None, 13, 3), ("nearest", None, 12, 2),  # 2.6 and 2.4; a half goes up: 2.5 of 12.5 is not a count
    (None, 3, 2, 0), (None, 3, 3, 1), (None, 3, 4, 1), (None, 3, 10, 2),  # a cohort of 3 or more has a place
])
def test_places_are_rounded_as_the_rule_set_says(rounding, at_least, base: int, allowed: int):
    from engine.grading.quota import places
    quota = QUOTA.model_copy(update={"rounding": rounding, "at_least_one_from": at_least})
    assert places(quota, base) == allowed
    half = QUOTA.model_copy(update={"rounding": "nearest", "share_pct": 25})
    assert places(half, 2) == 1 and places(half, 6) == 2  # 0.5 → 1, 1.5 → 2


@pytest.mark.parametrize("missing, key", [(None, ""), ("own", "(U1 alone)"), ("invalid", "")])
def test_a_cohort_of_several_facts_and_a_unit_that_does_not_report_one(missing, key: str):
    from engine.grading.quota import cohort_key
    quota = QUOTA.model_copy(update={"cohort_by": ["upper_union", "workplace_type"], "missing_cohort": missing})
    assert cohort_key(quota, {"upper_union": "CĐ ngành Y tế", "workplace_type": "public_service"}, "U1") == \
        "CĐ ngành Y tế / public_service"
    assert cohort_key(quota, {"workplace_type": "public_service"}, "U1") == key
    assert cohort_key(quota, {"upper_union": "", "workplace_type": "public_service"}, "U1") == key
    single = QUOTA.model_copy(update={"cohort_by": "upper_union"})
    assert cohort_key(single, {"upper_union": "CĐ ngành Y tế"}, "U1") == "CĐ ngành Y tế"  # as released rule sets had it


def test_a_unit_outside_the_quota_keeps_its_grade_takes_no_place_and_counts_in_the_base():
    quota = QUOTA.model_copy(update={"exempt_if": "outstanding"})
    candidates = [(f"E{i}", "excellent", 100 - i, 0) for i in range(3)]
    rows = units(*candidates, *goods(7))  # a base of 10: 2 places
    effects = apply_quota(quota, rows, frozenset({"E0"}))
    assert "E0" not in effects and kept(effects) == ["E1", "E2"]
    assert {e.base_count for e in effects.values()} == {10} and {e.candidates for e in effects.values()} == {2}
    from engine.grading.quota import exempt
    assert exempt(quota, {"outstanding": True}) and not exempt(quota, {"outstanding": False})
    assert not exempt(quota, {}) and not exempt(QUOTA, {"outstanding": True})
