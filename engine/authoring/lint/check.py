"""What a static-analysis check is, and how its findings become located problems.

A check reads a compiled :class:`~engine.compiling.compile.Plan` (a rule set that loads and
compiles) and yields findings; each finding names the place in the rule set (or the
catalogue) by its YAML path, so that positions come from the loader, as for errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from collections.abc import Callable, Iterable

from engine.authoring.lint.ranges import Domain
from engine.compiling.compile import Plan, condition_position
from engine.errors import Problem, Severity


@dataclass(frozen=True)
class Finding:
    """One thing a check found, placed by its path in the rule set or the catalogue."""

    message: str
    path: tuple
    in_catalogue: bool = False
    column: Optional[int] = None  # 1-based, inside the condition written at ``path``
    key: bool = False  # point at the key rather than its value


@dataclass(frozen=True)
class Check:
    """A check has a permanent id; the first line of its function's docstring is its summary."""

    id: str
    severity: Severity
    run: Callable[[Plan, Domain], Iterable[Finding]]

    @property
    def summary(self) -> str:
        return (self.run.__doc__ or "").strip().splitlines()[0]

    def problem(self, plan: Plan, finding: Finding) -> Problem:
        source = plan.loaded.catalogue_source.declaring(finding.path) if finding.in_catalogue else plan.loaded.source
        if finding.column is not None:
            line, column = condition_position(source, finding.path, finding.column)
        else:
            line, column = source.position(finding.path, finding.key)
        return Problem(source.file, f"{finding.message} [{self.id}]", line, column, self.severity)
