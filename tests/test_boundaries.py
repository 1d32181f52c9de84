"""Every boundary the catalogue and the bundled rule sets draw, tried at, just under and just over.

Generated from the files themselves, so a new fact range, threshold, band, veto or title
is tested the day it is written:

* every numeric fact's range, just inside and just outside, and one decimal too many;
* every comparison of numbers or dates in every bundled rule set (criterion tiers,
  vetoes, finance checks, grade bands, title thresholds), through each back end on its
  own, at the exact threshold and one step (a unit of the fact's precision) either side,
  the expected answer computed here in exact arithmetic;
* every band, veto cap and title through the grade arithmetic (``engine.grading.aggregate``).
"""
from __future__ import annotations

import datetime
import math
import zlib
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Optional

import pytest
import yaml

from conftest import BUNDLED_RULESETS, ROOT, compiled, plan_with
from engine.grading import aggregate
from engine.backends.durable import DurableBackend
from engine.compiling.compile import Plan
from engine.backends.evaluate import TraceBackend
from engine.expr import ast
from engine.reading.facts import from_integer, parse_value, to_integer, unit_from_row
from engine.reading.loading import load_catalogue
from engine.model import GRADES, FactSpec

CATALOGUES = sorted(ROOT.glob("criteria/*.yaml"))
NUMERIC = ("int", "vnd", "decimal", "percentage")


# --- fact ranges ------------------------------------------------------------------------

def _ranges() -> list:
    out = []
    for path in CATALOGUES:
        catalogue, _ = load_catalogue(path)
        for name, spec in catalogue.facts.items():
            if spec.type in NUMERIC:
                out.append(pytest.param(spec, id=f"{path.stem}.{name}"))
    return out


def _step(spec: FactSpec) -> Decimal:
    return Decimal(1).scaleb(-spec.scale)


@pytest.mark.parametrize("spec", _ranges())
def test_a_fact_is_read_just_inside_its_range_and_refused_just_outside(spec: FactSpec):
    low, high = spec.bounds
    step = _step(spec)
    for inside in (low, low + step, high - step, high):
        assert parse_value(str(inside), spec) == Fraction(inside)
    with pytest.raises(ValueError, match="below the allowed range; expected at least"):
        parse_value(str(low - step), spec)
    with pytest.raises(ValueError, match="above the allowed range; expected at most"):
        parse_value(str(high + step), spec)


@pytest.mark.parametrize("spec", _ranges())
def test_a_number_comes_back_from_its_integer_form_exactly(spec: FactSpec):
    """What explanations, cohorts and the quota's rank keys show is read back from the engine's integers."""
    low, high = spec.bounds
    step = _step(spec)
    for value in (low, low + step, ((low + high) / 2).quantize(step), high - step, high):
        exact = parse_value(str(value), spec)
        back = from_integer(spec, to_integer(spec, exact))
        assert back == exact == Fraction(value) and type(back) is type(exact), (value, back)


@pytest.mark.parametrize("spec", [p for p in _ranges() if p.values[0].scale])
def test_a_decimal_fact_keeps_its_places_and_refuses_one_more(spec: FactSpec):
    low, high = spec.bounds
    finest = low + _step(spec)
    assert parse_value(str(finest), spec) == Fraction(finest)
    with pytest.raises(ValueError, match=f"at most {spec.scale} decimal places"):
        parse_value(str(low + _step(spec) / 10), spec)


def test_a_value_outside_its_range_makes_only_that_unit_invalid_at_its_cell():
    plan, _ = compiled("rules/2024/ruleset-2024.1.yaml")
    record = {"unit_id": "X", "members_informed_pct": "100.01", "tasks_done": "-1"}
    cells = {"members_informed_pct": (2, 7), "tasks_done": (2, 9)}
    from engine.reading.facts import Cell
    unit = unit_from_row(1, record, {k: Cell(*v) for k, v in cells.items()}, plan.catalogue, "units.csv")
    messages = {(p.line, p.column): p.message for p in unit.problems}
    assert "above the allowed range; expected at most 100" in messages[(2, 7)]
    assert "below the allowed range; expected at least 0" in messages[(2, 9)]
    assert "members_informed_pct" not in unit.values and "tasks_done" not in unit.values


# --- every threshold of every bundled rule set, through each back end -------------------

TYPICAL = ({"int": 20, "vnd": 100_000_001, "percentage": Fraction(175, 2), "decimal": Fraction(849, 10),
            "date": datetime.date(2024, 1, 31), "score": Fraction(179, 2)},
           {"int": 7, "vnd": 19, "percentage": Fraction(3333, 100), "decimal": 90,
            "date": datetime.date(2024, 6, 30), "score": 50})


def _kind(plan: Plan, name: str) -> Optional[str]:
    if name in plan.fact_types:
        spec = plan.fact_types[name]
        return spec.type if spec.type in NUMERIC + ("date",) else None
    if name == "score" or name.startswith("group_score."):
        return "score"
    return None


def _is_number_compare(plan: Plan, node: ast.Node) -> bool:
    if not isinstance(node, ast.Compare):
        return False
    names = ast.names(node)
    if not names or any(_kind(plan, n) is None for n in names):
        return False
    arithmetic = (ast.Literal, ast.Name, ast.Neg, ast.Arith)
    return all(isinstance(n, arithmetic) and not isinstance(getattr(n, "value", 0), (bool, str))
               for side in (node.left, node.right) for n in ast.walk(side))


@lru_cache(maxsize=None)
def thresholds(ruleset: str) -> tuple[Plan, tuple[tuple[str, int, ast.Compare], ...]]:
    """Every distinct comparison of numbers or dates in a rule set, each as a decision of its own."""
    base, _ = compiled(ruleset)
    found: dict[str, tuple[int, ast.Compare]] = {}
    for decision in base.decisions:
        for node in ast.walk(decision.expr):
            if _is_number_compare(base, node):
                stage = 2 if any(_kind(base, n) == "score" for n in ast.names(node)) else 1
                found.setdefault(node.text, (stage, node))
    items = tuple((f"threshold_{i}", stage, node) for i, (stage, node) in enumerate(found.values()))
    plan = plan_with(base, f"bounds_{zlib.crc32(ruleset.encode()):08x}",
                     [(i, n.text) for i, s, n in items if s == 1], [(i, n.text) for i, s, n in items if s == 2])
    return plan, items


def _value(node: ast.Node, env: dict) -> Fraction:
    """The side of a comparison in exact arithmetic (dates as day numbers), written apart from the engine."""
    if isinstance(node, ast.Literal):
        v = node.value
        return Fraction(v.toordinal() if isinstance(v, datetime.date) else v)
    if isinstance(node, ast.Name):
        v = env[node.name]
        return Fraction(v.toordinal() if isinstance(v, datetime.date) else v)
    if isinstance(node, ast.Neg):
        return -_value(node.operand, env)
    left, right = _value(node.left, env), _value(node.right, env)
    return {"+": left + right, "-": left - right, "*": left * right, "/": left / right if right else None}[node.op]


def _holds(op: str, difference: Fraction) -> bool:
    return {"<": difference < 0, "<=": difference <= 0, ">": difference > 0, ">=": difference >= 0,
            "==": difference == 0, "!=": difference != 0}[op]


def _grid(plan: Plan, name: str) -> tuple[Fraction, Fraction, Fraction]:
    """(step, lowest, highest) of the values a name can take."""
    kind = _kind(plan, name)
    if kind == "date":
        return Fraction(1), Fraction(datetime.date(2000, 1, 1).toordinal()), Fraction(datetime.date(2100, 12, 31).toordinal())
    if kind == "score":
        return Fraction(1, 100), Fraction(0), Fraction(100)
    spec = plan.fact_types[name]
    low, high = spec.bounds
    return Fraction(1, 10 ** spec.scale), Fraction(low), Fraction(high)


def _native(plan: Plan, name: str, value: Fraction) -> Any:
    if _kind(plan, name) == "date":
        return datetime.date.fromordinal(int(value))
    return int(value) if value.denominator == 1 else value


def boundary_cases(plan: Plan, node: ast.Compare):
    """(env, expected) at the threshold of each name in turn, the other names held at typical values."""
    names = sorted(ast.names(node))
    for free in names:
        for typical in TYPICAL:
            env = {n: typical[_kind(plan, n) if _kind(plan, n) in typical else "int"] for n in names if n != free}
            step, low, high = _grid(plan, free)
            at = lambda v: _value(node.left, {**env, free: v}) - _value(node.right, {**env, free: v})  # noqa: E731
            # dates enter the arithmetic as day numbers, as the free value does
            slope = at(Fraction(1)) - at(Fraction(0))
            if slope == 0:
                continue
            exact = -at(Fraction(0)) / slope  # where the two sides meet
            below, above = math.floor(exact / step) * step, math.ceil(exact / step) * step
            for value in sorted({below - step, below, above, above + step}):
                if low <= value <= high:
                    yield {**env, free: _native(plan, free, value)}, _holds(node.op, at(value))


def _threshold_items():
    for ruleset in BUNDLED_RULESETS:
        plan, items = thresholds(ruleset)
        for ident, stage, node in items:
            yield pytest.param(ruleset, ident, id=f"{ruleset.split('/')[-1][8:-5]}:{node.text}")


@lru_cache(maxsize=None)
def back_ends(ruleset: str) -> tuple:
    plan, _ = thresholds(ruleset)
    return TraceBackend(plan), DurableBackend(plan)


@pytest.mark.parametrize("ruleset, ident", list(_threshold_items()))
def test_each_back_end_decides_a_threshold_at_and_either_side_of_it(ruleset: str, ident: str):
    plan, items = thresholds(ruleset)
    _, stage, node = next(item for item in items if item[0] == ident)
    key = f"veto.{ident}" if stage == 1 else f"level.excellent.{ident}"
    cases = list(boundary_cases(plan, node))
    assert cases, f"no boundary found for '{node.text}'"
    wrong = []
    for backend in back_ends(ruleset):
        for env, expected in cases:
            got = backend.decide(stage, env)[key]
            if got is not expected:
                wrong.append(f"{backend.name}: {env} → {got}, expected {expected}")
    assert not wrong, f"'{node.text}':\n" + "\n".join(wrong)


def test_thresholds_cover_bands_titles_vetoes_and_finance():
    texts = {node.text for _, _, node in thresholds("rules/2024/ruleset-2024.1.yaml")[1]}
    for expected in ("score >= 90", "score >= 50", "culture_score >= 85", "fatal_work_accidents >= 1",
                     "dues_collected_vnd >= dues_due_vnd * 0.95", "tasks_exceeded >= tasks_assigned * 0.2",
                     "established_on <= months_before(period_end, 12)", "budget_submitted_on <= budget_deadline"):
        assert expected in texts, expected


# --- bands, caps and titles through the grade arithmetic ---------------------------------

def _stage_one(plan: Plan, vetoes_held=(), vetoes_unknown=()) -> aggregate.StageOne:
    return aggregate.StageOne(True, [], 10000, {}, list(vetoes_held), list(vetoes_unknown), {}, True)


def _level_outcomes(plan: Plan, natural: str, bands: Optional[dict] = None) -> dict:
    """Outcomes under which every level from ``natural`` down qualifies and none above it does."""
    out = {}
    for level in plan.ruleset.levels:
        qualifies = GRADES.index(level.id) >= GRADES.index(natural)
        if level.min_score is not None:
            out[f"level.{level.id}.band"] = qualifies if bands is None else bands[f"level.{level.id}.band"]
        for c in level.conditions:
            out[f"level.{level.id}.{c.id}"] = qualifies if bands is None else True
    return out


def _bands():
    for ruleset in BUNDLED_RULESETS:
        plan, _ = compiled(ruleset)
        for level in plan.ruleset.levels:
            if level.min_score is not None:
                yield pytest.param(ruleset, level.id, id=f"{ruleset.split('/')[-1][8:-5]}:{level.id}")


@pytest.mark.parametrize("ruleset, level", list(_bands()))
def test_a_score_at_a_band_gets_its_grade_and_just_under_gets_the_one_below(ruleset: str, level: str):
    plan, _ = compiled(ruleset)
    minimum = Fraction(next(lv.min_score for lv in plan.ruleset.levels if lv.id == level))
    for backend in (TraceBackend(plan), DurableBackend(plan)):
        for score in (minimum - Fraction(1, 100), minimum, minimum + Fraction(1, 100)):
            bands = {k: v for k, v in backend.decide(2, {"score": score}).items() if k.endswith(".band")}
            choice = aggregate.choose_grade(plan, _stage_one(plan), _level_outcomes(plan, "not_completed", bands))
            expected = next(lv.id for lv in plan.ruleset.levels if lv.min_score is None or score >= lv.min_score)
            assert choice.grade == expected, f"{backend.name}: score {score}"
            assert (score >= minimum) == (GRADES.index(choice.grade) <= GRADES.index(level))


def _vetoes():
    for ruleset in BUNDLED_RULESETS:
        plan, _ = compiled(ruleset)
        for veto in plan.ruleset.vetoes:
            yield pytest.param(ruleset, veto.id, id=f"{ruleset.split('/')[-1][8:-5]}:{veto.id}")


@pytest.mark.parametrize("ruleset, veto", list(_vetoes()))
def test_a_veto_caps_the_grade_exactly_and_an_undecided_one_only_above_its_cap(ruleset: str, veto: str):
    plan, _ = compiled(ruleset)
    cap = next(v.cap for v in plan.ruleset.vetoes if v.id == veto)
    for natural in GRADES:  # the grade the unit would get without the veto
        outcomes = _level_outcomes(plan, natural)
        held = aggregate.choose_grade(plan, _stage_one(plan, vetoes_held=[veto]), outcomes)
        assert held.grade == aggregate.lowest(natural, cap) and held.veto_cap == cap, natural
        unknown = aggregate.choose_grade(plan, _stage_one(plan, vetoes_unknown=[veto]), outcomes)
        if GRADES.index(natural) < GRADES.index(cap):  # the veto would lower the grade: it must be known
            assert (unknown.status, unknown.grade, unknown.undecided) == ("invalid", None, [f"veto.{veto}"]), natural
        else:  # at or below the cap, the veto cannot change the grade
            assert (unknown.status, unknown.grade) == ("graded", natural), natural


def _titles():
    for ruleset in BUNDLED_RULESETS:
        plan, _ = compiled(ruleset)
        for title in plan.ruleset.titles:
            yield pytest.param(ruleset, title.id, id=f"{ruleset.split('/')[-1][8:-5]}:{title.id}")


@pytest.mark.parametrize("ruleset, title", list(_titles()))
def test_a_title_needs_every_condition_and_one_undecided_leaves_it_undecided(ruleset: str, title: str):
    plan, _ = compiled(ruleset)
    keys = [f"title.{title}.{c.id}" for t in plan.ruleset.titles if t.id == title for c in t.conditions]
    others = {f"title.{t.id}.{c.id}": True for t in plan.ruleset.titles for c in t.conditions}
    assert aggregate.titles(plan, others)[title] is True
    for key in keys:
        assert aggregate.titles(plan, {**others, key: False})[title] is False, key
        assert aggregate.titles(plan, {**others, key: None})[title] is None, key
        if len(keys) > 1:  # false beside undecided is false
            other = next(k for k in keys if k != key)
            assert aggregate.titles(plan, {**others, key: False, other: None})[title] is False, key


# --- spellings of one cell ------------------------------------------------------------------

SPELLINGS = yaml.safe_load((ROOT / "tests" / "errors" / "spellings.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", SPELLINGS, ids=[f"{c['fact']}={c['text']}" for c in SPELLINGS])
def test_a_cell_is_read_as_written_or_refused_with_its_reason(case: dict):
    catalogue, _ = load_catalogue(ROOT / "criteria" / "catalogue-2025.2.yaml")
    spec = catalogue.facts[case["fact"]]
    if "value" in case:
        assert parse_value(case["text"], spec) == Fraction(Decimal(case["value"]))
        return
    with pytest.raises(ValueError) as refused:
        parse_value(case["text"], spec)
    for words in case["refused"]:
        assert words in str(refused.value)
    for words in case.get("not", []):
        assert words not in str(refused.value)
