"""The pipeline runs one way: each package imports only its own step or earlier ones, never the CLI.

The packages, in the order of the pipeline (see ``docs/architecture.md``): the shared words
(modules at the top of ``engine``), the condition language, reading, compiling, grading,
the back ends, explaining, authoring tools, the ledger, rendering, the pipeline, review of
the ledger, and the command line.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

SHARED = {"errors", "limits", "keys", "nfc", "values", "model", "yamlpos"}  # the words every step speaks
STEPS = ["shared", "expr", "reading", "compiling", "grading", "backends", "explaining", "authoring", "ledger",
         "rendering", "pipeline", "review", "cli"]


def _step(module: str) -> str:
    """A module's step: its package, or 'shared' / 'cli' for the modules at the top."""
    top = module.split(".")[0]
    if top in SHARED:
        return "shared"
    return top


def _modules():
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ENGINE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name:
            yield name, path


def _imports(path: Path) -> set[str]:
    """The engine modules (or packages) a file imports, as dotted names under ``engine``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine"):
            base = node.module.removeprefix("engine").lstrip(".")
            if base:
                found.add(base)
            else:
                found.update(alias.name for alias in node.names if alias.name != "__version__")
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("engine.") for a in node.names if a.name.startswith("engine."))
    return found


def test_every_module_is_in_a_step():
    lost = [name for name, _ in _modules() if _step(name) not in STEPS]
    assert not lost, f"modules outside the steps {STEPS}: {lost}; add a package to STEPS or move them"


@pytest.mark.parametrize("name, path", list(_modules()))
def test_module_imports_only_its_step_or_earlier_ones(name: str, path: Path):
    mine = STEPS.index(_step(name))
    later = sorted(m for m in _imports(path) if STEPS.index(_step(m)) > mine)
    assert not later, f"{path.relative_to(ENGINE.parent)} ({_step(name)}) imports later steps: {later}"


def test_the_command_line_grades_only_through_the_pipeline():
    """It parses arguments, calls the pipeline and renders: never a back end directly."""
    direct = sorted(m for m in _imports(ENGINE / "cli.py") if _step(m) == "backends")
    assert not direct, f"engine/cli.py imports back ends: {direct}; go through engine.pipeline.run"


@pytest.mark.parametrize("package", [s for s in STEPS if s not in ("shared", "cli")])
def test_each_package_says_what_it_decides_and_what_it_may_import(package: str):
    doc = importlib.import_module(f"engine.{package}").__doc__ or ""
    assert len(doc.split()) >= 20 and "May import" in doc, \
        f"engine/{package}/__init__.py: a paragraph saying what the step decides and 'May import …'"
