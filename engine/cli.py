"""The ``cdcs`` command: thin click commands over the engine, nothing else."""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Optional

import click
from tabulate import tabulate

from engine import __version__, lint, render
from engine.backend_durable import DurableBackend
from engine.cases import load_cases, run_case
from engine.compile import Plan, compile_file
from engine.derive import derive_text
from engine.diff import diff
from engine.errors import EngineDisagreement, EnvironmentProblem, Problem, UserInputError, did_you_mean
from engine.evaluate import Grader
from engine.explain import document, reasons, result as result_record, ruleset_record
from engine.facts import FORMATS, load_facts, read_records, years_of
from engine.loading import RULES_DIR_NAME, load_model, resolve_ruleset_path
from engine.model import Catalogue, RuleSet

LANGS = click.Choice(["vi", "en"])


def find_rules_root() -> Path:
    """The bundled ``rules/`` folder: in the current folder or one above it."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / RULES_DIR_NAME).is_dir():
            return folder / RULES_DIR_NAME
    return here / RULES_DIR_NAME


def fail(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(problem.render(), err=True)
    count = sum(1 for p in problems if p.severity == "error")
    raise click.ClickException(f"{count} error{'s' if count != 1 else ''}; nothing was done" if count else "failed")


def _plan(rules: Optional[str], facts: Path, records: Optional[list] = None) -> Plan:
    """The rule set named by ``--rules``, or the bundled one for the year the facts report."""
    if rules is None:
        years = years_of(records if records is not None else read_records(facts)[1])
        if len(years) > 1:
            raise click.UsageError(f"{facts} reports several years ({', '.join(map(str, years))}); "
                                   "grade one year at a time or pass --rules")
        if not years:
            raise click.UsageError(f"cannot tell the year of {facts}: it has no readable 'year' column; pass --rules")
        rules = str(years[0])
    path = resolve_ruleset_path(rules, find_rules_root())
    return compile_file(path)


def _grade(rules: Optional[str], facts_path: Path):
    columns, records = read_records(facts_path)  # read once: for the year, then for the facts
    plan = _plan(rules, facts_path, records)
    facts = load_facts(facts_path, plan.catalogue, plan.ruleset.year, (columns, records))
    evaluations = Grader(plan).batch(facts.units)
    return plan, facts, evaluations


def _type_labels(plan: Plan) -> dict:
    values = plan.catalogue.facts["workplace_type"].values or {}
    return {code: label.model_dump() for code, label in values.items()}


class Cli(click.Group):
    """Turns user mistakes into messages with exit code 1; tracebacks are for bugs only."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserInputError as exc:
            fail(exc.problems)
        except EngineDisagreement as exc:
            click.echo(f"internal error: the two evaluators disagree: {exc}", err=True)
            ctx.exit(3)
        except EnvironmentProblem as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=Cli)
@click.version_option(__version__, prog_name="cdcs")
def main() -> None:
    """Grade grassroots trade unions (CĐCS) with versioned YAML rule sets, and explain every grade."""


@main.command()
@click.argument("facts", type=click.Path(path_type=Path))
@click.option("--rules", metavar="YEAR|PATH", help="Rule set: a year (newest bundled version) or a file. Default: the facts' year.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of standard output (required for xlsx).")
@click.option("--lang", type=LANGS, default="vi", show_default=True, help="Language of labels and reasons.")
def grade(facts: Path, rules: Optional[str], fmt: str, out: Optional[Path], lang: str) -> None:
    """Grade every unit in FACTS (CSV, XLSX, YAML or JSON)."""
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx writes a workbook: give --out results.xlsx")
    plan, facts_file, evaluations = _grade(rules, facts)
    doc = document(plan, evaluations, lang)
    if fmt == "xlsx":
        try:
            render.write_xlsx(doc, out, lang, _type_labels(plan))
        except OSError as exc:
            raise click.ClickException(f"{out}: cannot write: {exc.strerror or exc}") from None
    else:
        text = {"table": lambda: render.table(doc, lang, _type_labels(plan)),
                "json": lambda: render.to_json(doc), "csv": lambda: render.to_csv(doc)}[fmt]()
        _emit(text, out)
    if out is not None:
        click.echo(f"{len(evaluations)} units graded → {out}", err=True)
    _report_unit_problems(facts_file.problems)


def _emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{out}: cannot write: {exc.strerror}") from None


def _report_unit_problems(problems: list[Problem]) -> None:
    """Malformed facts made some units invalid: the others are graded, but the run is not clean."""
    if problems:
        for problem in problems:
            click.echo(problem.render(), err=True)
        raise click.ClickException(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the facts; "
                                   f"those units are marked invalid, the others were graded")


@main.command()
@click.argument("unit_id")
@click.argument("facts", type=click.Path(path_type=Path))
@click.option("--rules", metavar="YEAR|PATH", help="Rule set: a year or a file. Default: the facts' year.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=LANGS, default="vi", show_default=True)
def explain(unit_id: str, facts: Path, rules: Optional[str], fmt: str, lang: str) -> None:
    """Explain the full decision for UNIT_ID: every rule, its values, and what is missing for the next grade."""
    plan, _, evaluations = _grade(rules, facts)
    unit_id = unicodedata.normalize("NFC", unit_id.strip())
    by_id = {ev.unit.unit_id: ev for ev in evaluations}
    if unit_id not in by_id:
        raise click.ClickException(f"{facts}: no unit '{unit_id}'.{did_you_mean(unit_id, by_id)}")
    evaluation = by_id[unit_id]
    record = result_record(plan, evaluation, lang)
    if fmt == "json":
        click.echo(json.dumps({"ruleset": ruleset_record(plan), "result": record}, ensure_ascii=False, indent=2))
    else:
        click.echo(render.explain_text(record, ruleset_record(plan), lang, _type_labels(plan)), nl=False)
    if evaluation.problems:  # the unit could not be graded: say where its facts are wrong
        for problem in evaluation.problems:
            click.echo(problem.render(), err=True)
        raise click.ClickException(f"unit '{unit_id}' has malformed facts and was not graded")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rules", metavar="YEAR|PATH", help="For facts files: the rule set whose catalogue checks them.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1), as errors do.")
@click.option("--ignore", "ignored", multiple=True, metavar="CHECK",
              help=f"Skip a static-analysis check of rule sets (repeatable): {', '.join(sorted(lint.REGISTRY))}.")
def validate(paths: tuple[Path, ...], rules: Optional[str], strict: bool, ignored: tuple[str, ...]) -> None:
    """Check rule sets, catalogues and facts files; report every problem with file:line:column.

    Rule sets that load are also analysed: warnings name rules that grade, but probably
    not as meant (see the README, "Static analysis").
    """
    for check_id in ignored:
        try:
            lint.get(check_id)
        except KeyError as exc:
            raise click.UsageError(f"--ignore: {exc.args[0]}") from None
    problems: list[Problem] = []
    for path in paths:
        try:
            problems += _validate_one(path, rules, frozenset(ignored))
        except UserInputError as exc:
            problems += exc.problems
    for problem in problems:
        click.echo(problem.render(), err=True)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    counted = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if errors:
        raise click.ClickException(f"{errors} problem{'s' if errors != 1 else ''} found{counted}")
    if warnings and strict:
        raise click.ClickException(f"{warnings} warning{'s' if warnings != 1 else ''}, which --strict counts as failures")
    click.echo(f"{len(paths)} file{'s' if len(paths) != 1 else ''} valid{counted}")


def _validate_one(path: Path, rules: Optional[str], ignored: frozenset[str]) -> list[Problem]:
    suffix = path.suffix.lower().lstrip(".")
    if not path.exists():
        return [Problem(str(path), "no such file")]
    if suffix in ("yaml", "yml") and _looks_like(path, "facts:") and _looks_like(path, "groups:"):
        load_model(path, Catalogue)
        return []
    if suffix in ("yaml", "yml") and not (_looks_like(path, "- ") or _looks_like(path, "units:")):
        plan = compile_file(path)
        DurableBackend(plan)  # what the rule engine cannot run is an error now, not at grading
        return lint.lint(plan, ignored)
    if suffix in FORMATS:
        plan = _plan(rules, path)
        return load_facts(path, plan.catalogue, plan.ruleset.year).problems
    return [Problem(str(path), f"cannot tell what this is: expected a rule set or catalogue (.yaml) or a facts file (.{', .'.join(FORMATS)})")]


def _looks_like(path: Path, marker: str) -> bool:
    try:
        return any(line.startswith(marker) for line in path.read_text(encoding="utf-8-sig").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


@main.command("test")
@click.argument("ruleset", metavar="RULESET")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of the reasons shown on failure.")
def test_cases(ruleset: str, lang: str) -> None:
    """Run the test cases kept next to RULESET (a year or a file): rules/<year>/cases/*.yaml."""
    path = resolve_ruleset_path(ruleset, find_rules_root())
    plan = compile_file(path)
    grader = Grader(plan)
    files = [f for f in sorted((path.parent / "cases").glob("*.yaml")) if _cases_target(f) == path.resolve()]
    if not files:
        raise click.ClickException(f"no test cases for {path}: put them in {path.parent / 'cases'}/*.yaml")
    passed = failed = 0
    for file in files:
        cases, located = load_cases(file)
        for index, case in enumerate(cases.cases):
            outcome = run_case(plan, grader, cases, index, located)
            if outcome.passed:
                passed += 1
                continue
            failed += 1
            click.echo(f"{located.file}:{outcome.line}: FAIL {case.name}")
            for failure in outcome.failures:
                click.echo(f"    {failure}")
            for ev in outcome.evaluations:
                for reason in reasons(plan, ev, lang)[:3]:
                    click.echo(f"    {ev.unit.unit_id}: {reason['code']}: {reason['message']}")
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        raise click.exceptions.Exit(1)


def _cases_target(file: Path) -> Optional[Path]:
    try:
        cases, _ = load_cases(file)
    except UserInputError:
        return None
    return (file.parent / cases.ruleset).resolve()


@main.command("diff")
@click.argument("old", metavar="RULESET_A")
@click.argument("new", metavar="RULESET_B")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def diff_command(old: str, new: str, fmt: str) -> None:
    """What changed from RULESET_A to RULESET_B (years or files), rule by rule."""
    root = find_rules_root()
    plans = [compile_file(resolve_ruleset_path(spec, root)) for spec in (old, new)]
    changes = [c.row() for c in diff(*plans)]
    if fmt == "json":
        records = [ruleset_record(p) for p in plans]
        click.echo(json.dumps({"from": records[0], "to": records[1], "changes": changes}, ensure_ascii=False, indent=2))
        return
    a, b = (p.ruleset for p in plans)
    click.echo(f"{a.id} {a.version} → {b.id} {b.version}: {len(changes)} change{'s' if len(changes) != 1 else ''}\n")
    if changes:
        click.echo(tabulate([[c["section"], c["rule"], c["change"], c["description"]] for c in changes],
                            headers=["section", "rule", "change", "what changed"], tablefmt="simple"))


@main.command("new-year")
@click.argument("year", type=int)
@click.option("--from", "source", required=True, metavar="YEAR|PATH", help="The rule set to start from.")
def new_year(year: int, source: str) -> None:
    """Start YEAR's rule set as a copy of another, with version YEAR.1 and a parent reference."""
    root = find_rules_root()
    parent = compile_file(resolve_ruleset_path(source, root))
    target = root / str(year) / f"ruleset-{year}.1.yaml"
    if target.exists():
        raise click.ClickException(f"{target} exists already; amend it as a new version instead of starting over")
    text = derive_text(parent, year, f"{year}.1", target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    compile_file(target)  # what was written must load
    click.echo(f"wrote {target} (parent {parent.ruleset.id} {parent.ruleset.version}); edit it, then: cdcs validate {target}")


@main.command()
@click.option("--out", type=click.Path(path_type=Path), help="Write the schema here instead of standard output.")
def schema(out: Optional[Path]) -> None:
    """Write the JSON Schema of the rule-set format, for editors that validate and complete YAML."""
    document = RuleSet.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "CĐCS grading rule set"
    _emit(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n", out)


if __name__ == "__main__":
    sys.exit(main())
