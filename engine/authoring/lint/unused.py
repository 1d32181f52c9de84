"""unused-fact: a fact of the catalogue that no rule of the rule set reads.

Units are asked to report it, and nothing uses it: often a rule that was meant to read
it reads another fact, or was dropped.  Facts the grading itself needs count as used:
required facts (the unit's identity, year and workplace type), the quota's
``cohort_by`` and ``rank_by`` keys.  A fact kept for reports only is silenced with
``cdcs validate --ignore unused-fact``.
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
        used |= {quota.cohort_by} | {k.key for k in quota.rank_by}
    return used


def unused_fact(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A fact declared in the catalogue that no rule of the rule set reads."""
    used = used_facts(plan)
    rs = plan.ruleset
    for name in plan.catalogue.facts:
        if name not in used:
            yield Finding(f"fact '{name}' is declared in the catalogue but no rule of {rs.id} {rs.version} reads it",
                          ("facts", name), in_catalogue=True, key=True)


CHECKS = (Check("unused-fact", "warning", unused_fact),)
