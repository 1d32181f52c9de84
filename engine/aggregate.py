"""Outcomes → numbers and choices: points, score, finance verdict, grade, titles.

Both back ends hand their decision outcomes to these same functions, so the rule
engine and the tracing evaluator differ only in how they decide conditions.
Three-valued throughout: ``None`` means "cannot be decided from the facts given".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from engine.compile import Plan
from engine.model import GRADES

Outcomes = dict[str, Optional[bool]]


def kleene_all(values) -> Optional[bool]:
    values = list(values)
    if False in values:
        return False
    if None in values:
        return None
    return True


@dataclass(frozen=True)
class CriterionScore:
    id: str
    group: str
    max_points: Optional[int]  # None: does not apply to this workplace type
    points: Optional[Fraction]  # None: unknown (a tier could not be decided)
    tier: Optional[int]  # 1-based tier that awarded the points


@dataclass
class StageOne:
    """What the facts-only decisions add up to."""

    eligible: Optional[bool]
    criteria: list[CriterionScore]
    score: Optional[Fraction]
    group_scores: dict[str, Optional[Fraction]]
    vetoes_held: list[str]
    vetoes_unknown: list[str]
    checks: dict[str, Optional[bool]]
    finance_passed: Optional[bool]

    def env(self) -> dict:
        """Values the level conditions may read (absent when unknown)."""
        out: dict = {}
        if self.score is not None:
            out["score"] = self.score
        for g, s in self.group_scores.items():
            if s is not None:
                out[f"group_score.{g}"] = s
        for c, v in self.checks.items():
            if v is not None:
                out[f"check.{c}"] = v
        if self.finance_passed is not None:
            out["finance_passed"] = self.finance_passed
        return out


def stage_one(plan: Plan, workplace_type: str, outcomes: Outcomes) -> StageOne:
    rs = plan.ruleset
    eligible = kleene_all(outcomes[f"eligibility.{r.id}"] for r in rs.eligibility)
    criteria = [_criterion(c, workplace_type, outcomes) for c in plan.criteria]
    group_scores: dict[str, Optional[Fraction]] = {}
    for g in plan.catalogue.groups:
        parts = [c.points for c in criteria if c.group == g and c.max_points is not None]
        group_scores[g] = None if None in parts else sum(parts, Fraction(0))
    applicable = [c.points for c in criteria if c.max_points is not None]
    score = None if None in applicable else sum(applicable, Fraction(0))
    held = [v.id for v in rs.vetoes if outcomes[f"veto.{v.id}"] is True]
    unknown = [v.id for v in rs.vetoes if outcomes[f"veto.{v.id}"] is None]
    checks = {c.id: outcomes[f"check.{c.id}"] for c in rs.finance.checks}
    required = [checks[c.id] for c in rs.finance.checks if c.severity == "required"]
    return StageOne(eligible, criteria, score, group_scores, held, unknown, checks, kleene_all(required))


def _criterion(crit, workplace_type: str, outcomes: Outcomes) -> CriterionScore:
    max_points = crit.points.get(workplace_type)
    if max_points is None:
        return CriterionScore(crit.id, crit.group, None, Fraction(0), None)
    for n, (key, award) in enumerate(zip(crit.tier_keys, crit.tier_awards), start=1):
        held = outcomes[key]
        if held is None:  # an earlier tier we cannot decide hides the later ones
            return CriterionScore(crit.id, crit.group, max_points, None, None)
        if held:
            return CriterionScore(crit.id, crit.group, max_points, Fraction(max_points * award, 100), n)
    return CriterionScore(crit.id, crit.group, max_points, Fraction(0), None)


@dataclass
class GradeChoice:
    """The grade and how it was reached."""

    status: str  # graded | not_graded | invalid
    grade: Optional[str]
    qualifies: dict[str, Optional[bool]]
    veto_cap: Optional[str]
    quota_cap: Optional[str]
    undecided: list[str] = field(default_factory=list)  # what kept the grade from being decided

    def env(self) -> dict:
        if self.status == "not_graded":
            return {"grade": "not_graded"}
        return {"grade": self.grade} if self.grade is not None else {}


def lowest(*caps: Optional[str]) -> Optional[str]:
    present = [c for c in caps if c is not None]
    return max(present, key=GRADES.index) if present else None


def choose_grade(plan: Plan, one: StageOne, outcomes: Outcomes, quota_cap: Optional[str] = None) -> GradeChoice:
    rs = plan.ruleset
    qualifies: dict[str, Optional[bool]] = {}
    for level in rs.levels:
        keys = ([f"level.{level.id}.band"] if level.min_score is not None else []) + \
               [f"level.{level.id}.{c.id}" for c in level.conditions]
        qualifies[level.id] = kleene_all(outcomes[k] for k in keys)
    caps = {v.id: v.cap for v in rs.vetoes}
    veto_cap = lowest(*(caps[v] for v in one.vetoes_held))
    if one.eligible is False:
        return GradeChoice("not_graded", None, qualifies, veto_cap, quota_cap)
    if one.eligible is None:
        return GradeChoice("invalid", None, qualifies, veto_cap, quota_cap, ["eligibility"])
    cap = lowest(veto_cap, quota_cap)
    grade: Optional[str] = None
    undecided: list[str] = []
    for level in GRADES:
        if cap is not None and GRADES.index(level) < GRADES.index(cap):
            continue
        if qualifies[level] is True:
            grade = level
            break
        if qualifies[level] is None:
            undecided.append(f"level.{level}")
            break
    if grade is not None:  # a veto we could not decide matters only if it would cap lower
        blocking = [v for v in one.vetoes_unknown if GRADES.index(caps[v]) > GRADES.index(grade)]
        if blocking:
            undecided.extend(f"veto.{v}" for v in blocking)
            grade = None
    status = "graded" if grade is not None else "invalid"
    return GradeChoice(status, grade, qualifies, veto_cap, quota_cap, undecided)


def titles(plan: Plan, outcomes: Outcomes) -> dict[str, Optional[bool]]:
    return {t.id: kleene_all(outcomes[f"title.{t.id}.{c.id}"] for c in t.conditions) for t in plan.ruleset.titles}
