"""The pipeline runs one way: a module imports only from steps before it, never the CLI."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

# Steps in pipeline order; a module may import modules of its own step or earlier ones.
LAYERS = [
    {"errors", "limits", "keys", "nfc", "model", "yamlpos", "expr.ast", "expr.parser", "expr.typecheck", "expr"},
    {"loading", "facts"},
    {"compile", "compile_durable", "integers", "targets"},
    {"backend_trace", "backend_compiled", "backend_durable", "aggregate", "quota"},
    {"evaluate"},
    {"explain", "cases", "coverage", "diff", "derive", "impact", "lint", "lint.check", "lint.ranges", "lint.bands",
     "lint.conditions", "lint.tiers", "lint.redundant", "lint.groups", "lint.unused"},
    {"render", "store", "record", "report", "render_report", "render_report_html",
     "render_report_xlsx"},
    {"chunks"},
    {"run"},
    {"audit", "history", "report_ledger"},
    {"cli"},
]
STEP = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _modules():
    for path in sorted(ENGINE.rglob("*.py")):
        name = ".".join(path.relative_to(ENGINE).with_suffix("").parts)
        if name.endswith("__init__"):
            continue
        yield name, path


def _imports(path: Path) -> set[str]:
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


def test_every_module_has_a_step():
    missing = [name for name, _ in _modules() if name not in STEP]
    assert not missing, f"modules without a pipeline step in LAYERS: {missing}"


@pytest.mark.parametrize("name, path", list(_modules()))
def test_module_imports_only_earlier_steps(name: str, path: Path):
    later = sorted(m for m in _imports(path) if STEP.get(m, -1) > STEP[name])
    assert not later, f"engine/{path.name} (step {STEP[name]}) imports later steps: {later}"
