"""What a new rule set would change for real units, and which rules change it.

The same units are graded under both rule sets; every unit whose status, grade, title or
financial verdict differs is listed with the rules responsible: the conditions whose
outcome differs (or that exist on one side only and decide against the unit), the
criteria whose points differ, and the quota.  Units are matched by id.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Optional

from engine import keys
from engine.backends.evaluate import UnitEvaluation
from engine.compiling.compile import Plan
from engine.explaining.explain import verdict
from engine.grading.aggregate import points
from engine.model import GRADES, Status
from engine.values import number

STATES = (*GRADES, "not_graded", "invalid")
"""Rows of the distribution: the grades from the top down, then the units without one."""

# A decision present on one side only matters when it decides against the unit there:
# a requirement that does not hold, a veto that does.
_AGAINST = {"veto": True}


@dataclass(frozen=True)
class Side:
    """One unit's result under one rule set, in the terms the impact compares."""

    status: Status
    grade: Optional[str]
    score: Optional[Fraction]
    titles: dict[str, Optional[bool]]
    verdict: Optional[str]
    quota: Optional[str]  # kept | demoted | None

    @property
    def state(self) -> str:
        return self.grade if self.status == "graded" and self.grade else self.status


@dataclass
class UnitImpact:
    unit_id: str
    name: str
    before: Side
    after: Side
    move: str  # up | down | same | status
    changed: list[str]  # grade, status, titles.<id>, financial_audit, score
    rules: list[dict[str, Any]] = field(default_factory=list)  # {rule, before, after}
    missing_after: list[str] = field(default_factory=list)  # facts the new rule set lacks that the old did not need

    def as_data(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            return {"status": s.status, "grade": s.grade, "score": None if s.score is None else number(s.score),
                    "titles": s.titles, "financial_audit": s.verdict, "quota": s.quota}

        return {"unit_id": self.unit_id, "name": self.name, "move": self.move, "changed": self.changed,
                "before": side(self.before), "after": side(self.after), "rules": self.rules,
                "newly_missing_facts": self.missing_after}


@dataclass
class Impact:
    """The comparison counted as the units go by: each unit that changes is handed on as it is found (to a spool,
    in input order), never kept here, so that memory does not grow with the units a change moves."""

    compared: int = 0
    distribution: dict[str, dict[str, int]] = field(  # state → {"before": n, "after": n}
        default_factory=lambda: {s: {"before": 0, "after": 0} for s in STATES})
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0))

    def count(self, unit: UnitImpact) -> None:
        counts = self.counts
        counts["changed"] += 1
        if unit.move in _MOVES:
            counts[_MOVES[unit.move]] += 1
        for title in sorted(set(unit.before.titles) | set(unit.after.titles)):
            before, after = unit.before.titles.get(title), unit.after.titles.get(title)
            counts["titles_gained"] += after is True and before is not True
            counts["titles_lost"] += before is True and after is not True
        counts["verdict_changed"] += "financial_audit" in unit.changed

    def summary(self) -> dict[str, int]:
        return {"units": self.compared, **self.counts}


_COUNTED = ("changed", "grade_up", "grade_down", "status_changed", "titles_gained", "titles_lost", "verdict_changed")
_MOVES = {"up": "grade_up", "down": "grade_down", "status": "status_changed"}


def side(ev: UnitEvaluation) -> Side:
    d = ev.decided
    quota = None if ev.quota is None else ("kept" if ev.quota.kept else "demoted")
    if d is None:
        return Side(ev.status, None, None, {}, None, quota)
    return Side(ev.status, d.choice.grade, d.one.score, dict(d.titles), verdict(d.one.finance_passed), quota)


def side_of(decided: Mapping[str, Any]) -> Side:
    """The same from a decision as data (:func:`engine.ledger.record.decision`): nothing is worked out again."""
    quota = decided.get("quota")
    if "outcomes" not in decided:  # not graded: its evaluation keeps no decision, and no quota effect
        return Side(decided["status"], None, None, {}, None, None)
    return Side(decided["status"], decided["grade"], points(decided["score"]), dict(decided["titles"]),
                decided["verdict"], None if quota is None else ("kept" if quota["kept"] else "demoted"))


Evaluations = tuple[UnitEvaluation, list[str], UnitEvaluation, list[str]]  # before, its missing facts, after, its


def compare(old: Plan, new: Plan, pairs: Iterable[tuple[Side, Side, Callable[[], Evaluations]]],
            keep: Callable[[UnitImpact], None]) -> Impact:
    """Compare two gradings unit by unit, in input order: each unit's two sides, and how to make its two
    evaluations, asked only of the units that change, which go to ``keep`` in that order."""
    impact = Impact()
    for a, b, evaluations in pairs:
        impact.compared += 1
        impact.distribution[a.state]["before"] += 1
        impact.distribution[b.state]["after"] += 1
        changed = _changed(a, b)
        if not changed:
            continue
        ev_a, missing_a, ev_b, missing_b = evaluations()
        name = str(ev_a.unit.values.get("name") or ev_b.unit.values.get("name") or "")
        unit = UnitImpact(ev_a.unit.unit_id, name, a, b, _move(a, b), changed, responsible(old, ev_a, new, ev_b, changed),
                          [f for f in missing_b if f not in set(missing_a)])
        impact.count(unit)
        keep(unit)
    return impact


def _changed(a: Side, b: Side) -> list[str]:
    out = []
    if a.status != b.status:
        out.append("status")
    if a.grade != b.grade:
        out.append("grade")
    for title in sorted(set(a.titles) | set(b.titles)):
        if title in a.titles and title in b.titles:
            if a.titles[title] != b.titles[title]:
                out.append(f"titles.{title}")
        elif a.titles.get(title) is True or b.titles.get(title) is True:  # a title one rule set has not: held or not
            out.append(f"titles.{title}")
    if a.verdict != b.verdict:
        out.append("financial_audit")
    if out and a.score != b.score:
        out.append("score")  # a score change alone moves nobody: it is context, not an impact
    return out


def _move(a: Side, b: Side) -> str:
    if a.status != "graded" or b.status != "graded":
        return "same" if a.state == b.state else "status"
    if a.grade == b.grade:
        return "same"
    return "up" if GRADES.index(b.grade) < GRADES.index(a.grade) else "down"


def changed_params(old: Plan, new: Plan) -> frozenset[str]:
    """The parameters whose values differ between the two rule sets (or that one of them lacks)."""
    a, b = old.ruleset.params or {}, new.ruleset.params or {}
    return frozenset(name for name in set(a) | set(b)
                     if name not in a or name not in b or (a[name].value, a[name].values) != (b[name].value, b[name].values))


def responsible(old: Plan, ev_a: UnitEvaluation, new: Plan, ev_b: UnitEvaluation, changed: list[str]) -> list[dict[str, Any]]:
    """The rules whose outcome differs between the two gradings, limited to what changed; a rule that reads a
    parameter whose value changed names it (``params``): the parameter, not the rule's text, moved the unit."""
    if ev_a.decided is None or ev_b.decided is None:
        return []
    sections = set()
    if "grade" in changed or "status" in changed:
        sections |= {"eligibility", "level", "veto", "check"}
    if "financial_audit" in changed:
        sections.add("check")
    if any(c.startswith("titles.") for c in changed):
        sections.add("title")
    outcomes_a, outcomes_b = ev_a.decided.outcomes, ev_b.decided.outcomes
    levels = _levels_between(side(ev_a), side(ev_b))
    moved_params = changed_params(old, new) if (old.ruleset.params or new.ruleset.params) else frozenset()
    rows = []
    for key in list(outcomes_a) + [k for k in outcomes_b if k not in outcomes_a]:
        section = key.split(".", 1)[0]
        if section not in sections or (section == "level" and key.split(".")[1] not in levels):
            continue
        before, after = outcomes_a.get(key, "absent"), outcomes_b.get(key, "absent")
        if before == after:
            continue
        favourable = not _AGAINST.get(section, False)
        if "absent" in (before, after) and favourable in (before, after):
            continue  # on one side only, and deciding for the unit there
        row = {"rule": key, "before": _held(before), "after": _held(after)}
        moved_by = sorted((_params_read(old, key) | _params_read(new, key)) & moved_params)
        if moved_by:
            row["params"] = moved_by
        rows.append(row)
    if any(r["rule"].endswith(".band") for r in rows) or "status" in changed:
        rows += _criteria(ev_a, ev_b)  # points matter only where the score crossed a band
    qa, qb = side(ev_a).quota, side(ev_b).quota
    if qa != qb:
        rows.append({"rule": "quota", "before": qa or "not a candidate", "after": qb or "not a candidate"})
    return rows


def _params_read(plan: Plan, key: str) -> frozenset[str]:
    decision = plan.by_key.get(key)
    return decision.params if decision is not None else frozenset()


def _levels_between(a: Side, b: Side) -> set[str]:
    """The levels a grade change crossed: above the lower grade, up to and including the higher."""
    if a.status != "graded" or b.status != "graded" or a.grade is None or b.grade is None:
        return set(GRADES)
    low, high = sorted((GRADES.index(a.grade), GRADES.index(b.grade)), reverse=True)
    return set(GRADES[high:low]) or {a.grade}


def _criteria(ev_a: UnitEvaluation, ev_b: UnitEvaluation) -> list[dict[str, Any]]:
    assert ev_a.decided is not None and ev_b.decided is not None
    points_a = {c.id: c for c in ev_a.decided.one.criteria if c.max_points is not None}
    points_b = {c.id: c for c in ev_b.decided.one.criteria if c.max_points is not None}
    rows = []
    for cid in list(points_a) + [c for c in points_b if c not in points_a]:
        a, b = points_a.get(cid), points_b.get(cid)
        pa = None if a is None else a.points
        pb = None if b is None else b.points
        if pa != pb:
            rows.append({"rule": keys.criterion(cid), "before": _points(a), "after": _points(b)})
    return rows


def _points(score) -> str:
    if score is None:
        return "absent"
    if score.points is None:
        return f"?/{score.max_points}"
    return f"{number(score.points)}/{score.max_points}"


def _held(value: Any) -> str:
    return {True: "held", False: "not held", None: "undecided", "absent": "absent"}[value]
