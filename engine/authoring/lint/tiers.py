"""shadowed-tier, tier-order: the tiers of one criterion, read in order.

The first tier that holds awards its share of the points.  Shadowed (the second tier
holds only when the first does, so it never awards)::

    - {when: "workplace_dialogues >= 1", award_pct: 100}
    - {when: "workplace_dialogues >= 2", award_pct: 50}

Out of order (meeting more earns less)::

    - {when: "members_informed_pct >= 100", award_pct: 50}
    - {when: "members_informed_pct >= 90", award_pct: 100}

Implication is proved on bounds of one linear form (``x >= 2`` implies ``x >= 1``),
codes, booleans and and/or; what cannot be proved is never reported.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.diff import canonical
from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain, Formula, formula, implies, verdict
from engine.compiling.compile import Decision, Plan


def _tiers(plan: Plan, domain: Domain) -> Iterator[tuple[int, list[Decision], list[Formula], tuple[int, ...]]]:
    for crit in plan.criteria:
        decisions = [plan.by_key[k] for k in crit.tier_keys]
        yield len(decisions), decisions, [formula(d.expr, domain) for d in decisions], crit.tier_awards


def shadowed_tier(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A tier that never awards its points: an earlier tier of the same criterion holds whenever it does."""
    for count, decisions, formulas, awards in _tiers(plan, domain):
        for later in range(1, count):
            if verdict(formulas[later], domain)[0] is False:
                continue  # never-holds says it better
            for earlier in range(later):
                if not implies(formulas[later], formulas[earlier], domain):
                    continue
                first = decisions[earlier]
                label = f"tiers[{earlier}]"
                if canonical(first.expr) == canonical(decisions[later].expr):
                    why = f"it is the same condition as {label}"
                else:
                    why = f'whenever it holds, {label} ("{first.source}") holds too'
                yield Finding(f"{decisions[later].where} never awards its {awards[later]}%: {why}, "
                              "and the first tier that holds decides", decisions[later].path)
                break


def tier_order(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A tier that awards more than an earlier, stricter tier of the same criterion: meeting more earns less."""
    for count, decisions, formulas, awards in _tiers(plan, domain):
        for later in range(1, count):
            for earlier in range(later):
                if awards[later] <= awards[earlier]:
                    continue
                stricter = implies(formulas[earlier], formulas[later], domain)
                if stricter and not implies(formulas[later], formulas[earlier], domain):
                    yield Finding(f"{decisions[later].where} awards {awards[later]}%, but the stricter tiers[{earlier}] "
                                  f'("{decisions[earlier].source}") before it awards only {awards[earlier]}%: a unit that '
                                  "meets both gets fewer points than one that meets only this tier; "
                                  "order the tiers from the best award down", decisions[later].path)
                    break


CHECKS = (Check("shadowed-tier", "warning", shadowed_tier), Check("tier-order", "warning", tier_order))
