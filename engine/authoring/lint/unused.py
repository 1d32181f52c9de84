"""unused-fact, reports-only-read: a fact no rule reads, and a fact said to be for reports that one does.

Units are asked to report a fact, and nothing uses it: often a rule that was meant to read
it reads another fact, or was dropped.  Facts the grading itself needs count as used:
required facts (the unit's identity, year and workplace type), the quota's
``cohort_by`` and ``rank_by`` keys.  A fact kept for reports (a breakdown of the targets
report, a programme's target) is marked ``reports_only: true`` in the catalogue, and is
passed by; should a rule read it after all, the mark is stale and is said to be.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain
from engine.compiling.compile import Plan


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


CHECKS = (Check("unused-fact", "warning", unused_fact), Check("reports-only-read", "warning", reports_only_read))
