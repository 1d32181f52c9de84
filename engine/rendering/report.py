"""The committee's report: a year's graded units against a programme's targets, as data.

Built unit by unit from results as data (status, grade, titles, verdict, each decision's
outcome, a few facts), never from sentences, so that its memory is a tally per target
and breakdown, not a copy of the batch.  For each target: the units it counts over,
those that count, those that could not be decided, the value, whether it is met, and
the gap in units (how many more units would meet it); for the whole batch and by upper
union, by workplace group (the target set's groups) and by emulation bloc.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional

from engine import keys
from engine.backends.compiled import compile_condition
from engine.compiling.compile import Plan
from engine.compiling.targets import Target, Targets, grade_reaches
from engine.explaining.explain import labels_shown, reasons, ruleset_data
from engine.ledger.record import evaluation_from, outcomes_of
from engine.values import number

BREAKDOWNS = ("upper_union", "workplace_group", "emulation_bloc")
BREAKDOWN_FACTS = ("upper_union", "emulation_bloc", "workplace_type")
BLOCKING_LISTED = 1000  # units listed as keeping a target from being met (the rest are counted)
NOT_GIVEN = ""  # a breakdown key for units that do not report it
OTHER_GROUP = "other"


@dataclass
class Tally:
    units: int = 0  # counted over (the denominator)
    count: int = 0  # that count toward the target
    unknown: int = 0  # whose measure could not be decided (a fact not reported)
    weight: Fraction = Fraction(0)  # a mean's: the sum of the weights ...
    weighted: Fraction = Fraction(0)  # ... and of value × weight


class ReportBuilder:
    """Receives each unit's result in input order (:meth:`add`) and gives the report (:meth:`result`)."""

    def __init__(self, plan: Plan, targets: Targets, keep_units: bool = False):
        """``keep_units``: also keep each unit's decision, to list every unit with why it got its grade (a page
        for people; memory grows with the batch, unlike the tallies)."""
        self.plan, self.targets = plan, targets
        self.kept: Optional[list[dict]] = [] if keep_units else None
        self.tests = {key: compile_condition(plan, node) for key, node in targets.conditions.items()}
        self.facts = tuple(dict.fromkeys(targets.facts + BREAKDOWN_FACTS))
        self.tallies: dict[str, dict[tuple[str, str], Tally]] = {t.id: {} for t in targets.model.targets}
        self.blocking: dict[str, list[dict]] = {t.id: [] for t in targets.model.targets}
        self.states: dict[tuple[str, str], Counter] = {}
        self.failed: Counter = Counter()
        self.units = 0

    def add(self, unit_id: str, name: Optional[str], decision: dict[str, Any], facts: dict[str, Any]) -> None:
        self.units += 1
        state = decision.get("grade") if decision["status"] == "graded" else decision["status"]
        group = next((gid for gid in self.targets.model.groups if self.tests[f"group.{gid}"](facts) is True),
                     OTHER_GROUP)
        places = [("all", ""), ("upper_union", str(facts.get("upper_union") or NOT_GIVEN)), ("workplace_group", group),
                ("emulation_bloc", str(facts.get("emulation_bloc") or NOT_GIVEN))]
        for key in places:
            self.states.setdefault(key, Counter())[state] += 1
        if self.kept is not None:
            self.kept.append({"unit_id": unit_id, "name": name, "state": state, "group": group,
                              "upper_union": places[1][1], "emulation_bloc": places[3][1],
                              "workplace_type": facts.get("workplace_type"), "decision": decision})
        if "outcomes" in decision:
            outcomes = outcomes_of(self.plan, decision)
            self.failed.update(c.id for c in self.plan.ruleset.finance.checks if outcomes[keys.check(c.id)] is False)
        for target in self.targets.model.targets:
            if target.measure.needs_fact is not None or not self._counted_over(target, decision, group):
                continue
            counts, mean = self._measure(target, decision, facts)
            for key in places:
                tally = self.tallies[target.id].setdefault(key, Tally())
                tally.units += 1
                tally.count += counts is True
                tally.unknown += counts is None
                if mean is not None:
                    tally.weight += mean[1]
                    tally.weighted += mean[0] * mean[1]
            if counts is not True and target.measure.mean_of is None:
                blocking = self.blocking[target.id]
                if len(blocking) < BLOCKING_LISTED:
                    blocking.append({"unit_id": unit_id, "name": name, "state": state,
                                     "measure": "unknown" if counts is None else "not_met"})

    def _counted_over(self, target: Target, decision: dict, group: str) -> bool:
        if target.of == "all":
            return True
        if target.of == "graded":
            return decision["status"] == "graded"
        return group == target.of

    def _measure(self, target: Target, decision: dict, facts: dict) -> tuple[Optional[bool], Optional[tuple]]:
        """Whether the unit counts (None: undecided), and for a mean its (value, weight)."""
        m = target.measure
        if m.grade_at_least is not None:
            return grade_reaches(decision.get("grade") if decision["status"] == "graded" else None,
                                 m.grade_at_least), None
        if m.title is not None:
            return (decision.get("titles") or {}).get(m.title), None
        if m.fact is not None:
            value = facts.get(m.fact)
            return None if value is None else value == 1, None
        if m.condition is not None:
            return self.tests[f"target.{target.id}"](facts), None
        value, weight = facts.get(m.mean_of), facts.get(m.weighted_by)
        if value is None or weight is None:
            return None, None
        specs = self.plan.catalogue.facts
        exact = (Fraction(value, 10 ** specs[m.mean_of].scale), Fraction(weight, 10 ** specs[m.weighted_by].scale))
        return True, exact

    def result(self) -> dict[str, Any]:
        model = self.targets.model
        return {
            "targets": {"id": model.id, "version": model.version, "sha256": self.targets.sha256,
                        "title": model.title.model_dump(), "source": model.source},
            "ruleset": ruleset_data(self.plan),
            "units": self.units,
            "groups": {gid: g.label.model_dump() for gid, g in model.groups.items()},
            "results": [self._target_result(t) for t in model.targets],
            "grades": self._grades(),
            "findings": [{"check": c.id, "label": labels_shown(self.plan, c.label), "units": self.failed[c.id]}
                         for c in sorted(self.plan.ruleset.finance.checks, key=lambda c: -self.failed[c.id])
                         if self.failed[c.id]],
        }

    def unit_rows(self, lang: str) -> list[dict[str, Any]]:
        """Every kept unit in input order with its grade and the reasons for it, in ``lang`` (for a page)."""
        rows = []
        for unit in self.kept or []:
            decision = unit["decision"]
            if "outcomes" in decision:
                ev = evaluation_from(self.plan, unit["unit_id"], {"name": unit["name"],
                                                                  "workplace_type": unit["workplace_type"]}, decision)
                why = [{"code": r["code"], "rule": r["rule"], "message": r["message"]} for r in reasons(self.plan, ev, lang)]
            else:  # its facts could not be read: the problems are the reasons
                why = [{"code": "invalid_facts", "rule": None, "message": p} for p in decision.get("problems", [])]
            rows.append({k: unit[k] for k in ("unit_id", "name", "state", "group", "upper_union", "emulation_bloc")}
                        | {"score": decision.get("score"), "reasons": why})
        return rows

    def _target_result(self, target: Target) -> dict[str, Any]:
        out: dict[str, Any] = {"id": target.id, "reference": target.reference, "period": target.period,
                               "label": target.label.model_dump(), "text": target.text, "kind": target.kind,
                               "at_least": number(Fraction(str(target.at_least))), "of": target.of,
                               "measure": target.measure.model_dump(exclude_none=True)}
        if target.measure.needs_fact is not None:
            out["measurable"] = False
            out["not_measurable"] = f"no fact {target.measure.needs_fact}"
            return out
        out["measurable"] = True
        tallies = self.tallies[target.id]
        out["overall"] = _figures(target, tallies.get(("all", ""), Tally()))
        out["by"] = {b: [{"key": key, **_figures(target, tally)} for (kind, key), tally in sorted(tallies.items())
                         if kind == b] for b in BREAKDOWNS}
        listed = self.blocking[target.id]
        out["blocking"] = listed
        out["blocking_not_listed"] = max(0, out["overall"]["units"] - out["overall"]["count"] - len(listed)) \
            if target.measure.mean_of is None else 0
        return out

    def _grades(self) -> dict[str, Any]:
        states = ("excellent", "good", "completed", "not_completed", "not_graded", "invalid")
        whole = self.states.get(("all", ""), Counter())
        return {"overall": {s: whole[s] for s in states},
                "by": {b: [{"key": key, **{s: c[s] for s in states}} for (kind, key), c in sorted(self.states.items())
                           if kind == b] for b in BREAKDOWNS}}


def _figures(target: Target, tally: Tally) -> dict[str, Any]:
    """Value, met and gap of one tally: a share of units, a count, or a weighted mean."""
    goal = Fraction(str(target.at_least))
    out: dict[str, Any] = {"units": tally.units, "count": tally.count, "unknown": tally.unknown}
    if tally.units == 0:
        return {**out, "value": None, "met": None, "gap": None, "no_units": True}
    if target.measure.mean_of is not None:
        if tally.weight == 0:
            return {**out, "value": None, "met": None, "gap": None, "no_units": True}
        value = tally.weighted / tally.weight
        short = goal * tally.weight / 100 - tally.weighted / 100  # in the weight's own unit (members)
        return {**out, "weight": number(tally.weight), "value": _percent(value), "met": value >= goal,
                "gap": max(0, math.ceil(short)), "gap_of": "weight"}
    if target.kind == "count":
        return {**out, "value": tally.count, "met": tally.count >= goal, "gap": max(0, math.ceil(goal - tally.count)),
                "gap_of": "units"}
    value = Fraction(100 * tally.count, tally.units)
    needed = math.ceil(goal * tally.units / 100)
    return {**out, "value": _percent(value), "met": value >= goal, "gap": max(0, needed - tally.count),
            "gap_of": "units"}


def _percent(value: Fraction) -> float:
    """A percentage for people: two decimals, rounded half up on the exact value (never a float's binary error)."""
    hundredths = math.floor(value * 100 + Fraction(1, 2))
    return hundredths / 100

