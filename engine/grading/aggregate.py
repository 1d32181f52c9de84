"""Outcomes → numbers and choices: points, score, finance verdict, grade, titles.

Every back end hands its decision outcomes to these same functions, so the rule
engine and the evaluators differ only in how they decide conditions.  The compiled
evaluator, which grades every unit of a batch, runs the same arithmetic written out
once per plan (:func:`unit_code`) into its whole-unit function; tests compare the two
on every unit of their cases, and the tracing evaluator, whenever it explains a unit,
checks the grade, titles and verdict it reaches with these functions against the
compiled ones.  Three-valued throughout: ``None`` means "cannot be decided from the
facts given".

Points are kept in hundredths of a point, as integers: a criterion gives
``max_points × award_pct`` hundredths, so every score is exact without fractions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping, Optional

from engine import keys
from engine.compiling.compile import Plan
from engine.model import GRADES, Status

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
                out[_GROUP_KEYS.get(g) or _GROUP_KEYS.setdefault(g, keys.group_score(g))] = number(s)
        for c, v in self.checks.items():
            if v is not None:
                out[_CHECK_KEYS.get(c) or _CHECK_KEYS.setdefault(c, keys.check(c))] = flag(v)
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
    lines = ["def score(o):", *(f"    {line}" for line in _scoring_code(plan, workplace_type, lambda key: f"o[{key!r}]")),
             "    return scored, total, groups"]
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(compile("\n".join(lines), f"<points {plan.ruleset.id} {workplace_type}>", "exec"), namespace)  # noqa: S102
    return namespace["score"]


def _scoring_code(plan: Plan, workplace_type: str, read: Callable[[str], str]) -> list[str]:
    """The point table of one workplace type as lines setting ``scored``, ``total`` and ``groups``;
    ``read(key)`` is the expression holding a tier's outcome."""
    table = plan.outline.scoring[workplace_type]
    groups = list(plan.catalogue.groups)
    lines = []
    for i, (group, tiers) in enumerate(table):
        lines.append(f"p{i} = 0; r{i} = None")
        indent = ""
        for n, (key, award) in enumerate(tiers, start=1):
            lines += [f"{indent}h = {read(key)}",
                      f"{indent}if h is None: p{i} = None",
                      f"{indent}elif h: p{i} = {award!r}; r{i} = {n}",
                      f"{indent}else:"]
            indent += "    "
        lines.append(f"{indent}pass")
    parts = [f"p{i}" for i in range(len(table))]
    lines.append(f"scored = [{', '.join(f'(p{i}, r{i})' for i in range(len(table)))}]")
    lines.append(f"total = {_sum_code(parts)}")
    sums = []
    for g in groups:
        mine = [f"p{i}" for i, (group, _) in enumerate(table) if group == g]
        sums.append(f"{g!r}: {_sum_code(mine)}")
    lines.append(f"groups = {{{', '.join(sums)}}}")
    return lines


def _sum_code(parts: list[str]) -> str:
    """The sum of the named points, undecided (None) when one of them is."""
    if not parts:
        return "0"
    return f"(None if ({' or '.join(f'{p} is None' for p in parts)}) else {' + '.join(parts)})"


@dataclass(slots=True)
class GradeChoice:
    """The grade and how it was reached."""

    status: Status
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
            undecided.append(keys.level(level))
            break
    if grade is not None:  # a veto we could not decide matters only if it would cap lower
        blocking = _vetoes_undecided(caps, one.vetoes_unknown, grade)
        if blocking:
            undecided.extend(blocking)
            grade = None
    status = "graded" if grade is not None else "invalid"
    return GradeChoice(status, grade, qualifies, veto_cap, quota_cap, undecided)


def _vetoes_undecided(caps: Mapping[str, str], unknown: list[str], grade: str) -> list[str]:
    """The undecided vetoes that would cap the unit below ``grade``, as the grade's ``undecided`` names them."""
    return [keys.veto(v) for v in unknown if _RANK[caps[v]] > _RANK[grade]]


def titles(plan: Plan, outcomes: Mapping[str, Optional[bool]]) -> dict[str, Optional[bool]]:
    return {title_id: kleene_all(outcomes[k] for k in conditions) for title_id, conditions in plan.outline.titles}


@dataclass
class Decided:
    """One back end's full decision for one unit."""

    outcomes: Outcomes
    one: StageOne
    choice: GradeChoice
    titles: dict[str, Optional[bool]]
    env: dict[str, Any]  # the values read, as the back end read them, with the outcomes of each stage


# --- the same arithmetic written out, for the compiled evaluator's whole-unit functions ---------------------------

def unit_code(plan: Plan, workplace_type: str, stage: int, read: Callable[[str], str]) -> list[str]:
    """The lines a compiled unit runs after the decisions of ``stage``: what the functions above do for a unit of
    one workplace type, written out (1: stage_one and StageOne.engine_env, 2: choose_grade and GradeChoice.env,
    3: titles), into ``one``, ``choice`` and ``titles``, adding to ``env`` what later stages read.

    ``read(key)`` names the local that holds a decision's outcome; ``quota_cap`` is the unit's.  Made from the
    plan's keys and numbers (``repr``), never from rule text; the names the lines call are :func:`unit_names`.
    """
    if stage == 1:
        return _stage_one_code(plan, workplace_type, read)
    if stage == 2:
        return _choice_code(plan, read)
    return [f"titles = {{{', '.join(f'{t!r}: {_all_code([read(k) for k in conditions])}' for t, conditions in plan.outline.titles)}}}"]


def unit_names(plan: Plan) -> dict[str, Any]:
    """What the lines of :func:`unit_code` call and read besides the unit's own locals."""
    return {"StageOne": StageOne, "GradeChoice": GradeChoice, "RANK": dict(_RANK), "CRITERIA": plan.criteria,
            "CAPS": {veto_id: cap for veto_id, _, cap in plan.outline.vetoes}, "vetoes_undecided": _vetoes_undecided}


def _all_code(parts: list[str]) -> str:
    """:func:`kleene_all` of the named outcomes, as one expression."""
    if not parts:
        return "True"
    false = " or ".join(f"{p} is False" for p in parts)
    unknown = " or ".join(f"{p} is None" for p in parts)
    return f"(False if ({false}) else (None if ({unknown}) else True))"


def _stage_one_code(plan: Plan, workplace_type: str, read: Callable[[str], str]) -> list[str]:
    """stage_one, then its engine_env added to ``env``; ``veto_rank`` is the rank of the lowest cap of a veto held."""
    outline = plan.outline
    lines = [f"eligible = {_all_code([read(k) for k in outline.eligibility])}",
             *_scoring_code(plan, workplace_type, read),
             "held = []; unknown = []; veto_rank = -1"]
    for veto_id, key, cap in outline.vetoes:
        lines += [f"if {read(key)} is True:",
                  f"    held.append({veto_id!r})",
                  f"    if veto_rank < {_RANK[cap]!r}: veto_rank = {_RANK[cap]!r}",
                  f"elif {read(key)} is None: unknown.append({veto_id!r})"]
    lines += [f"checks = {{{', '.join(f'{check_id!r}: {read(key)}' for check_id, key, _ in outline.checks)}}}",
              f"passed = {_all_code([read(key) for _, key, required in outline.checks if required])}",
              "one = StageOne(eligible, scored, total, groups, held, unknown, checks, passed, "
              f"{workplace_type!r}, CRITERIA)",
              "if total is not None: env['score'] = total"]
    lines += [f"if (s := groups[{g!r}]) is not None: env[{keys.group_score(g)!r}] = s" for g in plan.catalogue.groups]
    lines += [f"if {read(key)} is not None: env[{keys.check(check_id)!r}] = 1 if {read(key)} else 0"
              for check_id, key, _ in outline.checks]
    lines.append("if passed is not None: env['finance_passed'] = 1 if passed else 0")
    return lines


def _choice_code(plan: Plan, read: Callable[[str], str]) -> list[str]:
    """choose_grade, then the grade added to ``env`` as GradeChoice.env gives it; GRADES are the plan's levels."""
    qualifies = {level.id: f"q{_RANK[level.id]}" for level in plan.outline.levels}
    lines = [f"{qualifies[level.id]} = {_all_code([read(k) for k in level.keys])}" for level in plan.outline.levels]
    lines += [f"qualifies = {{{', '.join(f'{level!r}: {q}' for level, q in qualifies.items())}}}",
              f"veto_cap = None if veto_rank < 0 else {GRADES!r}[veto_rank]",
              "if eligible is False:",
              "    choice = GradeChoice('not_graded', None, qualifies, veto_cap, quota_cap)",
              "    env['grade'] = 'not_graded'",
              "elif eligible is None:",
              "    choice = GradeChoice('invalid', None, qualifies, veto_cap, quota_cap, ['eligibility'])",
              "else:",
              "    floor = veto_rank if quota_cap is None or RANK[quota_cap] < veto_rank else RANK[quota_cap]",
              "    grade = None; undecided = []"]
    for rank, level in enumerate(GRADES):  # the first level from the floor down that does not fail settles it
        q = qualifies[level]
        lines += [f"    {'elif' if rank else 'if'} floor <= {rank} and {q} is not False:",
                  f"        if {q}: grade = {level!r}",
                  f"        else: undecided.append({keys.level(level)!r})"]
    lines += ["    if grade is not None and unknown and (late := vetoes_undecided(CAPS, unknown, grade)):",
              "        undecided.extend(late); grade = None",
              "    choice = GradeChoice('graded' if grade is not None else 'invalid', grade, qualifies, veto_cap, "
              "quota_cap, undecided)",
              "    if grade is not None: env['grade'] = grade"]
    return lines
