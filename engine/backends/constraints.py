"""The catalogue's constraints across a unit's facts, checked before the unit is graded; and the quota's
cohort facts, where the rule set grades a unit that does not report them invalid.

A unit that reports more tasks done on time than it was assigned, or more members than
workers, reported something impossible: it would otherwise be scored (perhaps 100, a
candidate for excellent).  Such a unit is ``invalid``, as one with a malformed cell is,
with a message at the cell of the first fact the constraint reads that names every fact
it read, its value and its cell.  A constraint that cannot be decided (a fact not
reported) does not make the unit invalid: what is missing is said where it matters.
The constraints are compiled once per plan by the compiled evaluator, so every path that
grades a unit (a file, a single unit, a test case, a replay) checks them the same way.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from engine.backends.compiled import Test, compile_condition
from engine.compiling.compile import Decision, Plan
from engine.errors import Problem
from engine.reading.facts import Cell, from_integer
from engine.values import data, written


class ConstraintCheck:
    """The plan's constraints, each one compiled test over a unit's engine values."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.tests: list[tuple[Decision, Test]] = [(d, compile_condition(plan, d.expr)) for d in plan.constraints]
        quota = plan.ruleset.quota
        self.cohort = quota.cohort_facts if quota is not None and quota.enabled and quota.missing_cohort == "invalid" \
            else []

    def problems(self, engine: Mapping[str, Any], cells: Mapping[str, Cell], source: str) -> list[Problem]:
        """A located problem for each constraint the unit's facts break (``engine``: its engine values), and for
        each cohort fact it does not report when the rule set ranks units only within their cohort."""
        out = []
        for decision, test in self.tests:
            if test(engine) is False:
                out.append(self._problem(decision, engine, cells, source))
        for name in self.cohort:
            if name not in engine or engine[name] == "":
                at = cells.get(name) or cells.get("unit_id")
                rs = self.plan.ruleset
                out.append(Problem(source, f"column '{name}': not reported; the quota ranks a unit among those of the "
                                           f"same {' and '.join(self.cohort)}, and rule set {rs.id} {rs.version} "
                                           "grades a unit that does not say which invalid (quota.missing_cohort)",
                                   at.line if at else None, at.column if at and name in cells else None))
        return out

    def _problem(self, decision: Decision, engine: Mapping[str, Any], cells: Mapping[str, Cell],
                 source: str) -> Problem:
        facts = self.plan.catalogue.facts
        ident = decision.key.split(".", 1)[1]
        label = self.plan.catalogue.constraints[ident].label  # type: ignore[index]
        read = [name for name in decision.reading if name in facts]
        shown = []
        for name in read:
            shown.append(f"{name} = {written(data(from_integer(facts[name], engine[name])))}{_at(cells.get(name))}")
        first = cells.get(read[0]) if read else None
        return Problem(source, f"the facts break the catalogue's constraint '{ident}' ({decision.source}): "
                               f"{', '.join(shown)}: {label.en}",
                       first.line if first else None, first.column if first else None)


def _at(cell: Optional[Cell]) -> str:
    if cell is None or cell.line is None:
        return ""
    return f" (line {cell.line}, column {cell.column})" if cell.column is not None else f" (line {cell.line})"
