"""Every rule set's YAML test cases, one pytest item per case (id ``<year>/<file>_<case>``).

Inherited cases run too, under the inheriting rule set, with their approved changes.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from conftest import ROOT, compiled
from engine.authoring.cases import cases_to_run, load_cases, run_case

CASE_FILES = sorted(ROOT.glob("rules/*/cases/*.yaml"))


@lru_cache(maxsize=None)
def _cases(path: Path, ruleset: str):
    """A case file's cases, read once: parsing its YAML with positions costs far more than grading a case."""
    plan, _ = compiled(ruleset)
    return cases_to_run(path, plan)


def _items():
    for path in CASE_FILES:
        cases, _ = load_cases(path)
        ruleset = str((path.parent / cases.ruleset).resolve().relative_to(ROOT))
        for index, to_run in enumerate(_cases(path, ruleset)):
            yield pytest.param(path, ruleset, index, id=f"{path.parent.parent.name}/{path.stem}_{to_run.case.name}")


def test_case_files_exist():
    assert CASE_FILES, "no rules/*/cases/*.yaml found"


@pytest.mark.parametrize("path, ruleset, index", list(_items()))
def test_rule_case(path: Path, ruleset: str, index: int):
    plan, grader = compiled(ruleset)
    to_run = _cases(path, ruleset)[index]
    result = run_case(plan, grader, to_run)
    assert result.passed, f"{result.file}:{result.line}: {to_run.case.name} ({to_run.origin or 'own case'})\n  " + \
        "\n  ".join(result.failures)
