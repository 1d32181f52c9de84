"""Grades a batch: every unit through both back ends, then the cohort quota.

Both back ends run for every unit and must agree on every decision; a
disagreement is raised, never resolved.  The tracing back end's record of every
sub-expression is kept: it *is* the explanation of the decision that was made.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Protocol

from engine import aggregate
from engine.aggregate import GradeChoice, Outcomes, StageOne
from engine.backend_durable import DurableBackend
from engine.backend_trace import Trace, evaluate, outcome
from engine.compile import Plan
from engine.errors import EngineDisagreement, Problem
from engine.facts import UnitFacts
from engine.quota import QuotaCandidate, QuotaEffect, apply_quota


class Backend(Protocol):
    name: str

    def decide(self, stage: int, env: Mapping[str, Any]) -> Outcomes: ...


class TraceBackend:
    """Decides by evaluating each tree top-down, keeping the trace of every decision."""

    name = "evaluator"

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


@dataclass
class Decided:
    """One back end's full decision for one unit."""

    outcomes: Outcomes
    one: StageOne
    choice: GradeChoice
    titles: dict[str, Optional[bool]]
    env: dict[str, Any]


def decide_unit(plan: Plan, backend: Backend, values: Mapping[str, Any], quota_cap: Optional[str] = None) -> Decided:
    """Stage 1 → aggregate → stage 2 → grade → stage 3 → titles, for one back end."""
    env = dict(values)
    outcomes = backend.decide(1, env)
    one = aggregate.stage_one(plan, values["workplace_type"], outcomes)
    env.update(one.env())
    outcomes.update(backend.decide(2, env))
    choice = aggregate.choose_grade(plan, one, outcomes, quota_cap)
    env.update(choice.env())
    outcomes.update(backend.decide(3, env))
    return Decided(outcomes, one, choice, aggregate.titles(plan, outcomes), env)


@dataclass
class UnitEvaluation:
    """Everything known about one unit's grading: enough for an audit record."""

    unit: UnitFacts
    status: str
    decided: Optional[Decided] = None
    traces: dict[str, Trace] = field(default_factory=dict)
    quota: Optional[QuotaEffect] = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def grade(self) -> Optional[str]:
        return self.decided.choice.grade if self.decided else None


class Grader:
    """Holds both back ends for one plan; grades units and batches."""

    def __init__(self, plan: Plan, explain: bool = True):
        """``explain=False`` keeps only the traces of undecided decisions (which name the
        missing facts): for comparisons of many units that never print an explanation."""
        self.plan = plan
        self.explain = explain
        self.tracer = TraceBackend(plan)
        self.engine = DurableBackend(plan)

    def unit(self, unit: UnitFacts, quota_cap: Optional[str] = None) -> UnitEvaluation:
        if unit.problems:  # malformed facts (or another year's): the unit cannot be graded
            return UnitEvaluation(unit, "invalid", problems=list(unit.problems))
        self.tracer.traces = {}
        traced = decide_unit(self.plan, self.tracer, unit.values, quota_cap)
        engine = decide_unit(self.plan, self.engine, unit.values, quota_cap)
        _agree(unit.unit_id, traced, engine)
        traces = self.tracer.traces if self.explain else \
            {k: t for k, t in self.tracer.traces.items() if traced.outcomes.get(k) is None}
        return UnitEvaluation(unit, traced.choice.status, traced, dict(traces))

    def batch(self, units: list[UnitFacts], cohort: bool = True) -> list[UnitEvaluation]:
        """Grade every unit, then (``cohort``) apply the quota and re-grade the units it caps."""
        with _frozen_as_we_go() as settle:
            results = []
            for n, u in enumerate(units, start=1):
                results.append(self.unit(u))
                if n % 1000 == 0:
                    settle()
            return self._cohort(results) if cohort else results

    def _cohort(self, results: list[UnitEvaluation]) -> list[UnitEvaluation]:
        quota = self.plan.ruleset.quota
        if quota is None or not quota.enabled:
            return results
        candidates = [self._candidate(r) for r in results if r.status == "graded"]
        effects = apply_quota(quota, candidates)
        for i, result in enumerate(results):
            effect = effects.get(result.unit.unit_id)
            if effect is None:
                continue
            if not effect.kept:
                result = self.unit(result.unit, quota_cap=effect.demote_to)
                results[i] = result
            result.quota = effect
        return results

    def _candidate(self, result: UnitEvaluation) -> QuotaCandidate:
        quota = self.plan.ruleset.quota
        assert quota is not None and result.decided is not None
        values = result.unit.values
        keys = tuple(result.decided.one.score if k.key == "score" else values.get(k.key) for k in quota.rank_by)
        cohort = str(values.get(quota.cohort_by, "")) if quota.cohort_by else ""
        return QuotaCandidate(result.unit.unit_id, cohort, result.grade, keys)


@contextmanager
def _frozen_as_we_go():
    """A batch keeps every unit's trace; the cyclic collector would rescan them all, in
    pauses that grow to seconds (and durable-rules abandons a fact's actions after a
    10-second stall).  Every thousand units, collect what is garbage and freeze the
    rest, so each collection only looks at the newest units."""
    def settle() -> None:
        gc.collect()
        gc.freeze()

    try:
        yield settle
    finally:
        gc.unfreeze()


def _agree(unit_id: str, traced: Decided, engine: Decided) -> None:
    for key, value in traced.outcomes.items():
        other = engine.outcomes.get(key, "missing")
        if other != value:
            raise EngineDisagreement(f"unit '{unit_id}': decision '{key}' is {value} for the evaluator "
                                     f"but {other} for the rule engine")
    mine = (traced.choice.status, traced.choice.grade, traced.titles, traced.one.finance_passed)
    theirs = (engine.choice.status, engine.choice.grade, engine.titles, engine.one.finance_passed)
    if mine != theirs:
        raise EngineDisagreement(f"unit '{unit_id}': the evaluator decided {mine}, the rule engine {theirs}")
