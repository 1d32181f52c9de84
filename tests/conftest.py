"""Shared fixtures: the repository root and the compiled bundled rule sets (compiled once)."""
from __future__ import annotations

import compileall
import dataclasses
import py_compile
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_RULESETS = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("rules/*/ruleset-*.yaml"))
CHECK_LABEL = {"vi": "Điều kiện kiểm tra", "en": "Checked condition"}


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile the checkout's engine once, before any test starts ``cdcs``.

    Most tests run the real command in a new process, and an installed ``cdcs`` has its
    bytecode written at installation; where writing it is turned off
    (``PYTHONDONTWRITEBYTECODE``), every one of those processes would compile each module
    from source again.  The bytecode is checked against each source's hash at every
    import, so an edit is always what runs.
    """
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller did it
        return
    compileall.compile_dir(ROOT / "engine", quiet=1, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)


def newest(year: int) -> str:
    """The bundled rule set a year means (its newest version), as ``--rules YEAR`` and grading without ``--rules``
    choose it: what the golden files of that year's example were graded with."""
    from engine.reading.loading import resolve_ruleset_path

    return str(resolve_ruleset_path(str(year), ROOT / "rules").relative_to(ROOT))


@lru_cache(maxsize=None)
def identity(path: str) -> tuple[str, str]:
    """A bundled rule set's version and sha256, as every output and record names it."""
    from engine.reading.loading import load_ruleset

    loaded = load_ruleset(ROOT / path)
    return loaded.ruleset.version, loaded.sha256


@lru_cache(maxsize=None)
def compiled(path: str):
    """One plan and one grader per rule set per test session (rulesets register once per process)."""
    from engine.compiling.compile import compile_file
    from engine.backends.evaluate import Grader

    plan = compile_file(ROOT / path)
    return plan, Grader(plan)


def plan_with(base, ruleset_id: str, stage1: Iterable[tuple[str, str]] = (), stage2: Iterable[tuple[str, str]] = (),
              stage3: Iterable[tuple[str, str]] = ()):
    """``base`` plus extra ``(id, condition)`` decisions, compiled as the CLI compiles a rule set:
    stage 1 as vetoes capped at excellent (``veto.<id>``), stage 2 as conditions of the top level
    (``level.excellent.<id>``), stage 3 as conditions of the first title (``title.<title>.<id>``).

    ``ruleset_id`` must differ for each distinct set of conditions: the rule engine registers a
    ruleset once per process under a name carrying the id.
    """
    from engine.compiling.compile import compile_plan
    from engine.model import RuleSet

    data = base.ruleset.model_dump()
    data["id"] = ruleset_id
    data["vetoes"] += [{"id": i, "label": CHECK_LABEL, "when": c, "cap": "excellent"} for i, c in stage1]
    data["levels"][0]["conditions"] += [{"id": i, "label": CHECK_LABEL, "require": c} for i, c in stage2]
    data["titles"][0]["conditions"] += [{"id": i, "label": CHECK_LABEL, "require": c} for i, c in stage3]
    return compile_plan(dataclasses.replace(base.loaded, ruleset=RuleSet.model_validate(data)))


@pytest.fixture
def root() -> Path:
    return ROOT
