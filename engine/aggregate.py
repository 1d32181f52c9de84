"""Outcomes → numbers and choices: points, score, finance verdict, grade, titles.

Every back end hands its decision outcomes to these same functions, so the rule
engine and the evaluators differ only in how they decide conditions.  Three-valued
throughout: ``None`` means "cannot be decided from the facts given".

Points are kept in hundredths of a point, as integers: a criterion gives
``max_points × award_pct`` hundredths, so every score is exact without fractions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Optional

from engine.compile import Plan
from engine.model import GRADES

Outcomes = dict[str, Optional[bool]]
HUNDREDTHS = 100
_RANK = {g: i for i, g in enumerate(GRADES)}


def kleene_all(values) -> Optional[bool]:
    unknown = False
    for v in values:
        if v is False:
            return False
        if v is None:
            unknown = True
    return None if unknown else True


def points(hundredths: Optional[int]) -> Optional[Fraction]:
    """Hundredths of a point as an exact number (``None`` stays unknown)."""
    return None if hundredths is None else Fraction(hundredths, HUNDREDTHS)


@dataclass(frozen=True, slots=True)
class CriterionScore:
    id: str
    group: str
    max_points: Optional[int]  # None: does not apply to this workplace type
    hundredths: Optional[int]  # None: unknown (a tier could not be decided)
    tier: Optional[int]  # 1-based tier that awarded the points

    @property
    def points(self) -> Optional[Fraction]:
        return points(self.hundredths)


@dataclass(slots=True)
class StageOne:
    """What the facts-only decisions add up to."""

    eligible: Optional[bool]
    scored: list[tuple[Optional[int], Optional[int]]]  # per criterion of the plan: (hundredths or None, tier)
    score_hundredths: Optional[int]
    group_hundredths: dict[str, Optional[int]]
    vetoes_held: list[str]
    vetoes_unknown: list[str]
    checks: dict[str, Optional[bool]]
    finance_passed: Optional[bool]
    workplace_type: str = ""
    plan_criteria: tuple = ()

    @property
    def criteria(self) -> list[CriterionScore]:
        """Each criterion's points and the tier that gave them (None points: undecided)."""
        return [CriterionScore(c.id, c.group, c.points.get(self.workplace_type), hundredths, tier)
                for c, (hundredths, tier) in zip(self.plan_criteria, self.scored)]

    @property
    def score(self) -> Optional[Fraction]:
        return points(self.score_hundredths)

    @property
    def group_scores(self) -> dict[str, Optional[Fraction]]:
        return {g: points(s) for g, s in self.group_hundredths.items()}

    def env(self) -> dict:
        """Values the level conditions may read (absent when unknown), as exact numbers."""
        return self._env(points, bool)

    def engine_env(self) -> dict:
        """The same values as the rule engine and the compiled evaluator read them: hundredths, 1 and 0."""
        return self._env(int, int)

    def _env(self, number, flag) -> dict:
        out: dict = {}
        if self.score_hundredths is not None:
            out["score"] = number(self.score_hundredths)
        for g, s in self.group_hundredths.items():
            if s is not None:
                out[_GROUP_KEYS.get(g) or _GROUP_KEYS.setdefault(g, f"group_score.{g}")] = number(s)
        for c, v in self.checks.items():
            if v is not None:
                out[_CHECK_KEYS.get(c) or _CHECK_KEYS.setdefault(c, f"check.{c}")] = flag(v)
        if self.finance_passed is not None:
            out["finance_passed"] = flag(self.finance_passed)
        return out


_GROUP_KEYS: dict[str, str] = {}  # the names later stages read these outcomes by, made once
_CHECK_KEYS: dict[str, str] = {}


def stage_one(plan: Plan, workplace_type: str, outcomes: Mapping[str, Optional[bool]]) -> StageOne:
    outline = plan.outline
    eligible = kleene_all([outcomes[k] for k in outline.eligibility])
    scored, score, groups = _scorer(plan, workplace_type)(outcomes)
    held, unknown = [], []
    for veto_id, key, _ in outline.vetoes:
        outcome = outcomes[key]
        if outcome is True:
            held.append(veto_id)
        elif outcome is None:
            unknown.append(veto_id)
    checks = {check_id: outcomes[key] for check_id, key, _ in outline.checks}
    passed = kleene_all([checks[check_id] for check_id, _, required in outline.checks if required])
    return StageOne(eligible, scored, score, groups, held, unknown, checks, passed, workplace_type, plan.criteria)


def _scorer(plan: Plan, workplace_type: str):
    """The point table of one workplace type as one function of the outcomes (written once per plan)."""
    return plan.remembered(("scorer", workplace_type), lambda: _write_scorer(plan, workplace_type))


def _write_scorer(plan: Plan, workplace_type: str):
    """Each criterion gives the hundredths of its first tier that holds, and is undecided
    (so are its group's score and the total) when a tier before it cannot be decided.
    The code is made from the plan's own numbers and keys (``repr``), never from rule text.
    """
    table = plan.outline.scoring[workplace_type]
    groups = list(plan.catalogue.groups)
    lines = ["def score(o):"]
    for i, (group, tiers) in enumerate(table):
        lines.append(f"    p{i} = 0; r{i} = None")
        indent = "    "
        for n, (key, award) in enumerate(tiers, start=1):
            lines += [f"{indent}h = o[{key!r}]",
                      f"{indent}if h is None: p{i} = None",
                      f"{indent}elif h: p{i} = {award!r}; r{i} = {n}",
                      f"{indent}else:"]
            indent += "    "
        lines.append(f"{indent}pass")
    parts = [f"p{i}" for i in range(len(table))]
    lines.append(f"    scored = [{', '.join(f'(p{i}, r{i})' for i in range(len(table)))}]")
    lines.append(f"    total = None if None in ({', '.join(parts)},) else {' + '.join(parts) or '0'}")
    sums = []
    for g in groups:
        mine = [f"p{i}" for i, (group, _) in enumerate(table) if group == g]
        sums.append(f"{g!r}: (None if None in ({', '.join(mine)},) else {' + '.join(mine)})" if mine else f"{g!r}: 0")
    lines.append(f"    return scored, total, {{{', '.join(sums)}}}")
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(compile("\n".join(lines), f"<points {plan.ruleset.id} {workplace_type}>", "exec"), namespace)  # noqa: S102
    return namespace["score"]


@dataclass(slots=True)
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
    return max(present, key=_RANK.__getitem__) if present else None


def choose_grade(plan: Plan, one: StageOne, outcomes: Mapping[str, Optional[bool]],
                 quota_cap: Optional[str] = None) -> GradeChoice:
    outline = plan.outline
    qualifies = {level.id: kleene_all(outcomes[k] for k in level.keys) for level in outline.levels}
    caps = {veto_id: cap for veto_id, _, cap in outline.vetoes}
    veto_cap = lowest(*(caps[v] for v in one.vetoes_held))
    if one.eligible is False:
        return GradeChoice("not_graded", None, qualifies, veto_cap, quota_cap)
    if one.eligible is None:
        return GradeChoice("invalid", None, qualifies, veto_cap, quota_cap, ["eligibility"])
    cap = lowest(veto_cap, quota_cap)
    floor = _RANK[cap] if cap is not None else 0
    grade: Optional[str] = None
    undecided: list[str] = []
    for level in GRADES:
        if _RANK[level] < floor:
            continue
        if qualifies[level] is True:
            grade = level
            break
        if qualifies[level] is None:
            undecided.append(f"level.{level}")
            break
    if grade is not None:  # a veto we could not decide matters only if it would cap lower
        blocking = [v for v in one.vetoes_unknown if _RANK[caps[v]] > _RANK[grade]]
        if blocking:
            undecided.extend(f"veto.{v}" for v in blocking)
            grade = None
    status = "graded" if grade is not None else "invalid"
    return GradeChoice(status, grade, qualifies, veto_cap, quota_cap, undecided)


def titles(plan: Plan, outcomes: Mapping[str, Optional[bool]]) -> dict[str, Optional[bool]]:
    return {title_id: kleene_all(outcomes[k] for k in keys) for title_id, keys in plan.outline.titles}
