"""One error type per kind of user mistake, each knowing where it happened.

The CLI prints them as ``file:line:col: error: message`` (one per line) and exits 1;
a traceback only ever means a bug in the engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["warning", "error"]  # an error stops the command; a warning is shown and the command goes on


@dataclass(frozen=True)
class Problem:
    """One located problem in a user's file."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {self.message}"


@dataclass
class UserInputError(Exception):
    """Raised with every problem found in one input, never just the first."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.render() for p in self.problems)

    def __reduce__(self):  # raised in a worker process, it must reach the parent with its problems
        return type(self), (self.problems,)


class UsageProblem(UserInputError):
    """A command given wrongly (options that do not go together, an output that needs a file): exit code 2, as
    click's own usage errors."""


class RuleSetError(UserInputError):
    """The rule set (or its catalogue) is not valid."""


class FactsError(UserInputError):
    """A facts file cannot be read at all (unreadable, unknown column, wrong year)."""


class CannotWrite(Exception):
    """An output file could not be written (a full disk, a folder not writable); what was there is kept."""

    def __init__(self, path: str, error: OSError):
        self.problem = Problem(path, f"cannot write: {error.strerror or error}; nothing was written there "
                                     "(a file already there is kept as it was)")
        super().__init__(self.problem.render())


class EnvironmentProblem(Exception):
    """This machine's setup would make the engine wrong (for example a decimal-comma locale)."""


class EngineDisagreement(Exception):
    """The rule engine and the tracing evaluator decided a unit differently: a bug, never resolved silently."""


class EngineFault(EngineDisagreement):
    """The rule engine did not run to completion on a fact; its outcome cannot be trusted."""


def did_you_mean(word: str, candidates) -> str:
    """A short ``Did you mean 'x'?`` hint, or nothing when no candidate is close."""
    import difflib

    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
