"""The compiled evaluator's whole-unit functions decide exactly as the stages and the grade arithmetic do.

``cdcs grade`` decides each unit with one generated function per workplace type
(:func:`engine.backends.compiled.compile_unit`): stage 1, the points, the stage-one sums,
stage 2, the grade, stage 3 and the titles written out straight-line.  Explanations, the
quota, the ledger and impact read what it returns, so it must be the very ``Decided`` that
``decide_unit`` builds step by step with the same back end and :mod:`engine.grading.aggregate`:
every field equal, every dict in the same order, every value of the same type.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BUNDLED_RULESETS, ROOT, compiled
from engine.authoring.cases import load_cases
from engine.backends.evaluate import decide_unit, engine_values
from engine.reading.facts import load_facts, unit_from_row
from engine.model import GRADES
from strategies import facts_row, unit_values

CAPS = (None, *GRADES)
EXAMPLES = {"rules/2024/ruleset-2024.1.yaml": ["examples/province_2024.csv"],
            "rules/2024/ruleset-2024.2.yaml": ["examples/province_2024.csv"],
            "rules/2025/ruleset-2025.1.yaml": ["examples/province_2025.csv"],
            "rules/2025/ruleset-2025.2.yaml": ["examples/province_2025.csv"],
            "rules/2025/ruleset-2025.3.yaml": ["examples/province_2025.csv"],
            "rules/2026/ruleset-2026.1.yaml": ["examples/province_2026.csv"]}


def shape(value: Any) -> Any:
    """A value as nested tuples that differ whenever a field, an order or a type differs."""
    if dataclasses.is_dataclass(value):
        return type(value).__name__, tuple((f.name, shape(getattr(value, f.name))) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return "dict", tuple((shape(k), shape(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value).__name__, tuple(shape(v) for v in value)
    return type(value).__name__, value


def assert_same(ruleset: str, values: dict[str, Any], cap: Any) -> None:
    plan, grader = compiled(ruleset)
    whole = grader.compiled.unit(values, cap)
    stepwise = decide_unit(plan, grader.compiled, values, cap)
    assert shape(whole) == shape(stepwise), (values.get("unit_id"), cap)


def test_every_bundled_rule_set_has_example_units():
    assert sorted(EXAMPLES) == BUNDLED_RULESETS


@pytest.mark.parametrize("ruleset", BUNDLED_RULESETS)
def test_the_example_units_are_decided_as_step_by_step_under_every_quota_cap(ruleset: str):
    plan, _ = compiled(ruleset)
    units = [u for path in EXAMPLES[ruleset] for u in load_facts(ROOT / path, plan.catalogue, plan.ruleset.year).units
             if u.valid]
    assert len(units) >= 50
    for unit in units:
        for cap in CAPS:
            assert_same(ruleset, engine_values(plan, unit.values), cap)


PLAN_2024, _ = compiled("rules/2024/ruleset-2024.1.yaml")
BASE = load_cases(ROOT / "rules/2024/cases/grading.yaml")[0].base  # an excellent public hospital


@settings(max_examples=300, derandomize=True, database=None, deadline=None, print_blob=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(values=st.one_of(unit_values(PLAN_2024.catalogue, BASE), unit_values(PLAN_2024.catalogue)),
       cap=st.sampled_from(CAPS))
def test_random_units_are_decided_as_step_by_step(values, cap):
    """Random units reach every branch: undecided criteria, vetoes held and undecided, caps, no grade at all."""
    unit = unit_from_row(1, facts_row(values), {}, PLAN_2024.catalogue, "properties")
    if unit.valid:
        assert_same("rules/2024/ruleset-2024.1.yaml", engine_values(PLAN_2024, unit.values), cap)


def test_a_workplace_type_without_a_point_table_is_refused_as_step_by_step():
    _, grader = compiled("rules/2024/ruleset-2024.1.yaml")
    with pytest.raises(KeyError):
        grader.compiled.unit({"workplace_type": "no_such_type"})



def test_an_undecided_veto_is_weighed_as_step_by_step():
    """The excellent hospital with each fact a veto reads left out: a veto that would cap lower keeps the grade
    undecided, one that would not leaves it."""
    _, grader = compiled("rules/2024/ruleset-2024.1.yaml")
    base = engine_values(PLAN_2024, unit_from_row(1, facts_row(BASE), {}, PLAN_2024.catalogue, "case").values)
    undecided = set()
    for _, key, _ in PLAN_2024.outline.vetoes:
        for name in sorted(PLAN_2024.by_key[key].reads):
            values = {k: v for k, v in base.items() if k != name}
            for cap in CAPS:
                assert_same("rules/2024/ruleset-2024.1.yaml", values, cap)
            undecided.update(u for u in grader.compiled.unit(values).choice.undecided if u.startswith("veto."))
    assert undecided, "no veto left the grade undecided: the test reaches nothing"


def test_a_group_without_criteria_scores_zero_as_step_by_step():
    """A catalogue group that no criterion of the rule set is in scores 0 (decided, not unknown), both ways."""
    from engine.backends.compiled import CompiledBackend
    from engine.compiling.compile import compile_plan
    from engine.model import RuleSet

    data = PLAN_2024.ruleset.model_dump()
    data["id"], data["groups"] = "one_group_empty", None
    empty, other = data["criteria"][-1]["group"], data["criteria"][0]["group"]
    for criterion in data["criteria"]:
        criterion["group"] = other if criterion["group"] == empty else criterion["group"]
    plan = compile_plan(dataclasses.replace(PLAN_2024.loaded, ruleset=RuleSet.model_validate(data)))
    backend = CompiledBackend(plan)
    values = engine_values(plan, unit_from_row(1, facts_row(BASE), {}, plan.catalogue, "case").values)
    whole = backend.unit(values)
    assert shape(whole) == shape(decide_unit(plan, backend, values))
    assert whole.one.group_hundredths[empty] == 0 and whole.env[f"group_score.{empty}"] == 0
