"""What ``cdcs validate`` checks in a file: it is told what the file is (a catalogue, a rule set's test cases,
a programme's targets, a rule set, a facts file) by its content, then checked as that, every problem located."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from engine import yamlpos
from engine.compiling.compile import compile_file
from engine.errors import Problem, RuleSetError, UsageProblem
from engine.reading.loading import bundled_years, display_path, find_rules_root, load_catalogue, read_text


def check_file(path: Path, rules: Optional[str], ignored: frozenset[str]) -> list[Problem]:
    """One file checked as what it is: a catalogue, a case file, a programme's targets (their conditions against the
    catalogue of ``rules``, or of the newest bundled year), a rule set (loaded by the rule engine, then analysed,
    less the checks ``ignored``) or a facts file (typed by the catalogue of ``rules`` or of its year).
    A file that cannot be read at all raises the :class:`~engine.errors.UserInputError` that says why."""
    from engine.reading.facts import FORMATS, load_facts
    suffix = path.suffix.lower().lstrip(".")
    if not path.exists():
        return [Problem(str(path), "no such file")]
    kind = yaml_kind(path) if suffix in ("yaml", "yml") else "facts"
    if kind == "catalogue":
        load_catalogue(path)
        return []
    if kind == "cases":
        from engine.authoring.cases import cases_to_run, load_cases
        cases, _ = load_cases(path)
        cases_to_run(path, compile_file(path.parent / cases.ruleset))  # the facts they name, in their rule set
        return []
    if kind == "targets":
        from engine.compiling.targets import load_targets
        from engine.pipeline import run
        load_targets(path, run.plan_named(rules or _newest_year()))  # their conditions read that catalogue's facts
        return []
    if kind == "ruleset":
        from engine.authoring import lint
        from engine.pipeline import run
        plan = compile_file(path)
        run.check_engine_runs(plan)
        return lint.lint(plan, ignored)
    if suffix in FORMATS:
        from engine.backends.constraints import ConstraintCheck
        from engine.backends.evaluate import engine_values
        from engine.pipeline import run
        plan = run.plan_for(rules, path)
        facts = load_facts(path, plan.catalogue, plan.ruleset.year)
        constraints = ConstraintCheck(plan)  # facts that cannot all be true together, unit by unit, in file order
        return [problem for unit in facts.units for problem in
                (unit.problems or constraints.problems(engine_values(plan, unit.values), unit.cells, unit.source))]
    return [Problem(str(path), "cannot tell what this is: expected a rule set or catalogue (.yaml) or a facts file "
                               f"(.{', .'.join(FORMATS)})")]


def yaml_kind(path: Path) -> str:
    """What a YAML file is, from its top-level keys (however it was written: by hand, or by yaml.safe_dump)."""
    located, problems = yamlpos.load(read_text(path), display_path(path))
    if located is None:
        raise RuleSetError(problems)
    data = located.data
    if isinstance(data, list) or (isinstance(data, dict) and "units" in data):
        return "facts"
    if isinstance(data, dict) and "ruleset" in data and ("cases" in data or "inherit" in data):
        return "cases"
    if isinstance(data, dict) and "facts" in data and ("groups" in data or "extends" in data):
        return "catalogue"
    if isinstance(data, dict) and "targets" in data and "criteria" not in data:
        return "targets"
    return "ruleset"


def _newest_year() -> str:
    """The newest year of the bundled rule sets: a programme's targets are checked against its catalogue unless
    ``--rules`` names another."""
    root = find_rules_root()
    years = bundled_years(root)
    if not years:
        raise UsageProblem([Problem(display_path(root), "no bundled rule sets to check a programme's targets "
                                    "against: give --rules")])
    return str(years[-1])
