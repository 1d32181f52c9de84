"""What changed between two rule sets, by rule id, in words a designer reads.

Conditions are compared by their syntax trees, not their text: a change of spacing,
quoting or redundant parentheses is no change.  Every row names the rule's
id, because ids are permanent and explanations and audit records key on them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from engine import keys
from engine.compiling.compile import Plan
from engine.expr import ast
from engine.expr.parser import parse
from engine.values import data, written

Row = dict[str, Any]


@dataclass(frozen=True)
class Change:
    section: str  # ruleset | groups | eligibility | criteria | vetoes | levels | finance | titles | quota | catalogue
    rule: str  # the rule's id, dotted: criteria.membership, levels.excellent.all_tasks_on_time
    change: str  # added | removed | changed
    what: str  # the field that changed (points.public_service, require, cap, ...)
    before: Any
    after: Any

    def describe(self) -> str:
        if self.change == "added":
            return f"{self.rule}: added{_detail(self.what, self.after)}"
        if self.change == "removed":
            return f"{self.rule}: removed{_detail(self.what, self.before)}"
        if isinstance(self.before, dict) and isinstance(self.after, dict) and "reference" not in self.what:
            return f"{self.rule}: {self.what} {_per_type(self.before, self.after)}"  # points per workplace type
        return f"{self.rule}: {self.what} {_show(self.before)} → {_show(self.after)}"

    def row(self) -> Row:
        return {"section": self.section, "rule": self.rule, "change": self.change, "what": self.what,
                "before": data(self.before), "after": data(self.after), "description": self.describe()}


def _detail(what: str, value: Any) -> str:
    return f" {what} {_show(value)}" if what else (f" ({_show(value)})" if value not in (None, "") else "")


def _per_type(before: dict, after: dict) -> str:
    """``public_admin 4 → 2, public_service 6 → 4, others 5 → 3``: types with the same move share a phrase."""
    moves: dict[tuple, list[str]] = {}
    for key in before:
        moves.setdefault((before[key], after[key]), []).append(key)
    return ", ".join(f"{'/'.join(names)} {_show(b)} → {_show(a)}" for (b, a), names in moves.items())


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):  # as the designer writes it in YAML flow style; unset keys are not written
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if v is not None) + "}"
    return written(value)  # as YAML writes it: reports_only none → true


def canonical(node: ast.Node) -> str:
    """One spelling per tree: printed with full parentheses, whatever the layout was."""
    if isinstance(node, ast.Literal):
        v = node.value
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return repr(v)
        return str(v)
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Neg):
        return f"-({canonical(node.operand)})"
    if isinstance(node, (ast.Arith, ast.Compare)):
        return f"({canonical(node.left)} {node.op} {canonical(node.right)})"
    if isinstance(node, ast.Not):
        return f"not ({canonical(node.operand)})"
    if isinstance(node, ast.BoolOp):
        return "(" + f" {node.op} ".join(canonical(o) for o in node.operands) + ")"
    if isinstance(node, ast.Member):
        items = ", ".join(canonical(i) for i in node.items.items)
        return f"({canonical(node.needle)} {'not in' if node.negated else 'in'} [{items}])"
    if isinstance(node, ast.Call):
        return f"{node.func}({', '.join(canonical(a) for a in node.args)})"
    return node.text


def diff(old: Plan, new: Plan) -> list[Change]:
    """Every difference of meaning between two compiled rule sets, in rule-set order."""
    changes: list[Change] = []
    a, b = old.ruleset, new.ruleset
    for field in ("id", "year", "version", "effective_from", "scale", "catalogue"):
        if getattr(a, field) != getattr(b, field):
            changes.append(Change("ruleset", "ruleset", "changed", field, getattr(a, field), getattr(b, field)))
    changes += _listed("eligibility", a.eligibility, b.eligibility, lambda r: {"require": _cond(old, keys.eligibility(r.id))},
                       lambda r: {"require": _cond(new, keys.eligibility(r.id))}, labelled=True)
    changes += _groups(old, new)
    changes += _criteria(old, new)
    changes += _listed("vetoes", a.vetoes, b.vetoes, lambda v: {"when": _cond(old, keys.veto(v.id)), "cap": v.cap},
                       lambda v: {"when": _cond(new, keys.veto(v.id)), "cap": v.cap}, labelled=True)
    for level_a, level_b in zip(a.levels, b.levels):
        rule = f"levels.{level_a.id}"
        if level_a.min_score != level_b.min_score:
            changes.append(Change("levels", rule, "changed", "min_score", level_a.min_score, level_b.min_score))
        changes += _reference("levels", rule, "reference (min_score)", level_a, level_b)
        changes += _listed("levels", level_a.conditions, level_b.conditions,
                           lambda c, lv=level_a.id: {"require": _cond(old, keys.level_condition(lv, c.id))},
                           lambda c, lv=level_b.id: {"require": _cond(new, keys.level_condition(lv, c.id))},
                           prefix=f"{rule}.", labelled=True, added_what="condition")
    changes += _listed("finance", a.finance.checks, b.finance.checks,
                       lambda c: {"require": _cond(old, keys.check(c.id)), "severity": c.severity},
                       lambda c: {"require": _cond(new, keys.check(c.id)), "severity": c.severity},
                       prefix="finance.", labelled=True, added_what="check")
    titles_a, titles_b = {t.id: t for t in a.titles}, {t.id: t for t in b.titles}
    for tid in _ordered(titles_a, titles_b):
        if tid not in titles_b:
            changes.append(Change("titles", f"titles.{tid}", "removed", "", None, None))
        elif tid not in titles_a:
            changes.append(Change("titles", f"titles.{tid}", "added", "", None, None))
        else:
            changes += _reference("titles", f"titles.{tid}", "reference", titles_a[tid], titles_b[tid])
            changes += _listed("titles", titles_a[tid].conditions, titles_b[tid].conditions,
                               lambda c, t=tid: {"require": _cond(old, keys.title_condition(t, c.id))},
                               lambda c, t=tid: {"require": _cond(new, keys.title_condition(t, c.id))},
                               prefix=f"titles.{tid}.", labelled=True, added_what="condition")
    changes += _quota(a.quota, b.quota)
    changes += param_changes(old, new)
    changes += _catalogue(old, new)
    return changes


def param_changes(old: Plan, new: Plan) -> list[Change]:
    """Parameters added, removed, or given other values (as a changed threshold of every rule that reads them)."""
    a, b = old.ruleset.params or {}, new.ruleset.params or {}
    def shown(param) -> Any:
        if param.values is None:
            return data(param.value)
        return {v.since.isoformat(): data(v.value) for v in param.values}

    out, both = _added_or_removed("params", "params.", a, b, "value", shown)
    for name in both:
        rule = f"params.{name}"
        if shown(a[name]) != shown(b[name]):
            out.append(Change("params", rule, "changed", "value", shown(a[name]), shown(b[name])))
        out += _reference("params", rule, "reference", a[name], b[name])
    return out


def _added_or_removed(section: str, prefix: str, a: dict, b: dict, what: str,
                      shown: Callable[[Any], Any]) -> tuple[list[Change], list[str]]:
    """Entries keyed by name that one side lacks, as changes; and, in order, the names both have (to compare)."""
    out, both = [], []
    for name in _ordered(a, b):
        if name not in b:
            out.append(Change(section, f"{prefix}{name}", "removed", what, shown(a[name]), None))
        elif name not in a:
            out.append(Change(section, f"{prefix}{name}", "added", what, None, shown(b[name])))
        else:
            both.append(name)
    return out, both


def _cond(plan: Plan, key: str) -> str:
    decision = plan.by_key.get(key)
    return decision.source if decision is not None else ""


def _ordered(a: dict, b: dict) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _listed(section: str, items_a: Iterable, items_b: Iterable, fields_a, fields_b,
            prefix: Optional[str] = None, labelled: bool = False, added_what: str = "") -> list[Change]:
    """Changes between two lists of rules with ids; conditions compare by meaning."""
    prefix = f"{section}." if prefix is None else prefix
    by_a, by_b = {i.id: i for i in items_a}, {i.id: i for i in items_b}
    out = []
    for ident in _ordered(by_a, by_b):
        rule = f"{prefix}{ident}"
        if ident not in by_b:
            out.append(Change(section, rule, "removed", added_what, _first(fields_a(by_a[ident])), None))
            continue
        if ident not in by_a:
            out.append(Change(section, rule, "added", added_what, None, _first(fields_b(by_b[ident]))))
            continue
        before, after = fields_a(by_a[ident]), fields_b(by_b[ident])
        for field in before:
            if field in ("require", "when"):
                if _meaning(before[field]) != _meaning(after[field]):
                    out.append(Change(section, rule, "changed", field, before[field], after[field]))
            elif before[field] != after[field]:
                out.append(Change(section, rule, "changed", field, before[field], after[field]))
        if labelled:
            out += _labels(section, rule, by_a[ident].label, by_b[ident].label)
        out += _reference(section, rule, "reference", by_a[ident], by_b[ident])
    return out


def _reference(section: str, rule: str, what: str, a: Any, b: Any) -> list[Change]:
    """A rule's source, given, taken away or changed: an auditor reads the version that says where it comes from."""
    before, after = getattr(a, "reference", None), getattr(b, "reference", None)
    if before == after:
        return []
    shown = [None if r is None else r.model_dump(mode="json", exclude_none=True) for r in (before, after)]
    return [Change(section, rule, "changed", what, *shown)]


def _first(fields: dict) -> Any:
    return next(iter(fields.values()), None)


def _meaning(text: str) -> str:
    try:
        return canonical(parse(text))
    except ValueError:
        return text


def _labels(section: str, rule: str, a, b) -> list[Change]:
    return [Change(section, rule, "changed", f"label.{lang}", getattr(a, lang), getattr(b, lang))
            for lang in ("vi", "en") if getattr(a, lang) != getattr(b, lang)]


def _criteria(old: Plan, new: Plan) -> list[Change]:
    out: list[Change] = []
    plans_a = {c.id: c for c in old.criteria}
    plans_b = {c.id: c for c in new.criteria}
    models_a = {c.id: c for c in old.ruleset.criteria}
    models_b = {c.id: c for c in new.ruleset.criteria}
    for ident in _ordered(plans_a, plans_b):
        rule = f"criteria.{ident}"
        if ident not in plans_b:
            out.append(Change("criteria", rule, "removed", "", None, None))
            continue
        if ident not in plans_a:
            points = {t: p for t, p in plans_b[ident].points.items() if p is not None}
            out.append(Change("criteria", rule, "added", "", None, f"{_points_text(points)}, group {plans_b[ident].group}"))
            continue
        pa, pb = plans_a[ident], plans_b[ident]
        if pa.group != pb.group:
            out.append(Change("criteria", rule, "changed", "group", pa.group, pb.group))
        moved_before, moved_after = {}, {}
        for wt in _ordered(pa.points, pb.points):
            before, after = pa.points.get(wt), pb.points.get(wt)
            if before != after:
                if before is None:
                    out.append(Change("criteria", rule, "changed", f"applies to {wt} (points)", "no", after))
                elif after is None:
                    out.append(Change("criteria", rule, "changed", f"applies to {wt} (points)", before, "no"))
                else:
                    moved_before[wt], moved_after[wt] = before, after
        if moved_before:  # one row per criterion: the workplace types whose points moved
            uniform = set(moved_before) == set(pa.points) and \
                len(set(moved_before.values())) == 1 and len(set(moved_after.values())) == 1
            if uniform:
                out.append(Change("criteria", rule, "changed", "points", next(iter(moved_before.values())),
                                  next(iter(moved_after.values()))))
            else:
                out.append(Change("criteria", rule, "changed", "points", moved_before, moved_after))
        tiers_a, tiers_b = models_a[ident].tiers, models_b[ident].tiers
        for n in range(max(len(tiers_a), len(tiers_b))):
            what = f"tiers[{n + 1}]"
            if n >= len(tiers_b):
                out.append(Change("criteria", rule, "changed", what, f"{tiers_a[n].when} ({tiers_a[n].award_pct}%)", None))
            elif n >= len(tiers_a):
                out.append(Change("criteria", rule, "changed", what, None, f"{tiers_b[n].when} ({tiers_b[n].award_pct}%)"))
            else:
                ta, tb = tiers_a[n], tiers_b[n]
                if _meaning(ta.when) != _meaning(tb.when):
                    out.append(Change("criteria", rule, "changed", f"{what}.when", ta.when, tb.when))
                if ta.award_pct != tb.award_pct:
                    out.append(Change("criteria", rule, "changed", f"{what}.award_pct", ta.award_pct, tb.award_pct))
                out += _reference("criteria", rule, f"{what}.reference", ta, tb)
        out += _labels("criteria", rule, models_a[ident].label, models_b[ident].label)
        out += _reference("criteria", rule, "reference", models_a[ident], models_b[ident])
    return out


def _points_text(points: dict) -> str:
    values = set(points.values())
    if len(values) == 1:
        return f"{values.pop()} points"
    return ", ".join(f"{t}: {p}" for t, p in points.items())


def _quota(a, b) -> list[Change]:
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [Change("quota", "quota", "added" if a is None else "removed", "", None, None)]
    out = []
    for field in ("enabled", "level", "share_pct", "of_levels", "demote_to", "cohort_by", "missing_cohort", "rounding",
                  "at_least_one_from", "exempt_if"):
        if getattr(a, field) != getattr(b, field):
            out.append(Change("quota", "quota", "changed", field, getattr(a, field), getattr(b, field)))
    keys_a = [f"{k.key} {k.order}" for k in a.rank_by]
    keys_b = [f"{k.key} {k.order}" for k in b.rank_by]
    if keys_a != keys_b:
        out.append(Change("quota", "quota", "changed", "rank_by", keys_a, keys_b))
    return out


def _catalogue(old: Plan, new: Plan) -> list[Change]:
    """Facts a new catalogue version adds, drops or redefines: new facts mean new columns to report."""
    facts_a, facts_b = old.catalogue.facts, new.catalogue.facts
    out = []
    for name in _ordered(facts_a, facts_b):
        rule = f"catalogue.{name}"
        if name not in facts_b:
            out.append(Change("catalogue", rule, "removed", "fact", facts_a[name].type, None))
        elif name not in facts_a:
            out.append(Change("catalogue", rule, "added", "fact", None, f"{facts_b[name].type}: {facts_b[name].label.en}"))
        else:
            before, after = facts_a[name].model_dump(mode="json"), facts_b[name].model_dump(mode="json")
            for field in before:
                if before[field] != after[field] and field != "label":
                    out.append(Change("catalogue", rule, "changed", field, before[field], after[field]))
    constraints_a, constraints_b = old.catalogue.constraints or {}, new.catalogue.constraints or {}
    changes, both = _added_or_removed("catalogue", "catalogue.constraints.", constraints_a, constraints_b, "constraint",
                                      lambda c: c.require)  # what a unit's facts must satisfy together
    out += changes
    for ident in both:
        a, b = constraints_a[ident], constraints_b[ident]
        if _meaning(a.require) != _meaning(b.require):
            out.append(Change("catalogue", f"catalogue.constraints.{ident}", "changed", "require", a.require, b.require))
    return out


def _group_maxima(plan: Plan) -> dict[str, dict[str, Optional[int]]]:
    """Declared points per group and workplace type (empty when the rule set declares none)."""
    out = {}
    for group, declared in (plan.ruleset.groups or {}).items():
        points = declared.max_points
        out[group] = {t: points if isinstance(points, int) else points.get(t, points.get("default"))
                      for t in plan.workplace_types}
    return out


def _groups(old: Plan, new: Plan) -> list[Change]:
    a, b = _group_maxima(old), _group_maxima(new)
    out, both = _added_or_removed("groups", "groups.", a, b, "max_points", _points_text)
    for group in both:
        rule = f"groups.{group}"
        if a[group] != b[group]:
            moved = [t for t in a[group] if a[group][t] != b[group].get(t)]
            out.append(Change("groups", rule, "changed", "max_points", {t: a[group][t] for t in moved},
                              {t: b[group].get(t) for t in moved}))
    return out
