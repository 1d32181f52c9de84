"""Static analysis of a compiled rule set: rules that load and grade, but probably not as meant.

Each check has a permanent id, a severity and a one-line summary (the first line of
its function's docstring); its module's docstring shows what it finds.  ``lint``
runs them all on a :class:`~engine.compiling.compile.Plan` and returns located problems.
"""
from __future__ import annotations

from engine.authoring.lint import bands, conditions, groups, redundant, tiers, unused
from engine.authoring.lint.check import Check
from engine.authoring.lint.ranges import domain_of
from engine.compiling.compile import Plan
from engine.errors import Problem, did_you_mean

REGISTRY: dict[str, Check] = {check.id: check for module in (bands, conditions, tiers, redundant, groups, unused)
                              for check in module.CHECKS}


def get(check_id: str) -> Check:
    """The check with this id; a mistyped id is refused with the closest one."""
    if check_id not in REGISTRY:
        raise KeyError(f"no such check '{check_id}'.{did_you_mean(check_id, REGISTRY)} Checks are: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[check_id]


def lint(plan: Plan, ignore: frozenset[str] = frozenset()) -> list[Problem]:
    """Every finding of every check not ignored, sorted by file and position."""
    domain = domain_of(plan)
    problems = [check.problem(plan, finding) for check in REGISTRY.values() if check.id not in ignore
                for finding in check.run(plan, domain)]
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.message))
