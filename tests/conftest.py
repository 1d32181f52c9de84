"""Shared fixtures: the repository root and the compiled bundled rule sets (compiled once)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def compiled(path: str):
    """One plan and one grader per rule set per test session (rulesets register once per process)."""
    from engine.compile import compile_file
    from engine.evaluate import Grader

    plan = compile_file(ROOT / path)
    return plan, Grader(plan)


@pytest.fixture
def root() -> Path:
    return ROOT
