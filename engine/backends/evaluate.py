"""Grades units: the compiled evaluator decides, the rule engine checks every answer, then the quota.

Three back ends, one grade:

* the compiled evaluator (:mod:`engine.backends.compiled`) decides every decision of
  every unit, on integers;
* the rule engine (:mod:`engine.backends.durable`) checks every one of those answers
  for every unit and refuses any it does not reach itself: a disagreement is raised,
  never resolved;
* the tracing evaluator (:mod:`engine.backends.trace`) runs only when an explanation is
  wanted, and must reach the same outcomes: its trace *is* the explanation of the
  decision that was made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Protocol

from engine.backends.compiled import CompiledBackend
from engine.backends.constraints import ConstraintCheck
from engine.backends.durable import DurableBackend
from engine.backends.trace import Trace, evaluate, outcome
from engine.compiling.compile import Plan
from engine.compiling.integers import to_engine
from engine.errors import EngineDisagreement, EngineFault, Problem
from engine.grading import aggregate
from engine.grading.aggregate import Decided, Outcomes
from engine.grading.quota import QuotaCandidate, QuotaEffect, apply_quota, cohort_key, exempt
from engine.model import Status
from engine.reading.facts import UnitFacts


class Backend(Protocol):
    name: str
    integers: bool  # reads engine values (see engine.compiling.integers) rather than exact numbers and dates

    def decide(self, stage: int, env: Mapping[str, Any]) -> Outcomes: ...


class TraceBackend:
    """Decides by evaluating each tree top-down, keeping the trace of every decision."""

    name = "evaluator"
    integers = False

    def __init__(self, plan: Plan):
        self.plan = plan
        self.traces: dict[str, Trace] = {}

    def decide(self, stage: int, env: Mapping[str, Any]) -> Outcomes:
        out: Outcomes = {}
        for decision in self.plan.stage(stage):
            trace = evaluate(decision.expr, env)
            self.traces[decision.key] = trace
            out[decision.key] = outcome(trace)
        return out


def decide_unit(plan: Plan, backend: Backend, values: Mapping[str, Any], quota_cap: Optional[str] = None) -> Decided:
    """Stage 1 → aggregate → stage 2 → grade → stage 3 → titles, for one back end, step by step.

    The compiled back end also does all of it at once (:meth:`CompiledBackend.unit`), which is what grades.
    """
    env = dict(values)
    outcomes = backend.decide(1, env)
    one = aggregate.stage_one(plan, values["workplace_type"], outcomes)
    env.update(one.engine_env() if backend.integers else one.env())
    outcomes.update(backend.decide(2, env))
    choice = aggregate.choose_grade(plan, one, outcomes, quota_cap)
    env.update(choice.env())
    outcomes.update(backend.decide(3, env))
    return Decided(outcomes, one, choice, aggregate.titles(plan, outcomes), env)


def engine_values(plan: Plan, values: Mapping[str, Any]) -> dict[str, Any]:
    """A unit's exact values in their integer forms (see :mod:`engine.compiling.integers`)."""
    return {name: to_engine(plan, name, value) for name, value in values.items()}


@dataclass
class UnitEvaluation:
    """Everything known about one unit's grading: enough for an audit record."""

    unit: UnitFacts
    status: Status
    decided: Optional[Decided] = None
    traces: dict[str, Trace] = field(default_factory=dict)  # every decision's, when an explanation was wanted
    quota: Optional[QuotaEffect] = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def grade(self) -> Optional[str]:
        return self.decided.choice.grade if self.decided else None


class Grader:
    """Holds the back ends for one plan; grades units and batches."""

    def __init__(self, plan: Plan, explain: bool = True):
        """``explain=False`` keeps no trace: for comparisons of many units that print no explanation."""
        self.plan = plan
        self.explain = explain
        self.compiled = CompiledBackend(plan)
        self.engine = DurableBackend(plan)
        self.tracer = TraceBackend(plan)
        self.constraints = ConstraintCheck(plan)

    def decide(self, values: Mapping[str, Any], quota_cap: Optional[str] = None, unit_id: str = "?") -> Decided:
        """Decide one unit from its engine values; the engine must accept every answer."""
        decided = self.compiled.unit(values, quota_cap)
        refused = self.engine.verifier.refused(decided.env, decided.outcomes)
        if refused:
            self._diagnose(unit_id, decided, refused)
        return decided

    def trace(self, unit: UnitFacts, decided: Decided, quota_cap: Optional[str] = None) -> dict[str, Trace]:
        """The trace of every decision, evaluated again from the unit's exact values: it must reach the same outcomes."""
        self.tracer.traces = {}
        traced = decide_unit(self.plan, self.tracer, unit.values, quota_cap)
        _agree(unit.unit_id, traced, decided, "the tracing evaluator", "the compiled evaluator")
        return self.tracer.traces

    def unit(self, unit: UnitFacts, quota_cap: Optional[str] = None) -> UnitEvaluation:
        if unit.problems:  # malformed facts (or another year's): the unit cannot be graded
            return UnitEvaluation(unit, "invalid", problems=list(unit.problems))
        values = engine_values(self.plan, unit.values)
        broken = self.constraints.problems(values, unit.cells, unit.source)
        if broken:  # facts that cannot all be true together: neither
            unit.problems += broken
            return UnitEvaluation(unit, "invalid", problems=list(unit.problems))
        decided = self.decide(values, quota_cap, unit.unit_id)
        traces = self.trace(unit, decided, quota_cap) if self.explain else {}
        return UnitEvaluation(unit, decided.choice.status, decided, traces)

    def batch(self, units: list[UnitFacts], cohort: bool = True) -> list[UnitEvaluation]:
        """Grade every unit, then (``cohort``) apply the quota and re-grade the units it caps."""
        results = [self.unit(u) for u in units]
        return self._cohort(results) if cohort else results

    def _cohort(self, results: list[UnitEvaluation]) -> list[UnitEvaluation]:
        quota = self.plan.ruleset.quota
        if quota is None or not quota.enabled:
            return results
        candidates = [quota_candidate(self.plan, r.unit.unit_id, r.unit.values, r.decided) for r in results
                      if r.status == "graded"]
        effects = apply_quota(quota, candidates, frozenset(r.unit.unit_id for r in results if exempt(quota, r.unit.values)))
        for i, result in enumerate(results):
            effect = effects.get(result.unit.unit_id)
            if effect is None:
                continue
            if not effect.kept:
                result = self.unit(result.unit, quota_cap=effect.demote_to)
                results[i] = result
            result.quota = effect
        return results

    def _diagnose(self, unit_id: str, decided: Decided, refused: list[str]) -> None:
        """The engine refused some answers: decide them in the engine alone, and say which and how."""
        engine: dict[str, Optional[bool]] = {}
        for stage in (1, 2, 3):
            engine.update(self.engine.decide_engine(stage, decided.env))
        for key, value in decided.outcomes.items():
            other = engine.get(key, "missing")
            if other != value:
                raise EngineDisagreement(f"unit '{unit_id}': decision '{key}' is {value} for the evaluator "
                                         f"but {other} for the rule engine")
        raise EngineFault(f"unit '{unit_id}': the rule engine refused the answers to {', '.join(sorted(set(refused)))}, "
                          "yet decides them the same way on its own")


def quota_candidate(plan: Plan, unit_id: str, values: Mapping[str, Any], decided: Decided) -> QuotaCandidate:
    """What the quota ranks a graded unit by: its cohort, grade and rank keys (exact values)."""
    quota = plan.ruleset.quota
    assert quota is not None
    keys = tuple(decided.one.score if k.key == "score" else values.get(k.key) for k in quota.rank_by)
    return QuotaCandidate(unit_id, cohort_key(quota, values, unit_id), decided.choice.grade, keys)


def _agree(unit_id: str, mine: Decided, theirs: Decided, me: str = "the evaluator", them: str = "the rule engine") -> None:
    for key, value in mine.outcomes.items():
        other = theirs.outcomes.get(key, "missing")
        if other != value:
            raise EngineDisagreement(f"unit '{unit_id}': decision '{key}' is {value} for {me} but {other} for {them}")
    a = (mine.choice.status, mine.choice.grade, mine.titles, mine.one.finance_passed)
    b = (theirs.choice.status, theirs.choice.grade, theirs.titles, theirs.one.finance_passed)
    if a != b:
        raise EngineDisagreement(f"unit '{unit_id}': {me} decided {a}, {them} {b}")
