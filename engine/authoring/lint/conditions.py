"""never-holds, always-holds: conditions settled by the catalogue's ranges alone.

Fails (a percentage is 0..100)::

    - {when: "officers_trained_pct >= 120", award_pct: 100}   # never holds
    require: "members_total >= 0"                             # always holds

A fact the unit did not report still makes such a condition undecided: the claim is
about the units that report what the condition reads.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain, constant_parts
from engine.compiling.compile import Plan


def _constant(plan: Plan, domain: Domain, wanted: bool) -> Iterator[Finding]:
    for decision in plan.decisions:
        if decision.key.endswith(".band"):  # min_score is the band check's business
            continue
        for node, value, why in constant_parts(decision.expr, domain):
            if value is not wanted:
                continue
            words = "always holds" if value else "can never hold"
            if node is decision.expr:
                yield Finding(f"{decision.where} {words}: {why}", decision.path)
            else:
                yield Finding(f'{decision.where}: "{node.text}" {words}: {why}', decision.path, column=node.column)


def never_holds(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A condition, or a part of one, that no unit reporting its facts can meet."""
    return _constant(plan, domain, False)


def always_holds(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A condition, or a part of one, that every unit reporting its facts meets."""
    return _constant(plan, domain, True)


CHECKS = (Check("never-holds", "warning", never_holds), Check("always-holds", "warning", always_holds))
