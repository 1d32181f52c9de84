"""A validated rule set → the plan both back ends run: typed decisions in stages.

Every condition of the rule set becomes one *decision*: a boolean syntax tree with a
stable key.  Decisions run in three stages because later ones read earlier outcomes:

1. facts only: eligibility, criterion tiers, vetoes, finance checks;
2. grade levels: may also read ``score``, ``group_score.<group>``, ``check.<id>``
   and ``finance_passed``;
3. titles: may also read ``grade``.

Between stages, :mod:`engine.grading.aggregate` turns outcomes into numbers (the score) and
choices (the grade), the same way for both back ends.
"""
from __future__ import annotations

import datetime
import re
from pathlib import Path
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Optional

from engine import keys
from engine.errors import Problem, RuleSetError, did_you_mean
from engine.expr import ast
from engine.expr.parser import ExpressionSyntaxError, parse
from engine.expr.typecheck import BOOL, DATE, FUNCTIONS, NUMBER, STRING, Dated, Symbol, Type, TypeProblem, check
from engine.model import GRADES, Catalogue, FactSpec, Param, RuleSet
from engine.reading.loading import LoadedRuleSet, RuleSetInvalid, describe, load_ruleset
from engine.values import written
from engine.yamlpos import Located

GRADE_VALUES = frozenset(GRADES) | {"not_graded"}


@dataclass(frozen=True)
class Decision:
    """One condition of the rule set, ready for either back end."""

    key: str  # e.g. "criterion.exec_meetings.tier1", "level.excellent.band"
    stage: int
    expr: ast.Node
    source: str  # the condition as written
    reads: frozenset[str]
    path: tuple = ()  # where in the rule set file it is written
    where: str = ""  # the same, for a designer: levels[excellent].conditions[x].require
    reading: tuple[str, ...] = ()  # the names it reads in reading order (see ast.reading_order)
    params: frozenset[str] = frozenset()  # the rule set's parameters it reads (folded into it as constants)


@dataclass(frozen=True)
class CriterionPlan:
    id: str
    group: str
    points: dict[str, Optional[int]]  # workplace type → max points, None = does not apply
    tier_keys: tuple[str, ...]
    tier_awards: tuple[int, ...]


@dataclass(frozen=True)
class LevelPlan:
    id: str
    min_score: Optional[Decimal]
    keys: tuple[str, ...]  # the band's decision (when there is a min_score), then each condition's


@dataclass(frozen=True)
class Outline:
    """The decision keys the grade arithmetic reads, spelled once per plan instead of once per unit."""

    eligibility: tuple[str, ...]
    vetoes: tuple[tuple[str, str, str], ...]  # (veto id, decision key, cap)
    checks: tuple[tuple[str, str, bool], ...]  # (check id, decision key, required)
    levels: tuple[LevelPlan, ...]
    titles: tuple[tuple[str, tuple[str, ...]], ...]  # (title id, its conditions' keys)
    # workplace type → for each criterion, in plan order: (group, ((tier key, hundredths it awards), ...)),
    # a criterion that does not apply to the type giving no tier at all (and so no points)
    scoring: dict[str, tuple[tuple[str, tuple[tuple[str, int], ...]], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    loaded: LoadedRuleSet
    decisions: tuple[Decision, ...]
    criteria: tuple[CriterionPlan, ...]
    fact_types: dict[str, FactSpec]
    workplace_types: tuple[str, ...]
    by_key: dict[str, Decision] = field(default_factory=dict)
    outline: Optional[Outline] = None
    stages: dict[int, tuple[Decision, ...]] = field(default_factory=dict)
    constraints: tuple[Decision, ...] = ()  # the catalogue's, across a unit's facts: checked before it is graded
    params_read: frozenset[str] = frozenset()  # the rule set's parameters some condition reads
    param_text: dict[str, dict[str, str]] = field(default_factory=dict)  # each parameter's values, as labels show them
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # what later steps derive once per plan

    def remembered(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, made once for this plan (a table, generated code) and kept under ``key``."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = make()
            return value

    @property
    def ruleset(self) -> RuleSet:
        return self.loaded.ruleset

    @property
    def catalogue(self) -> Catalogue:
        return self.loaded.catalogue

    def stage(self, number: int) -> tuple[Decision, ...]:
        return self.stages[number]


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


def symbols_for(catalogue: Catalogue, year: int, check_ids: list[str]) -> dict[int, dict[str, Symbol]]:
    """The names each stage may read; later outcomes are known but refused with a reason."""
    base = {name: Symbol(fact_type(spec)) for name, spec in catalogue.facts.items()}
    base["period_start"] = Symbol(DATE, datetime.date(year, 1, 1))
    base["period_end"] = Symbol(DATE, datetime.date(year, 12, 31))
    stage2 = {"score": Symbol(NUMBER), "finance_passed": Symbol(BOOL)}
    stage2.update({keys.check(c): Symbol(BOOL) for c in check_ids})
    stage2.update({keys.group_score(g): Symbol(NUMBER) for g in catalogue.groups})
    stage3 = {"grade": Symbol(Type("enum", GRADE_VALUES))}
    later2 = "it is decided after the criteria, vetoes and finance checks; use it in levels or titles"
    later3 = "the grade is decided after the levels; use it in titles"
    refused2 = {k: Symbol(v.type, later=later2) for k, v in stage2.items()}
    refused3 = {k: Symbol(v.type, later=later3) for k, v in stage3.items()}
    return {1: {**base, **refused2, **refused3}, 2: {**base, **stage2, **refused3}, 3: {**base, **stage2, **stage3}}


def condition_sites(data: dict) -> list[tuple[str, int, tuple, str]]:
    """Every condition of a rule set as ``(decision key, stage, path, text)``.

    Works on the plain data of the file, so that conditions can be checked even
    when other parts of the rule set are invalid.
    """
    def items(value):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []

    sites: list[tuple[str, int, tuple, str]] = []

    def add(key, stage, path, text):
        if isinstance(text, str):
            sites.append((key, stage, path, text))

    for i, req in items(data.get("eligibility")):
        add(keys.eligibility(req.get('id')), 1, ("eligibility", i, "require"), req.get("require"))
    for i, crit in items(data.get("criteria")):
        for t, tier in items(crit.get("tiers")):
            add(keys.tier(crit.get('id'), t + 1), 1, ("criteria", i, "tiers", t, "when"), tier.get("when"))
    for i, veto in items(data.get("vetoes")):
        add(keys.veto(veto.get('id')), 1, ("vetoes", i, "when"), veto.get("when"))
    finance = data.get("finance") if isinstance(data.get("finance"), dict) else {}
    for i, chk in items(finance.get("checks")):
        add(keys.check(chk.get('id')), 1, ("finance", "checks", i, "require"), chk.get("require"))
    for i, level in items(data.get("levels")):
        if level.get("min_score") is not None:
            add(keys.band(level.get('id')), 2, ("levels", i, "min_score"), f"score >= {level.get('min_score')}")
        for j, cond in items(level.get("conditions")):
            add(keys.level_condition(level.get('id'), cond.get('id')), 2, ("levels", i, "conditions", j, "require"), cond.get("require"))
    for i, title in items(data.get("titles")):
        for j, cond in items(title.get("conditions")):
            add(keys.title_condition(title.get('id'), cond.get('id')), 3, ("titles", i, "conditions", j, "require"), cond.get("require"))
    return sites


def compile_file(path: Path) -> Plan:
    """Load, validate and compile a rule set file, reporting every problem at once."""
    try:
        loaded = load_ruleset(path)
    except RuleSetInvalid as exc:
        problems = list(exc.problems)
        data = exc.source.data
        if exc.catalogue is not None and isinstance(data, dict):
            year = data.get("year") if isinstance(data.get("year"), int) and 1 <= data["year"] <= 9999 else 2000
            finance = data.get("finance") if isinstance(data.get("finance"), dict) else {}
            checks = [c.get("id") for c in (finance.get("checks") or []) if isinstance(c, dict)]
            symbols = symbols_for(exc.catalogue, year, [c for c in checks if isinstance(c, str)])
            for _, stage, site_path, text in condition_sites(data):
                checked_condition(text, symbols[stage], exc.source, site_path, problems)
        raise RuleSetError(sorted(problems, key=_order)) from None
    return compile_plan(loaded)


def _order(problem: Problem) -> tuple:
    return (problem.file, problem.line or 0, problem.column or 0, problem.message)


def compile_plan(loaded: LoadedRuleSet) -> Plan:
    """Parse and type-check every condition; raises with every problem found."""
    rs, cat = loaded.ruleset, loaded.catalogue
    problems: list[Problem] = []
    workplace_types = tuple(cat.facts["workplace_type"].values or {})
    symbols = symbols_for(cat, rs.year, [c.id for c in rs.finance.checks])
    params = _params(loaded, symbols[3], problems)
    symbols = {stage: {**names, **params} for stage, names in symbols.items()}
    decisions: list[Decision] = []
    params_read: set[str] = set()
    _unique_ids(loaded, problems)
    for key, stage, path, text in condition_sites(rs.model_dump(mode="json")):
        expr = checked_condition(text, symbols[stage], loaded.source, path, problems)
        if expr is not None:  # the parameters are read before they were folded into the condition as constants
            reads = frozenset(n for n in ast.names(parse(text)) if n in params) if params else frozenset()
            params_read.update(reads)
            decisions.append(Decision(key, stage, expr, text, frozenset(ast.names(expr)), path,
                                      describe(loaded.source.data, path), ast.reading_order(expr), reads))
    criteria: list[CriterionPlan] = []
    for i, crit in enumerate(rs.criteria):
        if crit.group not in cat.groups:
            problems.append(loaded.source.problem(("criteria", i, "group"),
                            f"criteria[{crit.id}].group: unknown group '{crit.group}'.{did_you_mean(crit.group, cat.groups)} Groups are {sorted(cat.groups)}"))
        points = _points_by_type(crit.points, workplace_types, loaded, ("criteria", i, "points"), f"criteria[{crit.id}].points",
                                 problems)
        tier_keys = tuple(keys.tier(crit.id, t + 1) for t in range(len(crit.tiers)))
        criteria.append(CriterionPlan(crit.id, crit.group, points, tier_keys, tuple(t.award_pct for t in crit.tiers)))
    _check_levels(loaded, problems)
    _check_totals(loaded, criteria, workplace_types, problems)
    _check_group_points(loaded, criteria, workplace_types, problems)
    _check_quota(loaded, problems)
    constraints = _constraints(loaded, symbols[1], problems)
    _check_placeholders(loaded, problems)
    if problems:
        raise RuleSetError(sorted(problems, key=_order))
    plan = Plan(loaded, tuple(decisions), tuple(criteria), dict(cat.facts), workplace_types,
                outline=_outline(rs, criteria, workplace_types), constraints=constraints,
                params_read=frozenset(params_read), param_text=_param_text(rs))
    plan.by_key.update({d.key: d for d in decisions})
    plan.stages.update({n: tuple(d for d in decisions if d.stage == n) for n in (1, 2, 3)})
    return plan


def _params(loaded: LoadedRuleSet, names: dict[str, Symbol], problems: list[Problem]) -> dict[str, Symbol]:
    """The rule set's parameters as constants of the conditions: the value in force all year, or, for one that
    changes during the year, its dated values (read with ``value_on``)."""
    rs = loaded.ruleset
    start = datetime.date(rs.year, 1, 1)
    out: dict[str, Symbol] = {}
    for name, param in (rs.params or {}).items():
        path = ("params", name)
        if name in names or name in FUNCTIONS:
            problems.append(loaded.source.problem(path, f"params.{name}: the name is taken by a fact, an outcome or a "
                                                        "function; give the parameter another", key=True))
            continue
        dated = _dated(param, start)
        typed: list[tuple[datetime.date, Any]] = []
        kinds = set()
        for i, (since, raw) in enumerate(dated):
            at = path + (("value",) if param.values is None else ("values", i, "value"))
            try:
                value, kind = _param_value(raw)
            except ValueError as exc:
                problems.append(loaded.source.problem(at, f"params.{name}: {exc}"))
                continue
            typed.append((since, value))
            kinds.add(kind)
        if len(kinds) > 1:
            problems.append(loaded.source.problem(path, f"params.{name}: its values are of different kinds "
                                                        f"({', '.join(sorted(k.kind for k in kinds))})"))
            continue
        if not typed:
            continue
        in_year = in_force(typed, rs.year)
        if not in_year:
            problems.append(loaded.source.problem(path, f"params.{name}: no value is in force in {rs.year} (the first "
                                                        f"is from {typed[0][0].isoformat()})"))
            continue
        (kind,) = kinds
        if len(in_year) == 1 and in_year[0][0] <= start:
            out[name] = Symbol(kind, in_year[0][1])
        else:
            out[name] = Symbol(kind, Dated(name, tuple(in_year)))
    return out


def _dated(param: Param, start: datetime.date) -> list[tuple[datetime.date, Any]]:
    """A parameter's values as written, each with the day it starts (one ``value``: from the year's first day)."""
    return [(start, param.value)] if param.values is None else [(v.since, v.value) for v in param.values]


def in_force(dated: list[tuple[datetime.date, Any]], year: int) -> list[tuple[datetime.date, Any]]:
    """The values (each from its day on, in day order) in force at some time of ``year``: the last one begun by
    1 January, then those that begin during the year."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return [d for d in dated if d[0] <= start][-1:] + [d for d in dated if start < d[0] <= end]


_PERCENT = re.compile(r"(\d+(\.\d+)?)%")
_NUMBER_TEXT = re.compile(r"-?\d+(\.\d+)?%?")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")  # {name} in a label: the parameter's value in force


def _param_text(rs: RuleSet) -> dict[str, dict[str, str]]:
    """Each parameter's value as written, for labels: ``95%``; one that changes during the year, each value in force
    in it with the day it starts (``1% (from 2025-01-01), 0.5% (from 2025-07-01)``)."""
    def shown(value: Any, lang: str) -> str:
        text = written(value)
        return text.replace(".", ",") if lang == "vi" and _NUMBER_TEXT.fullmatch(text) else text  # 0,5% in Vietnamese

    start = datetime.date(rs.year, 1, 1)
    out = {}
    for name, param in (rs.params or {}).items():
        values = in_force(_dated(param, start), rs.year)
        if len(values) == 1 and values[0][0] <= start:  # one value all the year: shown alone
            out[name] = {lang: shown(values[0][1], lang) for lang in ("vi", "en")}
        else:
            out[name] = {lang: ", ".join(f"{shown(value, lang)} ({'từ' if lang == 'vi' else 'from'} "
                                         f"{max(since, start).isoformat()})" for since, value in values)
                         for lang in ("vi", "en")}
    return out


def _check_placeholders(loaded: LoadedRuleSet, problems: list[Problem]) -> None:
    """A ``{name}`` in a label must name a parameter: the label shows its value."""
    params = loaded.ruleset.params or {}

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("vi", "en") and isinstance(item, str):
                    for found in PLACEHOLDER.finditer(item):
                        if found.group(1) not in params:
                            problems.append(loaded.source.problem(path + (key,),
                                            f"{describe(loaded.source.data, path + (key,))}: {{{found.group(1)}}} names "
                                            f"no parameter of the rule set.{did_you_mean(found.group(1), params)} "
                                            f"Parameters are: {', '.join(sorted(params)) or 'none (params:)'}"))
                else:
                    walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    walk(loaded.source.data, ())


def _param_value(raw: Any) -> tuple[Any, Type]:
    """A parameter's value as the conditions read it (exact numbers; ``"30%"`` is 3/10), and its type."""
    if isinstance(raw, bool):
        return raw, BOOL
    if isinstance(raw, int):
        return raw, NUMBER
    if isinstance(raw, Decimal):
        exact = Fraction(raw)
        return (int(exact) if exact.denominator == 1 else exact), NUMBER
    if isinstance(raw, datetime.date):
        return raw, DATE
    text = str(raw).strip()
    percent = _PERCENT.fullmatch(text)
    if percent:
        exact = Fraction(Decimal(percent.group(1))) / 100
        return (int(exact) if exact.denominator == 1 else exact), NUMBER
    if not text:
        raise ValueError("an empty value; write a number, a percentage (30%), a date or true/false")
    return text, STRING


def _constraints(loaded: LoadedRuleSet, symbols: dict[str, Symbol], problems: list[Problem]) -> tuple[Decision, ...]:
    """The catalogue's constraints, parsed and type-checked against its facts alone, located in the file that writes
    each one (the catalogue, or the one it extends)."""
    facts = loaded.catalogue.facts
    readable = {name: symbol for name, symbol in symbols.items() if name in facts or name.startswith("period_")}
    out = []
    for ident, constraint in (loaded.catalogue.constraints or {}).items():
        path = ("constraints", ident, "require")
        source = loaded.catalogue_source.declaring(path)
        expr = checked_condition(constraint.require, readable, source, path, problems)
        if expr is not None:
            out.append(Decision(keys.constraint(ident), 0, expr, constraint.require, frozenset(ast.names(expr)), path,
                                describe(source.data, path), ast.reading_order(expr)))
    return tuple(out)


def _outline(rs: RuleSet, criteria: list[CriterionPlan], workplace_types: tuple[str, ...]) -> Outline:
    levels = tuple(LevelPlan(lv.id, lv.min_score, (((keys.band(lv.id),) if lv.min_score is not None else ())
                                                     + tuple(keys.level_condition(lv.id, c.id) for c in lv.conditions)))
                   for lv in rs.levels)
    return Outline(tuple(keys.eligibility(r.id) for r in rs.eligibility),
                   tuple((v.id, keys.veto(v.id), v.cap) for v in rs.vetoes),
                   tuple((c.id, keys.check(c.id), c.severity == "required") for c in rs.finance.checks),
                   levels,
                   tuple((t.id, tuple(keys.title_condition(t.id, c.id) for c in t.conditions)) for t in rs.titles),
                   {wt: tuple((c.group, () if c.points[wt] is None else
                               tuple((k, c.points[wt] * a) for k, a in zip(c.tier_keys, c.tier_awards))) for c in criteria)
                    for wt in workplace_types})


def checked_condition(text: str, symbols: dict[str, Symbol], source: Located, path: tuple,
                      problems: list[Problem]) -> Optional[ast.Node]:
    """A condition written at ``path`` of a file, parsed and type-checked; or None, its problem located."""
    where = describe(source.data, path)
    try:
        return check(parse(text), symbols)
    except (ExpressionSyntaxError, TypeProblem) as exc:
        line, col = condition_position(source, path, exc.column)
        problems.append(Problem(source.file, f"{where}: {exc.message}", line, col))
        return None


def condition_position(source: Located, path: tuple, column: int = 1) -> tuple[Optional[int], Optional[int]]:
    """File line and column of ``column`` (1-based) inside the condition written at ``path``.

    Falls back to the value's own position when the text's start is unknown (block scalars).
    """
    line, start = source.position(path)
    offset = _text_offset(source, line, start)
    if start is None or offset is None:
        return line, start
    return line, start + offset + column - 1


def _text_offset(source: Located, line: Optional[int], column: Optional[int]) -> Optional[int]:
    """Where the condition's text starts after its YAML position: 0 plain, 1 quoted, None for block scalars."""
    if line is None or column is None or source.lines is None or line > len(source.lines):
        return None
    first = source.lines[line - 1][column - 1:column]
    if first in ("'", '"'):
        return 1
    if first in ("|", ">"):
        return None
    return 0


def _points_by_type(points, workplace_types, loaded, path, where, problems) -> dict[str, Optional[int]]:
    """Points written as one number or per workplace type (with ``default``), for every type."""
    if isinstance(points, int):
        return {t: points for t in workplace_types}
    unknown = [k for k in points if k != "default" and k not in workplace_types]
    for key in unknown:
        problems.append(loaded.source.problem(path + (key,),
                        f"{where}: unknown workplace type '{key}'.{did_you_mean(key, workplace_types)} "
                        f"Expected one of {sorted(workplace_types) + ['default']}", key=True))
    default = points.get("default", None)
    missing = [t for t in workplace_types if t not in points and "default" not in points]
    if missing:
        problems.append(loaded.source.problem(path, f"{where}: no points for {missing}; "
                                              "give each workplace type, or 'default' (null means the criterion does not apply)"))
    return {t: points.get(t, default) for t in workplace_types}


def _check_group_points(loaded, criteria, workplace_types, problems) -> None:
    """Declared group maxima (the guidance's table) must be what the group's criteria add up to."""
    rs, groups = loaded.ruleset, loaded.catalogue.groups
    if rs.groups is None:
        return
    for group, declared in rs.groups.items():
        path = ("groups", group)
        if group not in groups:
            problems.append(loaded.source.problem(path, f"groups: unknown group '{group}'.{did_you_mean(group, groups)} "
                                                  f"Groups are {sorted(groups)}", key=True))
            continue
        maxima = _points_by_type(declared.max_points, workplace_types, loaded, path + ("max_points",),
                                 f"groups[{group}].max_points", problems)
        for wt in workplace_types:
            total = sum(c.points[wt] or 0 for c in criteria if c.group == group)
            if maxima[wt] is not None and total != maxima[wt]:
                names = [c.id for c in criteria if c.group == group and c.points[wt]]
                problems.append(loaded.source.problem(path + ("max_points",), (
                    f"groups[{group}].max_points: the criteria of group '{group}' give workplace type '{wt}' {total} "
                    f"points ({', '.join(names) or 'none'}), but the group is declared at {maxima[wt]}")))
    missing = [g for g in groups if g not in rs.groups]
    if missing:
        problems.append(loaded.source.problem(("groups",), f"groups: no maximum declared for {missing}; declare every "
                                              "group, or none", key=True))


def _check_totals(loaded, criteria, workplace_types, problems) -> None:
    rs = loaded.ruleset
    for wt in workplace_types:
        total = sum(c.points[wt] or 0 for c in criteria)
        if total != rs.scale:
            problems.append(loaded.source.problem(("criteria",),
                            f"criteria: the points for workplace type '{wt}' add up to {total}, expected the scale {rs.scale}", key=True))


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
    if quota.exempt_if is not None and (quota.exempt_if not in facts or facts[quota.exempt_if].type != "bool"):
        problems.append(loaded.source.problem(("quota", "exempt_if"),
                        f"quota.exempt_if: '{quota.exempt_if}' must be a true/false fact of the catalogue"
                        + (did_you_mean(quota.exempt_if, facts) if quota.exempt_if not in facts else
                           f", not {facts[quota.exempt_if].type}")))
    listed = isinstance(quota.cohort_by, list)
    for i, name in enumerate(quota.cohort_facts):
        if name not in facts:
            problems.append(loaded.source.problem(("quota", "cohort_by", i) if listed else ("quota", "cohort_by"),
                            f"quota.cohort_by: unknown fact '{name}'.{did_you_mean(name, facts)}"))
    if GRADES.index(quota.demote_to) <= GRADES.index(quota.level):
        problems.append(loaded.source.problem(("quota", "demote_to"), f"quota.demote_to: '{quota.demote_to}' must be below '{quota.level}'"))


def _unique_ids(loaded, problems) -> None:
    """Ids key explanations and audit records: each must be unique where it is used."""
    rs = loaded.ruleset
    lists: list[tuple[tuple, list]] = [
        (("eligibility",), rs.eligibility), (("criteria",), rs.criteria), (("vetoes",), rs.vetoes),
        (("finance", "checks"), rs.finance.checks), (("titles",), rs.titles)]
    lists += [(("levels", i, "conditions"), lv.conditions) for i, lv in enumerate(rs.levels)]
    lists += [(("titles", i, "conditions"), t.conditions) for i, t in enumerate(rs.titles)]
    for path, items in lists:
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in first:
                line = loaded.source.position(path + (first[item.id], "id"))[0]
                problems.append(loaded.source.problem(path + (i, "id"),
                                f"{describe(loaded.source.data, path)}: the id '{item.id}' is used twice (first on line {line}); ids must be unique"))
            else:
                first[item.id] = i
    for i, lv in enumerate(rs.levels):
        for j, cond in enumerate(lv.conditions):
            if cond.id == "band":
                problems.append(loaded.source.problem(("levels", i, "conditions", j, "id"),
                                f"levels[{lv.id}].conditions: the id 'band' is reserved for min_score"))
