"""Each back end checked on its own against a table of conditions and expected outcomes.

The two back ends are compared with each other on every unit; this table makes sure
that each of them is also *right* on its own, so that both cannot drift together and
that the rule engine really decides (a back end that copied the other's answer would
pass every comparison).  The table is ``tests/engine/checks.yaml``.
"""
from __future__ import annotations

import json
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import pytest
import yaml

import durable.engine as durable_engine
from conftest import ROOT, compiled, plan_with
from engine.backends.compiled import CompiledBackend
from engine.backends.durable import DurableBackend
from engine.compiling.compile import Plan
from engine.backends.evaluate import TraceBackend
from engine.reading.facts import parse_value

CHECKS = yaml.safe_load((ROOT / "tests" / "engine" / "checks.yaml").read_text(encoding="utf-8"))["checks"]


CONDITIONS = sorted({(c.get("stage", 1), c["when"]) for c in CHECKS})  # each distinct condition is compiled once


def _key(check: dict) -> str:
    stage = check.get("stage", 1)
    ident = f"checked_{CONDITIONS.index((stage, check['when']))}"
    return {1: f"veto.{ident}", 2: f"level.excellent.{ident}", 3: f"title.cultural_unit.{ident}"}[stage]


@lru_cache(maxsize=None)
def checks_plan() -> Plan:
    """The 2024 rule set with every checked condition added where its stage allows it."""
    base, _ = compiled("rules/2024/ruleset-2024.1.yaml")
    by_stage: dict[int, list] = {1: [], 2: [], 3: []}
    for n, (stage, when) in enumerate(CONDITIONS):
        by_stage[stage].append((f"checked_{n}", when))
    return plan_with(base, "engine_checks", by_stage[1], by_stage[2], by_stage[3])


@lru_cache(maxsize=None)
def back_ends() -> dict[str, Any]:
    plan = checks_plan()
    return {"evaluator": TraceBackend(plan), "compiled": CompiledBackend(plan), "durable_rules": DurableBackend(plan)}


def decide(name: str, stage: int, env: dict) -> dict:
    backend = back_ends()[name]
    return backend.decide_native(stage, env) if name == "compiled" else backend.decide(stage, env)


def env_of(plan: Plan, facts: dict) -> dict[str, Any]:
    """The facts as typed values (read as a facts file reads them); outcomes as the aggregate makes them."""
    env: dict[str, Any] = {}
    for name, raw in facts.items():
        if name in plan.fact_types:
            env[name] = parse_value(raw, plan.fact_types[name])
        elif name == "score" or name.startswith("group_score."):
            env[name] = Fraction(str(raw))
        else:  # check.<id>, finance_passed, grade
            env[name] = raw
    return env


def test_every_check_has_a_unique_id_and_an_expected_outcome():
    ids = [c["id"] for c in CHECKS]
    assert len(ids) == len(set(ids))
    assert all(c["expect"] in (True, False, None) and "when" in c for c in CHECKS)
    assert {c["expect"] for c in CHECKS} == {True, False, None}


@pytest.mark.parametrize("name", ["evaluator", "compiled", "durable_rules"])
@pytest.mark.parametrize("check", CHECKS, ids=[c["id"] for c in CHECKS])
def test_back_end_decides_as_the_table_says(name: str, check: dict):
    plan = checks_plan()
    outcome = decide(name, check.get("stage", 1), env_of(plan, check["facts"]))[_key(check)]
    assert outcome is check["expect"], f"{name}: '{check['when']}' with {check['facts']} gave {outcome}"


def test_large_conditions_are_really_decided_in_parts():
    """The split checks only test the combination of parts if the engine refused them whole."""
    engine: DurableBackend = back_ends()["durable_rules"]
    leaves = {leaf.key for stage in engine.stages.values() for ruleset, _, _ in stage for leaf in ruleset.leaves}
    for check in (c for c in CHECKS if c.get("split")):
        key = _key(check)
        assert key not in leaves and any(k.startswith(f"{key}#") for k in leaves), check["id"]
    assert all("#" not in k for k in leaves if not any(k.startswith(_key(c)) for c in CHECKS if c.get("split")))


def test_the_rule_engine_decides_from_what_it_is_given(monkeypatch):
    """Facts altered on their way into durable-rules change its decision, and only its:
    the engine back end's outcomes come from the engine, not from the evaluator."""
    plan = checks_plan()
    evaluator, engine = back_ends()["evaluator"], back_ends()["durable_rules"]
    check = next(c for c in CHECKS if c["id"] == "gte_at")
    key, env = _key(check), env_of(plan, check["facts"])
    assert engine.decide(1, env)[key] is True
    real = durable_engine.durable_rules_engine.assert_fact

    def lowered(handle, text: str):
        fact = json.loads(text)
        if "tasks_done" in fact:
            fact["tasks_done"] -= 1
        return real(handle, json.dumps(fact))

    monkeypatch.setattr(durable_engine.durable_rules_engine, "assert_fact", lowered)
    assert engine.decide(1, env)[key] is False
    assert evaluator.decide(1, env)[key] is True


def test_a_unit_that_overflows_the_engines_stack_is_checked_again_in_smaller_facts():
    """durable-rules walks the nodes a fact matches on a stack of 64 (error 303 beyond): a unit with most
    answers unusual matches too many at once, and is checked again in smaller facts, not refused."""
    base, _ = compiled("rules/2024/ruleset-2024.1.yaml")
    plan = plan_with(base, "engine_checks_overflow", [(f"many_{i}", f"tasks_done >= {i}") for i in range(70)])
    from engine.backends.evaluate import Grader, decide_unit, engine_values

    grader = Grader(plan, explain=False)
    verifier = grader.engine.verifier
    env = engine_values(plan, {**{k: v for k, v in _base_values(plan).items()}, "tasks_done": 100})
    decided = decide_unit(plan, grader.compiled, env)
    assert sum(decided.outcomes[f"veto.many_{i}"] for i in range(70)) == 70  # every veto held: all unusual
    with pytest.raises(durable_engine.durable_rules_engine.error, match="303"):
        verifier._check(verifier.coarse, decided.env, decided.outcomes)
    assert verifier.refused(decided.env, decided.outcomes) == []
    wrong = dict(decided.outcomes, **{"veto.many_69": False})
    assert verifier.refused(decided.env, wrong) == ["veto.many_69"]


def _base_values(plan) -> dict:
    from engine.authoring.cases import load_cases
    from engine.reading.facts import unit_from_row

    base = load_cases(ROOT / "rules/2024/cases/grading.yaml")[0].base
    return unit_from_row(1, dict(base), {}, plan.catalogue, "base").values


STAGE_ONE = [c for c in CHECKS if c.get("stage", 1) == 1]


@pytest.mark.parametrize("check", STAGE_ONE, ids=[c["id"] for c in STAGE_ONE])
def test_the_engine_accepts_the_right_answer_and_refuses_a_wrong_one(check: dict):
    """What ``cdcs grade`` runs for every unit: the compiled evaluator decides, the engine checks each answer
    (a split decision part by part, and the parts' combination)."""
    from engine.backends.evaluate import decide_unit
    from engine.compiling.integers import to_engine

    plan = checks_plan()
    facts = {"workplace_type": "public_service", **check["facts"]}  # the point table needs one
    values = {k: to_engine(plan, k, v) for k, v in env_of(plan, facts).items()}
    decided = decide_unit(plan, back_ends()["compiled"], values, None)
    key = _key(check)
    assert decided.outcomes[key] is check["expect"]
    verifier = back_ends()["durable_rules"].verifier
    assert verifier.refused(decided.env, decided.outcomes) == []
    for wrong in [a for a in (True, False, None) if a is not check["expect"]]:
        refused = verifier.refused(decided.env, {**decided.outcomes, key: wrong})
        assert key in refused, f"the engine accepted {wrong} for '{check['when']}' with {check['facts']}"


STAGE_TWO = [c for c in CHECKS if c.get("stage", 1) == 2]


def _stage_one(facts: dict):
    """What the aggregate hands stage 2 for these outcomes: points in hundredths, the checks, the finance verdict."""
    from engine.grading.aggregate import HUNDREDTHS, StageOne

    def hundredths(points) -> int:
        exact = Fraction(str(points)) * HUNDREDTHS
        assert exact.denominator == 1, points
        return int(exact)

    return StageOne(eligible=True, scored=[], vetoes_held=[], vetoes_unknown=[],
                    score_hundredths=hundredths(facts["score"]) if "score" in facts else None,
                    group_hundredths={n.split(".", 1)[1]: hundredths(v) for n, v in facts.items()
                                      if n.startswith("group_score.")},
                    checks={n.split(".", 1)[1]: v for n, v in facts.items() if n.startswith("check.")},
                    finance_passed=facts.get("finance_passed"))


@pytest.mark.parametrize("check", STAGE_TWO, ids=[c["id"] for c in STAGE_TWO])
def test_stage_two_reads_the_outcomes_as_the_aggregate_hands_them_over(check: dict):
    """What ``cdcs grade`` runs between stages: the compiled evaluator and the engine read the points in the
    aggregate's own hundredths (not converted from exact numbers as the table's other tests do), and must still
    decide as the table says."""
    from engine.compiling.integers import to_engine

    plan = checks_plan()
    outcomes = ("score", "group_score.", "check.", "finance_passed")
    facts = {k: v for k, v in check["facts"].items() if not k.startswith(outcomes)}
    env = {k: to_engine(plan, k, v) for k, v in env_of(plan, facts).items()}
    env.update(_stage_one(check["facts"]).engine_env())
    key = _key(check)
    assert back_ends()["compiled"].decide(2, env)[key] is check["expect"], check["when"]
    assert back_ends()["durable_rules"].decide_engine(2, env)[key] is check["expect"], check["when"]


def test_an_explanation_whose_trace_reaches_other_outcomes_than_the_decision_is_refused():
    """The tracing evaluator decides again from the exact values when an explanation is wanted: a trace that
    does not reach the outcomes that were decided is a disagreement, never shown as the explanation."""
    from engine.errors import EngineDisagreement
    from engine.backends.evaluate import engine_values
    from engine.reading.facts import load_facts

    plan, grader = compiled("rules/2024/ruleset-2024.1.yaml")
    units = {u.unit_id: u for u in load_facts(ROOT / "examples" / "province_2024.csv", plan.catalogue,
                                              plan.ruleset.year).units}
    mine, other = units["HL-VP01"], units["HL-BV09"]
    decided = grader.decide(engine_values(plan, mine.values), unit_id=mine.unit_id)
    traces = grader.trace(mine, decided)
    assert set(traces) == set(decided.outcomes)
    assert grader.decide(engine_values(plan, other.values)).outcomes != decided.outcomes
    with pytest.raises(EngineDisagreement, match="unit 'HL-BV09': decision '.*' is .* for the tracing evaluator "
                                                 "but .* for the compiled evaluator"):
        grader.trace(other, decided)


@pytest.mark.parametrize("check", CHECKS, ids=[c["id"] for c in CHECKS])
def test_the_trace_names_the_facts_whose_absence_it_met(check: dict):
    """What an explanation lists as missing for a condition: each absent fact it read, once, in reading order."""
    plan = checks_plan()
    tracer = back_ends()["evaluator"]
    tracer.traces = {}
    key = _key(check)
    outcome = tracer.decide(check.get("stage", 1), env_of(plan, check["facts"]))[key]
    assert outcome is check["expect"]
    trace = tracer.traces[key]
    # present() asks whether a fact is there: its absence is an answer, not a gap
    outside_present = re.sub(r"present\(\s*\w+\s*\)", "", check["when"])
    absent = [n for n in dict.fromkeys(plan.by_key[key].reading)
              if n not in check["facts"] and re.search(rf"\b{n}\b", outside_present)]
    assert trace.missing() == absent, check["when"]
    assert len(trace.missing()) == len(set(trace.missing()))


def test_the_64_bit_bound_is_exact_one_step_inside_and_outside():
    """The engine computes in signed 64 bits: a coefficient whose worst case (every amount at the catalogue's
    maximum) stays under 2^62 is compiled, one more is refused with its place."""
    from engine.errors import RuleSetError
    from engine.model import MAX_MAGNITUDE

    base, _ = compiled("rules/2024/ruleset-2024.1.yaml")
    largest = (2 ** 62 - 2) // MAX_MAGNITUDE  # worst case: largest × MAX_MAGNITUDE + 1 < 2^62
    DurableBackend(plan_with(base, "bound_inside", [("inside", f"kpcd_due_vnd * {largest} >= 1")]))
    with pytest.raises(RuleSetError, match="too precise for exact 64-bit arithmetic"):
        DurableBackend(plan_with(base, "bound_outside", [("outside", f"kpcd_due_vnd * {largest + 1} >= 1")]))
    # the constant counts too: worst = constant + largest × MAX_MAGNITUDE, exactly 2^62 - 1, then 2^62
    constant = 2 ** 62 - 1 - largest * MAX_MAGNITUDE
    DurableBackend(plan_with(base, "bound_at", [("at", f"kpcd_due_vnd * {largest} >= {constant}")]))
    with pytest.raises(RuleSetError, match="too precise for exact 64-bit arithmetic"):
        DurableBackend(plan_with(base, "bound_past", [("past", f"kpcd_due_vnd * {largest} >= {constant + 1}")]))
    # a percentage counts in hundredths: members_informed_pct * n >= 1 is n × pct_hundredths >= 100, whose worst
    # case is n × MAX_MAGNITUDE × 100 + 100 (n prime to 100, so that nothing reduces)
    from math import gcd
    largest = (2 ** 62 - 1 - 100) // (MAX_MAGNITUDE * 100)
    outside = next(n for n in range(largest + 1, largest + 10) if gcd(n, 100) == 1)
    assert gcd(largest, 100) == 1 and (outside * MAX_MAGNITUDE * 100 + 100) >= 2 ** 62
    DurableBackend(plan_with(base, "pct_inside", [("inside", f"members_informed_pct * {largest} >= 1")]))
    with pytest.raises(RuleSetError, match="too precise for exact 64-bit arithmetic"):
        DurableBackend(plan_with(base, "pct_outside", [("outside", f"members_informed_pct * {outside} >= 1")]))


@pytest.mark.parametrize("ruleset, facts", [("rules/2024/ruleset-2024.1.yaml", "examples/province_2024.csv"),
                                            ("rules/2025/ruleset-2025.2.yaml", "examples/province_2025.csv")])
def test_each_fact_is_the_json_of_its_values_and_unusual_answers_whether_its_text_was_kept_or_not(ruleset, facts):
    """The verifier keeps the text of a field's values from one unit to the next: every unit's facts must still be
    the JSON of what it carries (a bool as 1 or 0), the first time a value is met and every time after."""
    from engine.backends.durable import ZERO, Verifier
    from engine.backends.evaluate import engine_values
    from engine.reading.facts import load_facts
    from engine.compiling.integers import field_name

    plan, grader = compiled(ruleset)
    verifier = Verifier(plan, grader.engine)  # its own kept texts: none yet
    units = [u for u in load_facts(ROOT / facts, plan.catalogue, plan.ruleset.year).units if u.valid]
    decided = [grader.decide(engine_values(plan, u.values)) for u in units]
    flags = [n for n, spec in plan.fact_types.items() if spec.type == "bool"]
    decided.append(grader.decide(engine_values(plan, units[0].values)))
    decided[-1].env.update({n: bool(decided[-1].env[n]) for n in flags if n in decided[-1].env})  # as 1 and 0
    for _ in range(2):
        for d in decided:
            for (ruleset_, _, write, _), verify in zip(verifier.coarse, verifier.verify.rulesets):
                fact = {"kind": verify.kind, "sid": Verifier.SID, ZERO: 0}
                fact.update({field_name(n): int(d.env[n]) if isinstance(d.env[n], bool) else d.env[n]
                             for n in verify.fields if d.env.get(n) is not None})
                fact.update({f"p{leaf.index}": {None: 2, True: 1, False: 0}[d.outcomes[leaf.key]]
                             for leaf in verify.leaves if d.outcomes[leaf.key] is not leaf.usual})
                assert write(d.env, d.outcomes) == json.dumps(fact, ensure_ascii=False, separators=(",", ":"))
