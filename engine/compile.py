"""A validated rule set → the plan both back ends run: typed decisions in stages.

Every condition of the rule set becomes one *decision*: a boolean syntax tree with a
stable key.  Decisions run in three stages because later ones read earlier outcomes:

1. facts only: eligibility, criterion tiers, vetoes, finance checks;
2. grade levels: may also read ``score``, ``group_score.<group>``, ``check.<id>``
   and ``finance_passed``;
3. titles: may also read ``grade``.

Between stages, :mod:`engine.aggregate` turns outcomes into numbers (the score) and
choices (the grade), the same way for both back ends.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Optional

from engine.errors import Problem, RuleSetError, did_you_mean
from engine.expr import ast
from engine.expr.parser import ExpressionSyntaxError, parse
from engine.expr.typecheck import BOOL, DATE, NUMBER, STRING, Symbol, Type, TypeProblem, check
from engine.loading import LoadedRuleSet
from engine.model import GRADES, Catalogue, FactSpec, RuleSet

STAGES = (1, 2, 3)
GRADE_VALUES = frozenset(GRADES) | {"not_graded"}


@dataclass(frozen=True)
class Decision:
    """One condition of the rule set, ready for either back end."""

    key: str  # e.g. "criterion.exec_meetings.tier1", "level.excellent.band"
    stage: int
    expr: ast.Node
    source: str  # the condition as written
    reads: frozenset[str]


@dataclass(frozen=True)
class CriterionPlan:
    id: str
    group: str
    points: dict[str, Optional[int]]  # workplace type → max points, None = does not apply
    tier_keys: tuple[str, ...]
    tier_awards: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    loaded: LoadedRuleSet
    decisions: tuple[Decision, ...]
    criteria: tuple[CriterionPlan, ...]
    fact_types: dict[str, FactSpec]
    workplace_types: tuple[str, ...]
    period_start: datetime.date
    period_end: datetime.date
    by_key: dict[str, Decision] = field(default_factory=dict)

    @property
    def ruleset(self) -> RuleSet:
        return self.loaded.ruleset

    @property
    def catalogue(self) -> Catalogue:
        return self.loaded.catalogue

    def stage(self, number: int) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.stage == number)


def fact_type(spec: FactSpec) -> Type:
    if spec.type == "bool":
        return BOOL
    if spec.type in ("int", "decimal", "vnd", "percentage"):
        return NUMBER
    if spec.type == "date":
        return DATE
    if spec.type == "enum":
        return Type("enum", frozenset(spec.values or {}))
    return STRING


def compile_plan(loaded: LoadedRuleSet) -> Plan:
    """Parse and type-check every condition; raises with every problem found."""
    rs, cat = loaded.ruleset, loaded.catalogue
    problems: list[Problem] = []
    period_start, period_end = datetime.date(rs.year, 1, 1), datetime.date(rs.year, 12, 31)
    workplace_types = tuple(cat.facts["workplace_type"].values or {})
    check_ids = [c.id for c in rs.finance.checks]
    group_ids = list(cat.groups)

    base = {name: Symbol(fact_type(spec)) for name, spec in cat.facts.items()}
    base["period_start"] = Symbol(DATE, period_start)
    base["period_end"] = Symbol(DATE, period_end)
    stage2 = {"score": Symbol(NUMBER), "finance_passed": Symbol(BOOL)}
    stage2.update({f"check.{c}": Symbol(BOOL) for c in check_ids})
    stage2.update({f"group_score.{g}": Symbol(NUMBER) for g in group_ids})
    stage3 = {"grade": Symbol(Type("enum", GRADE_VALUES))}
    later2 = "it is decided after the criteria, vetoes and finance checks; use it in levels or titles"
    later3 = "the grade is decided after the levels; use it in titles"
    symbols = {
        1: {**base, **{k: Symbol(v.type, later=later2) for k, v in stage2.items()}, **{k: Symbol(v.type, later=later3) for k, v in stage3.items()}},
        2: {**base, **stage2, **{k: Symbol(v.type, later=later3) for k, v in stage3.items()}},
        3: {**base, **stage2, **stage3},
    }

    decisions: list[Decision] = []

    def add(key: str, stage: int, text: str, path: tuple) -> None:
        expr = _compile_condition(text, symbols[stage], loaded, path, problems)
        if expr is not None:
            decisions.append(Decision(key, stage, expr, text, frozenset(ast.names(expr))))

    _unique_ids(loaded, problems)
    for i, req in enumerate(rs.eligibility):
        add(f"eligibility.{req.id}", 1, req.require, ("eligibility", i, "require"))
    criteria: list[CriterionPlan] = []
    for i, crit in enumerate(rs.criteria):
        if crit.group not in cat.groups:
            problems.append(loaded.source.problem(("criteria", i, "group"),
                            f"criteria[{crit.id}].group: unknown group '{crit.group}'.{did_you_mean(crit.group, cat.groups)} Groups are {sorted(cat.groups)}"))
        points = _points_by_type(crit.points, workplace_types, loaded, ("criteria", i, "points"), crit.id, problems)
        keys = []
        for t, tier in enumerate(crit.tiers):
            key = f"criterion.{crit.id}.tier{t + 1}"
            keys.append(key)
            add(key, 1, tier.when, ("criteria", i, "tiers", t, "when"))
        criteria.append(CriterionPlan(crit.id, crit.group, points, tuple(keys), tuple(t.award_pct for t in crit.tiers)))
    for i, veto in enumerate(rs.vetoes):
        add(f"veto.{veto.id}", 1, veto.when, ("vetoes", i, "when"))
    for i, chk in enumerate(rs.finance.checks):
        add(f"check.{chk.id}", 1, chk.require, ("finance", "checks", i, "require"))
    _check_levels(loaded, problems)
    for i, level in enumerate(rs.levels):
        if level.min_score is not None:
            add(f"level.{level.id}.band", 2, f"score >= {level.min_score}", ("levels", i, "min_score"))
        for j, cond in enumerate(level.conditions):
            add(f"level.{level.id}.{cond.id}", 2, cond.require, ("levels", i, "conditions", j, "require"))
    for i, title in enumerate(rs.titles):
        for j, cond in enumerate(title.conditions):
            add(f"title.{title.id}.{cond.id}", 3, cond.require, ("titles", i, "conditions", j, "require"))
    _check_totals(loaded, criteria, workplace_types, problems)
    _check_quota(loaded, problems)
    if problems:
        raise RuleSetError(problems)
    plan = Plan(loaded, tuple(decisions), tuple(criteria), dict(cat.facts), workplace_types, period_start, period_end)
    plan.by_key.update({d.key: d for d in decisions})
    return plan


def _compile_condition(text: str, symbols: dict[str, Symbol], loaded: LoadedRuleSet, path: tuple,
                       problems: list[Problem]) -> Optional[ast.Node]:
    line, column = loaded.source.position(path)
    where = _where(loaded.ruleset, path)
    # The condition's column inside the file: after the key, plus a quote if quoted.
    offset = _text_offset(loaded, path)
    try:
        return check(parse(text), symbols)
    except (ExpressionSyntaxError, TypeProblem) as exc:
        col = (column + offset + exc.column - 1) if column is not None and offset is not None else column
        problems.append(Problem(loaded.source.file, f"{where}: {exc.message}", line, col))
        return None


def _text_offset(loaded: LoadedRuleSet, path: tuple) -> Optional[int]:
    """0 for a plain scalar, 1 for a quoted one, None for block scalars (column unknown)."""
    line, column = loaded.source.position(path)
    if line is None:
        return None
    try:
        text = open(loaded.path, encoding="utf-8-sig").read().splitlines()[line - 1]
    except (OSError, IndexError):
        return None
    first = text[column - 1:column] if column else ""
    if first in ("'", '"'):
        return 1
    if first in ("|", ">"):
        return None
    return 0


def _where(rs: RuleSet, path: tuple) -> str:
    """``levels[excellent].conditions[tasks_on_time].require``: ids, not indexes, for designers."""
    out, node = "", rs.model_dump()
    for step in path:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            out += f"[{ident if ident is not None else step}]"
            node = item
        else:
            out += ("." if out else "") + step
            node = node.get(step) if isinstance(node, dict) else None
    return out


def _points_by_type(points, workplace_types, loaded, path, crit_id, problems) -> dict[str, Optional[int]]:
    if isinstance(points, int):
        return {t: points for t in workplace_types}
    unknown = [k for k in points if k != "default" and k not in workplace_types]
    for key in unknown:
        problems.append(loaded.source.problem(path + (key,),
                        f"criteria[{crit_id}].points: unknown workplace type '{key}'.{did_you_mean(key, workplace_types)} "
                        f"Expected one of {sorted(workplace_types) + ['default']}", key=True))
    default = points.get("default", None)
    missing = [t for t in workplace_types if t not in points and "default" not in points]
    if missing:
        problems.append(loaded.source.problem(path, f"criteria[{crit_id}].points: no points for {missing}; "
                                              "give each workplace type, or 'default' (null means the criterion does not apply)"))
    return {t: points.get(t, default) for t in workplace_types}


def _check_totals(loaded, criteria, workplace_types, problems) -> None:
    rs = loaded.ruleset
    for wt in workplace_types:
        total = sum(c.points[wt] or 0 for c in criteria)
        if total != rs.scale:
            problems.append(loaded.source.problem(("criteria",),
                            f"criteria: the points for workplace type '{wt}' add up to {total}, expected the scale {rs.scale}"))


def _check_levels(loaded, problems) -> None:
    rs = loaded.ruleset
    ids = [lv.id for lv in rs.levels]
    if ids != list(GRADES):
        problems.append(loaded.source.problem(("levels",), f"levels: expected the four grades from the top down {list(GRADES)}, found {ids}"))
        return
    if rs.levels[-1].min_score is not None or rs.levels[-1].conditions:
        problems.append(loaded.source.problem(("levels", 3), "levels[not_completed]: the lowest grade is the fallback; it takes no min_score and no conditions"))
    previous: Optional[Decimal] = None
    for i, lv in enumerate(rs.levels[:-1]):
        if lv.min_score is None:
            problems.append(loaded.source.problem(("levels", i), f"levels[{lv.id}]: missing min_score"))
            continue
        if not (0 <= lv.min_score <= rs.scale):
            problems.append(loaded.source.problem(("levels", i, "min_score"), f"levels[{lv.id}].min_score: {lv.min_score} is outside 0..{rs.scale}"))
        if previous is not None and lv.min_score > previous:
            problems.append(loaded.source.problem(("levels", i, "min_score"),
                            f"levels[{lv.id}].min_score: {lv.min_score} is above the grade before it ({previous}); bands must fall from the top down"))
        previous = lv.min_score


def _check_quota(loaded, problems) -> None:
    quota = loaded.ruleset.quota
    if quota is None:
        return
    facts = loaded.catalogue.facts
    for i, key in enumerate(quota.rank_by):
        if key.key != "score" and key.key not in facts:
            problems.append(loaded.source.problem(("quota", "rank_by", i, "key"),
                            f"quota.rank_by[{i}].key: unknown fact '{key.key}'.{did_you_mean(key.key, list(facts) + ['score'])}"))
        elif key.key != "score" and facts[key.key].type not in ("int", "decimal", "vnd", "percentage", "date"):
            problems.append(loaded.source.problem(("quota", "rank_by", i, "key"),
                            f"quota.rank_by[{i}].key: '{key.key}' is a {facts[key.key].type}; rank only by numbers or dates"))
    if quota.cohort_by is not None and quota.cohort_by not in facts:
        problems.append(loaded.source.problem(("quota", "cohort_by"),
                        f"quota.cohort_by: unknown fact '{quota.cohort_by}'.{did_you_mean(quota.cohort_by, facts)}"))
    if GRADES.index(quota.demote_to) <= GRADES.index(quota.level):
        problems.append(loaded.source.problem(("quota", "demote_to"), f"quota.demote_to: '{quota.demote_to}' must be below '{quota.level}'"))


def _unique_ids(loaded, problems) -> None:
    rs = loaded.ruleset
    sections = {
        "eligibility": [r.id for r in rs.eligibility],
        "criteria": [c.id for c in rs.criteria],
        "vetoes": [v.id for v in rs.vetoes],
        "finance.checks": [c.id for c in rs.finance.checks],
        "titles": [t.id for t in rs.titles],
    }
    for lv in rs.levels:
        sections[f"levels[{lv.id}].conditions"] = [c.id for c in lv.conditions]
    for t in rs.titles:
        sections[f"titles[{t.id}].conditions"] = [c.id for c in t.conditions]
    for where, ids in sections.items():
        seen = set()
        for ident in ids:
            if ident in seen:
                problems.append(loaded.source.problem(tuple(where.split(".")[:1]), f"{where}: the id '{ident}' is used twice; ids must be unique"))
            seen.add(ident)
    for i, lv in enumerate(rs.levels):
        if "band" in [c.id for c in lv.conditions]:
            problems.append(loaded.source.problem(("levels", i), f"levels[{lv.id}].conditions: the id 'band' is reserved for min_score"))


def as_fraction(value) -> Fraction:
    return Fraction(value) if not isinstance(value, Fraction) else value
