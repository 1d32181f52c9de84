"""unused-fact, reports-only-read, unused-param, param-date: facts and parameters that no rule reads.

Units are asked to report a fact, and nothing uses it: often a rule that was meant to read
it reads another fact, or was dropped.  Facts the grading itself needs count as used:
required facts (the unit's identity, year and workplace type), the quota's
``cohort_by`` and ``rank_by`` keys.  A fact kept for reports (a breakdown of the targets
report, a programme's target) is marked ``reports_only: true`` in the catalogue, and is
passed by; should a rule read it after all, the mark is stale and is said to be.  A
parameter no condition reads, or a dated value of one that is never in force in the rule
set's year, is most often a name mistyped or a date from another year.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain
from engine.compiling.compile import Plan, in_force


def used_facts(plan: Plan) -> set[str]:
    """Facts read by a condition, required of every unit, or keying the quota."""
    used = set().union(*(d.reads for d in plan.decisions))
    used |= {name for name, spec in plan.catalogue.facts.items() if spec.on_missing == "required"}
    quota = plan.ruleset.quota
    if quota is not None:
        used |= set(quota.cohort_facts) | {k.key for k in quota.rank_by} | ({quota.exempt_if} - {None})
    return used


def unused_fact(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A fact declared in the catalogue that no rule of the rule set reads."""
    used = used_facts(plan)
    rs = plan.ruleset
    for name, spec in plan.catalogue.facts.items():
        if name not in used and not spec.reports_only:
            yield Finding(f"fact '{name}' is declared in the catalogue but no rule of {rs.id} {rs.version} reads it "
                          "(a fact kept for reports is marked reports_only: true)", ("facts", name), in_catalogue=True,
                          key=True)


def reports_only_read(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A fact marked ``reports_only`` that a rule of the rule set reads: the mark would hide it once unused."""
    readers: dict[str, list[str]] = {}
    for decision in plan.decisions:
        for name in decision.reads:
            readers.setdefault(name, []).append(decision.where)
    rs = plan.ruleset
    for name, spec in plan.catalogue.facts.items():
        if spec.reports_only and name in readers:
            shown = ", ".join(readers[name][:3]) + (f" and {len(readers[name]) - 3} more" if len(readers[name]) > 3 else "")
            yield Finding(f"fact '{name}' is marked reports_only, but {rs.id} {rs.version} reads it ({shown}); "
                          "remove the mark", ("facts", name, "reports_only"), in_catalogue=True, key=True)


def unused_param(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A parameter of the rule set that no condition reads."""
    rs = plan.ruleset
    for name in rs.params or {}:
        if name not in plan.params_read:
            yield Finding(f"params.{name} is declared but no condition of {rs.id} {rs.version} reads it",
                          ("params", name), key=True)


def param_date(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A parameter's dated value that is never in force in the rule set's year."""
    rs = plan.ruleset
    for name, param in (rs.params or {}).items():
        values = param.values or []
        kept = {since for since, _ in in_force([(v.since, v.value) for v in values], rs.year)}
        for i, dated in enumerate(values):
            if dated.since in kept:
                continue
            why = (f"it starts after {rs.year} ends" if dated.since.year > rs.year else
                   f"{values[i + 1].since.isoformat()} replaces it before {rs.year} begins")
            yield Finding(f"params.{name}.values[{i}] (since {dated.since.isoformat()}) is never in force in "
                          f"{rs.year}: {why}", ("params", name, "values", i, "since"))


CHECKS = (Check("unused-fact", "warning", unused_fact), Check("reports-only-read", "warning", reports_only_read),
          Check("unused-param", "warning", unused_param), Check("param-date", "warning", param_date))
