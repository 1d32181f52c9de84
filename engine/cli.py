"""The ``cdcs`` command: thin click commands over the engine, nothing else."""
from __future__ import annotations

import errno
import getpass
import json
import os
import sys
import tempfile
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Optional

import click

from engine import __version__
from engine.errors import (CannotWrite, EngineDisagreement, EnvironmentProblem, Problem, UsageProblem,
                           UserInputError, did_you_mean)
from engine.nfc import typed
from engine.reading.loading import display_path, find_rules_root

if TYPE_CHECKING:
    from engine.compiling.compile import Plan
    from engine.pipeline import run
    from engine.ledger.store import Store

# Every command loads and compiles a rule set, or reads a ledger; what only some commands use (the rule engine,
# the grading pipeline, the analyses, the reports and their formats) is imported by those commands, so that each
# starts without loading the others.

LANGS = click.Choice(["vi", "en"])
DB_HELP = "The audit database (SQLite). Default: cdcs-audit.sqlite next to the rules/ folder, or $CDCS_DB."


def fail(problems: list[Problem], code: int = 1) -> NoReturn:
    """Every problem in the located format (``where: error: what``), then, when there are several, how many."""
    for problem in problems:
        click.echo(problem.render(), err=True)
    count = sum(1 for p in problems if p.severity == "error")
    if count > 1:
        click.echo(f"{count} errors; nothing was done", err=True)
    raise click.exceptions.Exit(code)


def refuse(message: str, where: Optional[Path | str] = None, usage: bool = False) -> NoReturn:
    """A user's mistake, located: in a file (``where``), or in how the command was given (the command itself).
    ``usage``: the command was given wrongly, exit code 2 as for click's own usage errors; otherwise 1."""
    if where is None:
        where = click.get_current_context().command_path
    elif isinstance(where, Path):
        where = display_path(where)
    raise (UsageProblem if usage else UserInputError)([Problem(where, message)])


def stop(summary: str) -> NoReturn:
    """Exit code 1 after what went wrong has been shown above, one line saying what it amounts to."""
    click.echo(summary, err=True)
    raise click.exceptions.Exit(1)


def _type_labels(plan: Plan) -> dict:
    values = plan.catalogue.facts["workplace_type"].values or {}
    return {code: label.model_dump() for code, label in values.items()}


_DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


class Cli(click.Group):
    """Turns user mistakes into located messages with exit code 1 (2 for a command given wrongly); tracebacks are
    for bugs only."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # ``cdcs --bogus``: the group's own options
            _wrongly_given(exc)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's options or arguments, as click's parser found them
            _wrongly_given(exc)
        except UsageProblem as exc:
            fail(exc.problems, code=2)
        except UserInputError as exc:
            fail(exc.problems)
        except EngineDisagreement as exc:
            click.echo(f"internal error: the two evaluators disagree: {exc}", err=True)
            ctx.exit(3)
        except CannotWrite as exc:
            fail([exc.problem])
        except EnvironmentProblem as exc:
            fail([Problem(ctx.command_path, str(exc))])
        except BrokenPipeError:  # `cdcs grade … | head`: the reader has what it wanted; no message, no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except OSError as exc:
            if exc.errno not in _DISK_FULL:
                raise
            # a spool file or the system's temporary folder ran out of room: outputs are renamed only when whole
            where, what = ((display_path(Path(exc.filename)), "cannot write") if exc.filename else
                           (tempfile.gettempdir(), "cannot write a temporary file here"))
            fail([Problem(where, f"{what}: {exc.strerror}; nothing was written or recorded (a file already there is "
                                 "kept as it was)")])


def _wrongly_given(exc: click.UsageError) -> NoReturn:
    """Click's own finding (an unknown option, a missing argument, a value not among the choices) in the located
    format, with where to read how the command is given; exit code 2."""
    where = exc.ctx.command_path if exc.ctx is not None else "cdcs"
    click.echo(Problem(where, exc.format_message()).render(), err=True)
    click.echo(f"({where} --help shows how it is given)", err=True)
    raise click.exceptions.Exit(2)


@click.group(cls=Cli)
@click.version_option(__version__, prog_name="cdcs")
def main() -> None:
    """Grade grassroots trade unions (CĐCS) with versioned YAML rule sets, and explain every grade."""


JOBS_HELP = "Processes to grade with. Default: one per core. The output is the same for any number."


@main.command()
@click.argument("facts", type=click.Path(path_type=Path))
@click.option("--rules", metavar="YEAR|PATH", help="Rule set: a year (newest bundled version) or a file. Default: the facts' year.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv", "xlsx"]), default="table",
              show_default=True, help="jsonl: one unit's result per line.")
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of standard output (required for xlsx).")
@click.option("--lang", type=LANGS, default="vi", show_default=True, help="Language of labels and reasons.")
@click.option("--record", is_flag=True, help="Record this run in the audit database (an official grading).")
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
@click.option("--by", "by", metavar="NAME", help="Who records the run. Default: the operating-system user.")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help=JOBS_HELP)
def grade(facts: Path, rules: Optional[str], fmt: str, out: Optional[Path], lang: str, record: bool,
          db: Optional[Path], by: Optional[str], jobs: Optional[int]) -> None:
    """Grade every unit in FACTS (CSV, XLSX, YAML or JSON)."""
    from engine.pipeline import run
    from engine.reading.facts import refuse_unreadable
    if fmt == "xlsx" and out is None:
        refuse("--format xlsx writes a workbook: give --out results.xlsx", usage=True)
    refuse_unreadable(facts)  # before a ledger is opened (or made) for a run that cannot start
    ledger = _db_path(db) if (record or db) else None
    _refuse_to_overwrite({"the facts file": facts}, db=ledger, out=out)
    plan = run.plan_for(rules, facts)
    _refuse_to_overwrite({"the rule set": Path(plan.loaded.path)}, out=out)
    options = dict(output=fmt, lang=lang, out=out, jobs=jobs, progress=run.Progress())
    if record:
        outcome, seq = run.record_file(plan, facts, ledger, _who(by), **options)
        click.echo(f"recorded as run #{seq} in {display_path(ledger)}", err=True)
    else:
        outcome = run.grade_file(plan, facts, ledger=ledger, **options)
    if out is not None:
        click.echo(f"{outcome.units} units graded → {out}", err=True)
    _report_unit_problems(outcome.problems)


def _refuse_to_overwrite(inputs: dict[str, Path], **outputs: Optional[Path]) -> None:
    """An output that is an input itself (the facts, the ledger, the rule set) or another output would destroy it."""
    seen: dict[Path, str] = {path.resolve(): what for what, path in inputs.items() if path.exists()}
    for option, path in outputs.items():
        if path is None:
            continue
        target = path.resolve()
        if target in seen:
            refuse(f"--{option} {path} is {seen[target]} itself; it would be overwritten: choose another file",
                   usage=True)
        seen[target] = f"--{option}"


def _db_path(db: Optional[Path]) -> Path:
    return db if db is not None else find_rules_root().parent / "cdcs-audit.sqlite"


def _who(by: Optional[str]) -> str:
    if by:
        return typed(by)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _emit(text: str, out: Optional[Path]) -> None:
    """Standard output, or ``out`` written as every output is written (:class:`render.Output`: renamed when
    whole)."""
    if out is None:
        click.echo(text, nl=False)
        return
    from engine.rendering import render
    with render.Output(out) as output:
        output.write(text)


def _report_unit_problems(problems: run.ProblemLog) -> None:
    """Malformed facts made some units invalid: the others are graded, but the run is not clean."""
    if problems.count:
        for line in problems.lines():
            click.echo(line, err=True)
        stop(f"{problems.count} problem{'s' if problems.count != 1 else ''} in the facts; "
             "those units are marked invalid, the others were graded")


@main.command("report")
@click.argument("facts", type=click.Path(path_type=Path), required=False)
@click.option("--rules", metavar="YEAR|PATH", help="Rule set: a year or a file. Default: the facts' year.")
@click.option("--targets", "targets_path", type=click.Path(path_type=Path), metavar="PATH",
              help="The programme's targets (YAML). Default: the bundled programme of the Vietnam Health Trade Union.")
@click.option("--db", type=click.Path(path_type=Path), help="Report a recorded year from this audit database, with "
              "each target's trend over the recorded years, instead of grading FACTS.")
@click.option("--year", type=int, help="With --db: the recorded year to report. Default: the latest.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "xlsx"]), default="table",
              show_default=True, help="html: one page to open offline and print; xlsx: a workbook (both need --out).")
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of standard output (required for html "
              "and xlsx).")
@click.option("--lang", type=LANGS, default="vi", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help=JOBS_HELP)
def report_command(facts: Optional[Path], rules: Optional[str], targets_path: Optional[Path], db: Optional[Path],
                   year: Optional[int], fmt: str, out: Optional[Path], lang: str, jobs: Optional[int]) -> None:
    """Measure a year against a programme's targets: met or not, by how many units, by upper union, workplace group
    and emulation bloc. Grades FACTS, or reads a recorded year from the ledger (--db)."""
    from engine.rendering import render_report
    from engine.pipeline import run
    from engine.reading.facts import refuse_unreadable
    from engine.rendering.render_report_html import report_html
    from engine.rendering.render_report_xlsx import write_report_workbook
    from engine.review.report_ledger import year_report
    from engine.ledger.store import Store
    from engine.compiling.targets import BUNDLED as BUNDLED_TARGETS
    from engine.pipeline.report import report_of
    if (facts is None) == (db is None):
        refuse("give FACTS to grade a facts file, or --db to read a recorded year (not both)", usage=True)
    if fmt in ("html", "xlsx") and out is None:
        refuse(f"--format {fmt} writes a file: give --out report.{fmt}", usage=True)
    targets_path = targets_path or find_rules_root().parent / BUNDLED_TARGETS
    outcome = None
    if db is not None:
        if rules is not None:
            refuse("--rules is for FACTS: a recorded year is read with the rule set that graded it", usage=True)
        refuse_unreadable(db)
        _refuse_to_overwrite({"the audit database": db, "the targets file": targets_path}, out=out)
        with Store(db, create=False) as store:
            doc = year_report(store, targets_path, year, units_in=lang if fmt == "html" else None)
    else:
        if year is not None:
            refuse("--year is for --db: FACTS report their own year", usage=True)
        refuse_unreadable(facts)
        _refuse_to_overwrite({"the facts file": facts}, out=out)
        plan = run.plan_for(rules, facts)
        _refuse_to_overwrite({"the rule set": Path(plan.loaded.path), "the targets file": targets_path}, out=out)
        doc, outcome = report_of(plan, facts, targets_path, units_in=lang if fmt == "html" else None, jobs=jobs,
                                 progress=run.Progress())
    if fmt == "xlsx":
        write_report_workbook(doc, lang, out)
        text = None
    elif fmt == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "html":
        text = report_html(doc, lang)
    else:
        text = render_report.report_table(doc, lang)
    if text is not None:
        _emit(text, out)
    if out is not None:
        click.echo(f"report → {out}", err=True)
    if outcome is not None:
        _report_unit_problems(outcome.problems)


@main.command()
@click.argument("unit_id")
@click.argument("facts", type=click.Path(path_type=Path))
@click.option("--rules", metavar="YEAR|PATH", help="Rule set: a year or a file. Default: the facts' year.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=LANGS, default="vi", show_default=True)
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB",
              help="An audit database to take history facts from (last year's grade, a title's streak).")
def explain(unit_id: str, facts: Path, rules: Optional[str], fmt: str, lang: str, db: Optional[Path]) -> None:
    """Explain the full decision for UNIT_ID: every rule, its values, and what is missing for the next grade."""
    from engine.rendering import render
    from engine.explaining.explain import result as result_data, ruleset_data
    from engine.pipeline import run
    from engine.reading.facts import ids_in
    plan = run.plan_for(rules, facts)
    unit_id = typed(unit_id)
    outcome = run.grade_file(plan, facts, ledger=db, keep=unit_id, progress=run.Progress())
    if outcome.kept is None:
        refuse(f"no unit '{unit_id}'.{did_you_mean(unit_id, ids_in(facts))}", facts)
    evaluation = outcome.kept.kept
    record = result_data(plan, evaluation, lang)
    if fmt == "json":
        click.echo(json.dumps({"ruleset": ruleset_data(plan), "result": record}, ensure_ascii=False, indent=2))
    else:
        click.echo(render.explain_text(record, ruleset_data(plan), lang, _type_labels(plan)), nl=False)
    if evaluation.problems:  # the unit could not be graded: say where its facts are wrong
        for problem in evaluation.problems:
            click.echo(problem.render(), err=True)
        stop(f"unit '{unit_id}' has malformed facts and was not graded")


class _ChecksOption(click.Option):
    """``--ignore``, whose help lists every check: written when help is shown, so that only ``validate`` loads
    the static analysis."""

    def get_help_record(self, ctx: click.Context) -> Optional[tuple[str, str]]:
        from engine.authoring import lint
        self.help = f"Skip a static-analysis check of rule sets (repeatable): {', '.join(sorted(lint.REGISTRY))}."
        return super().get_help_record(ctx)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rules", metavar="YEAR|PATH", help="For facts and targets files: the rule set whose catalogue checks them.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1), as errors do.")
@click.option("--ignore", "ignored", multiple=True, metavar="CHECK", cls=_ChecksOption)
def validate(paths: tuple[Path, ...], rules: Optional[str], strict: bool, ignored: tuple[str, ...]) -> None:
    """Check rule sets, catalogues, test cases, programme targets and facts files; report every problem with
    file:line:column.

    Rule sets that load are also analysed: warnings name rules that grade, but probably
    not as meant (docs/designer.md, "Static analysis").
    """
    from engine.authoring import lint
    from engine.pipeline.validate import check_file
    for check_id in ignored:
        try:
            lint.get(check_id)
        except KeyError as exc:
            refuse(f"--ignore: {exc.args[0]}", usage=True)
    problems: list[Problem] = []
    for path in paths:
        try:
            problems += check_file(path, rules, frozenset(ignored))
        except UserInputError as exc:
            problems += exc.problems
    for problem in problems:
        click.echo(problem.render(), err=True)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    counted = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if errors:
        stop(f"{errors} problem{'s' if errors != 1 else ''} found{counted}")
    if warnings and strict:
        stop(f"{warnings} warning{'s' if warnings != 1 else ''}, which --strict counts as failures")
    click.echo(f"{len(paths)} file{'s' if len(paths) != 1 else ''} valid{counted}")


def _percent(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    """A percentage kept exact: coverage is compared with it, never as a float."""
    if value is None:
        return None
    try:
        pct = Decimal(value.strip().rstrip("%"))
    except InvalidOperation:
        refuse(f"--fail-under {value}: not a percentage (for example 90 or 87.5)", usage=True)
    if not pct.is_finite() or not 0 <= pct <= 100:
        refuse(f"--fail-under {value}: outside 0..100", usage=True)
    return pct


@main.command("test")
@click.argument("ruleset", metavar="RULESET")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of the reasons shown on failure.")
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Then report which rules and outcomes of the rule set no case exercised.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Format of the coverage report (json: the case results go to stderr).")
@click.option("--fail-under", metavar="PCT", callback=_percent,
              help="With --coverage: exit 1 when fewer than PCT% of the outcomes were exercised.")
def test_cases(ruleset: str, lang: str, with_coverage: bool, fmt: str, fail_under: Decimal | None) -> None:
    """Run the test cases kept next to RULESET (a year or a file): rules/<year>/cases/*.yaml."""
    from engine.rendering import render
    from engine.authoring.cases import case_files_of, cases_to_run
    from engine.authoring.coverage import Coverage
    from engine.explaining.explain import reasons
    from engine.pipeline import run
    if not with_coverage and (fmt != "table" or fail_under is not None):
        refuse("--format and --fail-under are about the coverage report: add --coverage", usage=True)
    plan = run.plan_named(ruleset)
    path = Path(plan.loaded.path)
    files = case_files_of(path)
    if not files:
        refuse(f"no test cases for this rule set: put them in {display_path(path.parent / 'cases')}/*.yaml", path)
    run_one = run.case_runner(plan)
    coverage = Coverage(plan) if with_coverage else None
    to_stderr = fmt == "json"  # standard output is then one JSON document
    passed = failed = inherited = 0
    for file in files:
        for to_run in cases_to_run(file, plan):
            inherited += bool(to_run.origin)
            outcome = run_one(to_run)
            if coverage is not None:
                coverage.add_case(outcome)
            if outcome.passed:
                passed += 1
                continue
            failed += 1
            click.echo(f"{outcome.file}:{outcome.line}: FAIL {to_run.case.name}" + (f" ({to_run.origin})" if to_run.origin else ""),
                       err=to_stderr)
            for failure in outcome.failures:
                click.echo(f"    {failure}", err=to_stderr)
            for ev in outcome.evaluations:
                for reason in reasons(plan, ev, lang)[:3]:
                    click.echo(f"    {ev.unit.unit_id}: {reason['code']}: {reason['message']}", err=to_stderr)
    click.echo(f"{passed} passed, {failed} failed" + (f" ({inherited} inherited from earlier versions)" if inherited else ""),
               err=to_stderr)
    under = False
    if coverage is not None:
        report = coverage.report()
        if fmt == "json":
            report["passed"], report["failed"] = passed, failed
            click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            click.echo("\n" + render.coverage_table(report), nl=False)
        under = fail_under is not None and coverage.ratio() < Fraction(fail_under)
        if under:
            click.echo(f"coverage {report['percent']}% is under --fail-under {fail_under}%", err=True)
    if failed or under:
        raise click.exceptions.Exit(1)


@main.command("diff")
@click.argument("old", metavar="RULESET_A")
@click.argument("new", metavar="RULESET_B")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def diff_command(old: str, new: str, fmt: str) -> None:
    """What changed from RULESET_A to RULESET_B (years or files), rule by rule."""
    from tabulate import tabulate

    from engine.authoring.diff import diff
    from engine.explaining.explain import ruleset_data
    from engine.pipeline import run
    plans = [run.plan_named(spec) for spec in (old, new)]
    changes = [c.row() for c in diff(*plans)]
    if fmt == "json":
        records = [ruleset_data(p) for p in plans]
        click.echo(json.dumps({"from": records[0], "to": records[1], "changes": changes}, ensure_ascii=False, indent=2))
        return
    a, b = (p.ruleset for p in plans)
    click.echo(f"{a.id} {a.version} → {b.id} {b.version}: {len(changes)} change{'s' if len(changes) != 1 else ''}\n")
    if changes:
        click.echo(tabulate([[c["section"], c["rule"], c["change"], c["description"]] for c in changes],
                            headers=["section", "rule", "change", "what changed"], tablefmt="simple"))


@main.command("impact")
@click.argument("facts", type=click.Path(path_type=Path))
@click.option("--from", "old", required=True, metavar="YEAR|PATH", help="The rule set in force (a year or a file).")
@click.option("--to", "new", required=True, metavar="YEAR|PATH", help="The rule set proposed (a year or a file).")
@click.option("--with", "extra", type=click.Path(path_type=Path),
              help="More facts for the same units, matched by unit_id: the facts the newer catalogue adds.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--lang", type=LANGS, default="vi", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help=JOBS_HELP)
def impact_command(facts: Path, old: str, new: str, extra: Optional[Path], fmt: str, lang: str,
                   jobs: Optional[int]) -> None:
    """Grade the units of FACTS under two rule sets; list every unit whose grade, title or verdict changes, and why."""
    from engine.pipeline import run
    from engine.pipeline.compare import impact_of
    from engine.rendering import render
    plans = [run.plan_named(spec) for spec in (old, new)]
    problems = run.ProblemLog()  # both gradings read the same rows: each problem is told once
    with impact_of(facts, plans[0], plans[1], extra, jobs=jobs, progress=run.Progress(), problems=problems) as report, \
            render.Output(None) as out:  # unit by unit: a change that moves most of a national file is never held whole
        if fmt == "json":
            writer = render.JsonWriter(out, report.head, "units", report.tail)
            for unit in report.units():
                writer.write(render.json_item(unit))
            writer.end({})
        else:
            for piece in render.impact_table(report.head, report.units, report.tail, lang):
                out.write(piece)
    _report_unit_problems(problems)


@main.command("new-year")
@click.argument("year", type=int)
@click.option("--from", "source", required=True, metavar="YEAR|VERSION|PATH", help="The rule set to start from.")
def new_year(year: int, source: str) -> None:
    """Start YEAR's rule set as a copy of another, with version YEAR.1 and a parent reference."""
    from engine.pipeline import run, versions
    parent = run.plan_named(source)
    target, version = versions.first_of_year(year)
    if target.exists():
        refuse(f"exists already; amend it (cdcs amend {year}) instead of starting over", target)
    _derived(parent, target, versions.derive(parent, target, version, effective_from=None), version)


@main.command("amend")
@click.argument("ruleset", metavar="YEAR|VERSION|PATH")
@click.option("--effective-from", type=click.DateTime(["%Y-%m-%d"]), help="When the amendment takes effect. Default: as the version it amends.")
def amend(ruleset: str, effective_from) -> None:
    """Start the next version of a year's rule set (2025.1 → 2025.2); the amended version stays as it is."""
    from engine.pipeline import run, versions
    parent = run.plan_named(ruleset)
    day = effective_from.date() if effective_from else parent.ruleset.effective_from
    if day.year != parent.ruleset.year:
        refuse(f"--effective-from {day.isoformat()} is not in {parent.ruleset.year}, the year of the rule set amended",
               usage=True)
    target, version = versions.next_amendment(parent)
    _derived(parent, target, versions.derive(parent, target, version, effective_from=day), version)


def _derived(parent: Plan, target: Path, written: list, version: str) -> None:
    """What a derivation wrote, and the designer's next commands."""
    for file in written:
        click.echo(f"{'kept' if file.kept else 'wrote'} {display_path(file.path)}"
                   + (f": {file.source}" if file.kept else f" ({file.source})"))
    click.echo(f"edit it, then: cdcs validate {display_path(target)} && cdcs diff {parent.ruleset.version} {version} "
               f"&& cdcs test {version}")


@main.command()
@click.argument("unit_id")
@click.option("--year", type=int, required=True)
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=LANGS, default="vi", show_default=True)
def why(unit_id: str, year: int, db: Optional[Path], fmt: str, lang: str) -> None:
    """Why UNIT_ID got its grade for YEAR: the recorded result, what decided it, and its history (no rule files needed)."""
    from engine.rendering import render
    from engine.review.audit import standing, why_document
    from engine.ledger.store import Store
    with Store(_db_path(db), create=False) as store:
        now = standing(store, unit_id, year)
        doc = why_document(store, now, lang)
        broken = _verified(store, only={h["seq"] for h in doc["history"]} | {doc["decided_by"]["seq"]})
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo(render.why_text(doc, lang, _type_labels(now.plan)), nl=False)
    _fail_unverified(broken, db)


def _verified(store: Store, only: Optional[set[int]] = None) -> list[dict]:
    """The ledger's chain checked (the content of the records ``only`` names, or all), the units hashed again
    counted on a terminal."""
    from engine.pipeline import run
    progress = run.Progress()
    try:
        return list(store.verify(only, lambda units: progress.update("checking the ledger", units)))
    finally:
        progress.done()


def _fail_unverified(broken: list[dict], db: Optional[Path]) -> None:
    """What was shown comes from a ledger that fails verification: said loudly, and the exit code says it too."""
    if broken:
        for finding in broken:
            click.echo(f"{display_path(_db_path(db))}: error: {finding['problem']}", err=True)
        stop("the ledger fails verification: what is shown above cannot be trusted "
             "(cdcs audit verify names every broken record)")


@main.command("appeal")
@click.argument("unit_id")
@click.option("--year", type=int, required=True)
@click.option("--facts", "corrected", type=click.Path(path_type=Path), required=True,
              help="A facts file with the unit's row: the corrected facts (other columns keep their recorded values).")
@click.option("--reason", required=True, help="Why the facts are corrected (kept in the record).")
@click.option("--by", "by", metavar="NAME", help="Who records the appeal. Default: the operating-system user.")
@click.option("--apply-to-cohort", is_flag=True, help="Also record the results the appeal changes for other units (the quota).")
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help=JOBS_HELP)
def appeal_command(unit_id: str, year: int, corrected: Path, reason: str, by: Optional[str], apply_to_cohort: bool,
                   db: Optional[Path], jobs: Optional[int]) -> None:
    """Re-grade one unit with corrected facts under the rule set that graded it; the earlier result is kept."""
    from engine.pipeline import run
    from engine.review.audit import appeal
    from engine.ledger.store import Store
    if not reason.strip():
        refuse("--reason must say why", usage=True)
    path = _db_path(db)
    with Store(path, create=False) as store:
        outcome = appeal(store, unit_id, year, corrected, typed(reason), _who(by),
                         apply_to_cohort, jobs, run.Progress())
        click.echo(f"{outcome.unit_id} {year}: {_facet_text(outcome.before)} → {_facet_text(outcome.after)}")
        for fact, (old, new) in outcome.corrected.items():
            click.echo(f"  {fact}: {old} → {new}")
        for e in outcome.cohort_effect:
            click.echo(f"  cohort: {e['unit_id']}: {_facet_text(e['before'])} → {_facet_text(e['after'])}")
        if outcome.entry is None:
            refuse(f"not recorded: the corrected facts change {len(outcome.cohort_effect)} other unit(s) of the cohort "
                   "(the quota ranks units against each other). Review them, then record with --apply-to-cohort")
        seq = store.append(outcome.entry)
    click.echo(f"recorded as appeal #{seq} in {display_path(path)}; the earlier result is kept in the history", err=True)


def _facet_text(f: dict) -> str:
    text = f["grade"] or f["status"]
    if f["quota"]:
        text += f" (quota: {f['quota']})"
    return text


@main.command("override")
@click.argument("unit_id")
@click.option("--year", type=int, required=True)
@click.option("--grade", "grade_", required=True, metavar="GRADE", help="excellent, good, completed, not_completed or not_graded")
@click.option("--reason", required=True, help="The committee's reason (kept in the record).")
@click.option("--by", "by", metavar="NAME", help="Who records the decision. Default: the operating-system user.")
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
def override_command(unit_id: str, year: int, grade_: str, reason: str, by: Optional[str], db: Optional[Path]) -> None:
    """Record a committee's decision on a grade; every later view shows it as an override."""
    from engine.review.audit import override
    from engine.ledger.store import Store
    if not reason.strip():
        refuse("--reason must say why", usage=True)
    path = _db_path(db)
    with Store(path, create=False) as store:
        seq = store.append(override(store, unit_id, year, grade_, typed(reason), _who(by)))
    click.echo(f"recorded as override #{seq} in {display_path(path)}")


@main.group("audit")
def audit_group() -> None:
    """Check the audit database: replay a record, verify the chain, list and export records."""


@audit_group.command("replay")
@click.argument("record", type=int, metavar="RECORD")
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help=JOBS_HELP)
def audit_replay(record: int, db: Optional[Path], fmt: str, jobs: Optional[int]) -> None:
    """Grade a recorded run (or appeal) again from the stored rule set and facts; report any decision that differs."""
    from engine.rendering import render
    from engine.pipeline import run
    from engine.review.audit import replay
    from engine.ledger.store import Store
    with Store(_db_path(db), create=False) as store:
        report = replay(store, record, jobs, run.Progress())
    doc = {"seq": report.seq, "kind": report.kind, "units": report.units, "differences": report.differences,
           "ruleset": {k: v for k, v in report.ruleset.items() if k not in ("canonical", "ordered")}}
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2) if fmt == "json" else render.replay_text(doc), nl=fmt == "json")
    if report.differences:
        raise click.exceptions.Exit(1)


@audit_group.command("verify")
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
def audit_verify(db: Optional[Path]) -> None:
    """Walk the hash chain; report the first record that was altered or removed."""
    from engine.ledger.store import Store
    path = _db_path(db)
    with Store(path, create=False) as store:
        findings = _verified(store)
        count, head = store.head()
    if findings:
        click.echo(f"{display_path(path)}: {findings[0]['problem']}", err=True)
        if len(findings) > 1:
            click.echo(f"({len(findings) - 1} further problem(s) follow from it or elsewhere)", err=True)
        stop("the audit chain is broken")
    click.echo(f"{display_path(path)}: {count} records, chain intact; head #{count} sha256 {head}")


@audit_group.command("log")
@click.option("--year", type=int)
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
def audit_log(year: Optional[int], db: Optional[Path]) -> None:
    """List the records: runs, appeals and overrides, oldest first."""
    from engine.rendering import render
    from engine.ledger.store import Store
    with Store(_db_path(db), create=False) as store:
        entries = store.entries(year)
        for e in entries:
            d = store.detail(e["kind"], e["seq"])
            e["what"] = (f"{d['units']} units, {d['facts_source']}" if e["kind"] == "run" else
                         f"{d['unit_id']}: {d.get('grade') or ''} {d['reason']}".replace("  ", " "))
    click.echo(render.ledger_table(entries), nl=False)


@audit_group.command("export")
@click.option("--record", "seq", type=int, help="One record (a run, appeal or override) in full.")
@click.option("--unit", "unit_id", help="One unit's year: its standing result and every record about it.")
@click.option("--year", type=int, help="With --unit.")
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of standard output.")
@click.option("--db", type=click.Path(path_type=Path), envvar="CDCS_DB", help=DB_HELP)
def audit_export(seq: Optional[int], unit_id: Optional[str], year: Optional[int], out: Optional[Path],
                 db: Optional[Path]) -> None:
    """Export an audit record as JSON for an external reviewer (hashes included, so it can be checked)."""
    from engine.review.audit import export_record, export_unit
    from engine.ledger.store import Store
    if (seq is None) == (unit_id is None) or (unit_id is not None and year is None):
        refuse("give --record N, or --unit UNIT_ID --year YEAR", usage=True)
    _refuse_to_overwrite({"the audit database": _db_path(db)}, out=out)
    with Store(_db_path(db), create=False) as store:
        doc = export_record(store, seq) if seq is not None else export_unit(store, unit_id, year)
        shown = {seq} if seq is not None else _seqs_in(doc)
        broken = _verified(store, only=shown)
    _emit(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n", out)
    _fail_unverified(broken, db)


def _seqs_in(doc: Any) -> set[int]:
    """Every record number an exported document mentions (``seq``, at any depth)."""
    if isinstance(doc, dict):
        return ({doc["seq"]} if isinstance(doc.get("seq"), int) else set()).union(*(_seqs_in(v) for v in doc.values()))
    if isinstance(doc, list):
        return set().union(*(_seqs_in(v) for v in doc))
    return set()


SCHEMAS = {"ruleset": "CĐCS grading rule set", "catalogue": "CĐCS catalogue of facts",
           "targets": "CĐCS programme targets"}  # title of each format's schema


def schema_model(kind: str) -> Any:
    """The pydantic model of a format ``cdcs schema`` writes (imported here: no other command needs them)."""
    from engine.compiling.targets import TargetSet
    from engine.model import Catalogue, RuleSet
    return {"ruleset": RuleSet, "catalogue": Catalogue, "targets": TargetSet}[kind]


@main.command()
@click.option("--of", "kind", type=click.Choice(sorted(SCHEMAS)), default="ruleset", show_default=True,
              help="Which format: a rule set, a catalogue of facts, or a programme's targets (cdcs report).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the schema here instead of standard output.")
def schema(kind: str, out: Optional[Path]) -> None:
    """Write the JSON Schema of the rule-set (or catalogue, or targets) format, for editors that validate and complete
    YAML."""
    model, title = schema_model(kind), SCHEMAS[kind]
    document = model.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = title
    _emit(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n", out)


if __name__ == "__main__":
    sys.exit(main(prog_name="cdcs"))  # messages name the command as its users type it
