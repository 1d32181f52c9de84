"""Every rule set's YAML test cases, one pytest item per case (id ``<file>_<case>``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, compiled
from engine.cases import load_cases, run_case

CASE_FILES = sorted(ROOT.glob("rules/*/cases/*.yaml"))


def _items():
    for path in CASE_FILES:
        cases, located = load_cases(path)
        ruleset = (path.parent / cases.ruleset).resolve().relative_to(ROOT)
        for index, case in enumerate(cases.cases):
            yield pytest.param(path, str(ruleset), index, id=f"{path.parent.parent.name}/{path.stem}_{case.name}")


def test_case_files_exist():
    assert CASE_FILES, "no rules/*/cases/*.yaml found"


@pytest.mark.parametrize("path, ruleset, index", list(_items()))
def test_rule_case(path: Path, ruleset: str, index: int):
    plan, grader = compiled(ruleset)
    cases, located = load_cases(path)
    result = run_case(plan, grader, cases, index, located)
    assert result.passed, f"{path.name}:{result.line}: {cases.cases[index].name}\n  " + "\n  ".join(result.failures)
