"""group-empty: a criteria group that gives a workplace type no points at all.

The compiler checks that each workplace type's points add up to the scale, and, when
the rule set declares them (``groups:``), to each group's maximum.  A whole group of
1294/HD-TLĐ that does not apply to a type (every criterion of it is null or 0 there)
usually means points moved to the wrong group, declared or not.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.authoring.lint.check import Check, Finding
from engine.authoring.lint.ranges import Domain
from engine.compiling.compile import Plan


def group_empty(plan: Plan, domain: Domain) -> Iterator[Finding]:
    """A criteria group whose criteria give some workplace type no points."""
    rs = plan.ruleset
    for group in plan.catalogue.groups:
        members = [(i, c) for i, c in enumerate(plan.criteria) if c.group == group]
        if not members:
            yield Finding(f"group '{group}' of the catalogue has no criteria in {rs.id} {rs.version}: "
                          "no unit earns points in it", ("groups", group), in_catalogue=True, key=True)
            continue
        empty = [t for t in plan.workplace_types if not any(c.points[t] for _, c in members)]
        if empty:
            names = ", ".join(c.id for _, c in members)
            yield Finding(f"criteria: group '{group}' gives no points to workplace type{'s' if len(empty) > 1 else ''} "
                          f"{empty}: none of its criteria ({names}) apply to them",
                          ("criteria", members[0][0], "points"))


CHECKS = (Check("group-empty", "warning", group_empty),)
