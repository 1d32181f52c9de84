"""Grading a whole facts file: read, grade in chunks on every core, rank the quota, write.

Memory does not grow with the number of units: units flow from the reader to worker
processes in chunks (:mod:`engine.pipeline.chunks`), and what comes back — each unit's finished
output and the data an audit record keeps — goes to a temporary spool file, in input
order.  The quota ranks units against each other, so it waits for the whole batch:
only the units it may move (the candidates for the capped level, a few numbers each)
and a count per cohort are kept; once ranked, the candidates are graded again (under
the cap when demoted) and rendered.  A last pass reads the spool back and writes the
output — whole or not at all — and the audit record.

The output is the same, byte for byte, whatever the number of processes: each unit
is rendered from its own facts, and the spool keeps the input order.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import multiprocessing
import os
import pickle
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from engine.backends.durable import DurableBackend
from engine.backends.evaluate import Grader, UnitEvaluation
from engine.compiling.compile import Plan, compile_file
from engine.errors import FactsError, Problem, UsageProblem, UserInputError
from engine.grading.quota import QuotaCandidate, QuotaEffect, place
from engine.ledger.history import HistoryFiller
from engine.ledger.record import RunRecorder
from engine.ledger.store import Store
from engine.pipeline.chunks import Batch, Graded, Row, Setup, Worker, grade_in_process, quiet_collector, settle_in_process, start
from engine.reading.facts import Cell, Stream, TextChunk, UnitFacts, check_columns, open_stream, parse_chunk, years_in
from engine.reading.loading import display_path, resolve_ruleset_path
from engine.rendering import render

if TYPE_CHECKING:
    from engine.authoring.cases import CaseResult, CaseToRun

CHUNK = 500  # units sent to a process at a time
EXPLAINED_CHUNK = 50  # ... when each unit's output carries its explanation (tens of kilobytes)
XLSX_UNITS = 1_048_575  # the rows of a worksheet, less its header
IN_PROCESS_UP_TO = 2000  # a file this small is graded in this process: starting others would cost more


class ProblemLog:
    """The problems of the units that could not be graded, each once, in the order found.

    Kept in a temporary file, not in memory: a national file may hold a hundred thousand
    malformed rows, and the run's memory must not grow with them.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self._seen: set[bytes] = set()  # 8-byte digests: the same problem found again (impact grades twice)
        self.count = 0

    def add(self, problem: Problem) -> None:
        line = problem.render().replace("\n", " ")
        digest = hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest()
        if digest not in self._seen:
            self._seen.add(digest)
            self._file.write(line + "\n")
            self.count += 1

    def lines(self) -> Iterator[str]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield line.rstrip("\n")

    def __len__(self) -> int:
        return self.count


@dataclass
class Outcome:
    """What a run did: how many units of each grade or status, and the problems of units not graded."""

    counts: Counter = field(default_factory=Counter)
    problems: ProblemLog = field(default_factory=ProblemLog)
    kept: Optional[Graded] = None  # the unit asked for by ``keep``, with its full evaluation

    @property
    def units(self) -> int:
        return sum(self.counts.values())


class Progress:
    """Units done, rate and time left, on one line of stderr when it is a terminal (and nothing otherwise)."""

    def __init__(self, enabled: Optional[bool] = None, stream: IO = sys.stderr, after: float = 1.5):
        """``after``: seconds before the first line (a run that ends sooner shows nothing)."""
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.after = after
        self.begun = self.start = time.monotonic()
        self.shown = 0.0
        self.drawn = False

    def update(self, phase: str, done: int, total: Optional[int] = None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown < 0.5 or now - self.begun < self.after:
            return
        self.shown = now
        rate = done / max(now - self.start, 1e-9)
        line = f"{phase}: {done:,}" + (f" of ~{total:,}" if total else "") + f" units, {rate:,.0f} units/s"
        if total and rate > 0 and total > done:
            line += f", about {_duration((total - done) / rate)} left"
        self.stream.write("\r" + line.ljust(78)[:120])
        self.stream.flush()
        self.drawn = True

    def phase(self) -> None:
        """A new phase counts its own rate."""
        self.start = time.monotonic()

    def done(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * 78 + "\r")
            self.stream.flush()
            self.drawn = False


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def plan_named(spec: str) -> Plan:
    """A rule set named as a user names one (a year: its newest version; a version such as ``2025.1``; a path),
    compiled."""
    return compile_file(resolve_ruleset_path(spec))


def plan_for(rules: Optional[str], facts: Path) -> Plan:
    """The rule set ``rules`` names, or the bundled one for the year the facts report."""
    if rules is None:
        years = years_in(facts)
        if len(years) > 1:
            raise UsageProblem([Problem(display_path(facts), f"reports several years ({', '.join(map(str, years))}); "
                                        "grade one year at a time or pass --rules")])
        if not years:
            raise UsageProblem([Problem(display_path(facts), "cannot tell its year: it has no readable 'year' column; "
                                        "pass --rules")])
        rules = str(years[0])
    return plan_named(rules)


def grade_file(plan: Plan, path: Path, *, ledger: Optional[Path] = None, **options) -> Outcome:
    """Grade every unit of a facts file and write the output; see :func:`grade_stream`.

    ``ledger``: an audit database; when it exists, what a unit left empty that its earlier years there know (last
    year's grade, a title's streak) is filled from it."""
    if ledger is None or not ledger.exists():
        return grade_stream(plan, open_stream(path), **options)
    with Store(ledger, create=False) as store:
        history = HistoryFiller(plan.catalogue, plan.ruleset.year, store)
        return grade_stream(plan, open_stream(path), history=history, **options)


def record_file(plan: Plan, path: Path, ledger: Path, by: str, **options) -> tuple[Outcome, int]:
    """Grade a facts file and record the run in the ledger (made when missing) in the same pass that writes the
    output: both, or neither.  Returns the outcome and the run's record number."""
    with Store(ledger) as store:
        history = HistoryFiller(plan.catalogue, plan.ruleset.year, store)
        recorder = RunRecorder(store, plan, path, display_path(path), by)
        outcome = grade_stream(plan, open_stream(path), history=history, recorder=recorder, **options)
    return outcome, recorder.seq


def evaluations(plan: Plan, units: list[UnitFacts], explain: bool = True) -> list[UnitEvaluation]:
    """A few units graded in this process, the quota applied among them, each kept with its explanation (to explain
    one unit, a test case's, a recorded run's); a whole file goes through :func:`grade_file`, which keeps none."""
    return Grader(plan, explain=explain).batch(units)


def evaluation(plan: Plan, unit: UnitFacts, quota_cap: Optional[str] = None, explain: bool = True) -> UnitEvaluation:
    """One unit graded in this process, capped as the quota capped it (a recorded unit graded again)."""
    return Grader(plan, explain=explain).unit(unit, quota_cap)


def case_runner(plan: Plan) -> Callable[[CaseToRun], CaseResult]:
    """Runs a rule set's test cases, one grader for them all (the cases' module is imported only by a command that
    runs cases: grading a file needs none of it)."""
    from engine.authoring.cases import run_case
    grader = Grader(plan)
    return lambda to_run: run_case(plan, grader, to_run)


def check_engine_runs(plan: Plan) -> None:
    """Registers the plan in the rule engine now, so that a condition it cannot run is an error of the rule set
    when it is validated, not of the first grading (:class:`~engine.errors.RuleSetError`)."""
    DurableBackend(plan)


def grade_stream(plan: Plan, stream: Stream, *, output: str = "none", lang: str = "vi", out: Optional[Path] = None,
                 jobs: Optional[int] = None, progress: Optional[Progress] = None, history=None, recorder=None,
                 keep: Optional[str] = None, collect: Optional[Callable[[Graded], None]] = None,
                 collect_facts: tuple[str, ...] = (), problems: Optional[ProblemLog] = None) -> Outcome:
    """Grade every unit of a stream of facts and write the output; see the module's docstring.

    ``history`` fills facts from the ledger's earlier years (:class:`engine.ledger.history.HistoryFiller`);
    ``recorder`` receives each unit's audit data in input order (:class:`engine.ledger.record.RunRecorder`);
    ``keep`` names a unit whose full evaluation the outcome returns (for an explanation);
    ``collect`` receives each unit's result as data, in input order (to compare two gradings), with the values of
    ``collect_facts`` (a report counts units by them);
    ``problems``: where to log the units' problems (several runs may share one log).
    """
    wrong = check_columns(stream.facts, plan.catalogue, stream.shown)
    if wrong:
        raise FactsError(wrong)
    setup = Setup(plan.loaded.canonical, plan.loaded.ordered, f"{plan.ruleset.id} {plan.ruleset.version}",
                  stream.shown, tuple(stream.columns), stream.text_only, output, lang, recorder is not None, keep,
                  stream.csv_format, compare=collect is not None, facts=collect_facts, moved_years=stream.moved_years)
    progress = progress or Progress(enabled=False)
    rows = _Reading(stream, history, min(CHUNK, EXPLAINED_CHUNK) if output in ("json", "jsonl") else CHUNK)
    twice = _Duplicates(stream, setup, plan)
    with _Workers(setup, plan, rows, jobs) as workers, tempfile.TemporaryDirectory(prefix="cdcs-") as folder, \
            quiet_collector():
        spool = _Spool(Path(folder))
        writer = _writer(output, lang, plan)
        outcome = Outcome() if problems is None else Outcome(problems=problems)
        base: Counter = Counter()
        candidates: list[QuotaCandidate] = []
        done = 0
        observing = getattr(writer, "observe", None) is not None  # a table measures its columns as units come
        for work, batch in workers.grade():
            batch = twice.check(work, batch)
            spool.first(batch)
            base.update(batch.bases)
            candidates += [QuotaCandidate(unit_id, cohort, plan.ruleset.quota.level, keys)
                           for unit_id, cohort, keys in batch.candidates]
            if observing:
                for g in batch.graded():
                    if g.candidate is None:
                        _observe(writer, g)
            done += len(batch)
            if output == "xlsx" and done > XLSX_UNITS:  # as soon as it is known, before anything is written
                raise UserInputError([Problem(stream.shown, f"more than {XLSX_UNITS:,} units: a worksheet holds at "
                                              f"most {XLSX_UNITS:,} (1,048,576 rows, one for the header); write "
                                              "--format csv or jsonl instead")])
            progress.update("grading", done, rows.estimate)
        effects: dict[str, QuotaEffect] = place(plan.ruleset.quota, candidates, base) if candidates else {}
        progress.phase()
        settled = 0
        for graded in workers.settle(spool.candidates(effects)):
            spool.second(graded)
            if writer is not None:
                for g in graded:
                    _observe(writer, g)
            settled += len(graded)
            progress.update("ranked by the quota; grading its candidates again", settled, len(candidates))
        progress.phase()
        if recorder is not None and twice.twice:
            ids = sorted(twice.twice)
            raise UserInputError([Problem(stream.shown, f"not recorded: unit id{'s' if len(ids) > 1 else ''} "
                                          f"{', '.join(ids)} appear more than once; an audit record needs one result "
                                          "per unit")])
        with (recorder if recorder is not None else _Nothing()):
            _write(spool, writer, out, plan, lang, outcome, recorder, progress, done, collect)
    progress.done()
    return outcome


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _observe(writer, graded: Graded) -> None:
    observe = getattr(writer, "observe", None)
    if observe is not None:
        observe(graded.output)


def _write(spool: "_Spool", writer, out: Optional[Path], plan: Plan, lang: str, outcome: Outcome, recorder,
           progress: Progress, total: int, collect: Optional[Callable[[Graded], None]] = None) -> None:
    """The last pass: every unit in input order, to the output and to the audit record."""
    from engine.explaining.explain import ruleset_data
    from engine import __version__

    ruleset = ruleset_data(plan)
    written = 0

    def each() -> Iterator[Graded]:
        nonlocal written
        for g in spool.merged():
            outcome.counts[g.state] += 1
            for problem in g.problems:
                outcome.problems.add(problem)
            if g.kept is not None:
                outcome.kept = g
            if recorder is not None:
                recorder.add(g)
            if collect is not None:
                collect(g)
            written += 1
            progress.update("writing", written, total)
            yield g

    finish = recorder.finish if recorder is not None else (lambda: None)  # committed before the output is in place
    if writer is None:
        for _ in each():
            pass
        finish()
        return
    if isinstance(writer, render.XlsxWriter):
        with render.XlsxWriter(out, ruleset, __version__, lang) as book:
            for g in each():
                book.write(g.output)
            finish()
        return
    with render.Output(out) as target:
        if isinstance(writer, render.TableWriter):
            writer.begin(target, ruleset)
            sink = writer
        elif isinstance(writer, render.JsonWriter):
            sink = render.JsonWriter(target, {"ruleset": ruleset, "engine": {"version": __version__}, "lang": lang})
        else:
            sink = type(writer)(target)
        for g in each():
            sink.write(g.output)
        sink.end(outcome.counts)
        finish()


def _writer(output: str, lang: str, plan: Plan):
    """What writes the output (created for real in the last pass; a table measures its columns as units come)."""
    if output == "table":
        return render.TableWriter(lang)
    return {"csv": render.CsvWriter.__new__(render.CsvWriter), "jsonl": render.JsonlWriter.__new__(render.JsonlWriter),
            "json": render.JsonWriter.__new__(render.JsonWriter),
            "xlsx": render.XlsxWriter.__new__(render.XlsxWriter)}.get(output)


# --- reading --------------------------------------------------------------------------------------

class _Reading:
    """The file's units as work for the workers: chunks of a CSV file's text as written (parsed by the workers),
    or rows read here (other formats, or when the ledger fills facts in)."""

    def __init__(self, stream: Stream, history, size: int):
        self.stream = stream
        self.size = size  # units a chunk
        self.history = history if history is not None and history.active else None
        self.estimate: Optional[int] = None
        try:
            self.bytes = os.path.getsize(stream.path) if stream.path else 0
        except OSError:
            self.bytes = 0
        self.read = 0  # characters of the file read so far (of a CSV file read in chunks)

    def chunks(self) -> Iterator[Any]:
        if self.stream.texts is not None and self.history is None:
            units = 0
            for chunk in self.stream.texts(self.size):
                units += chunk.units
                self.read += len(chunk.text)
                if self.bytes:
                    self.estimate = max(units, int(units * self.bytes / max(self.read, 1)))
                yield chunk
            return
        yield from _chunks(self._rows(), self.size)

    def _rows(self) -> Iterator[Row]:
        for index, line, values, where, *history in self.stream.rows:  # a stored unit comes with its history
            row = Row(index, line, values, where, history=dict(history[0]) if history else {})
            if self.history is not None:
                self._fill(row)
            yield row

    def _fill(self, row: Row) -> None:
        record = self.stream.reported(row.values)
        filled, provenance = self.history.fill(record)
        if provenance:
            cells = dict(self.stream.cells(row.line, row.values, row.where))
            row.values, row.where, row.history = filled, {**cells, **{n: Cell(None, None) for n in provenance}}, provenance


class _Duplicates:
    """A unit id given again makes that later unit invalid (each unit is graded once a year): found as results
    come back in input order, and that unit graded again here with the problem."""

    def __init__(self, stream: Stream, setup: Setup, plan: Plan):
        self.stream, self.setup, self.plan = stream, setup, plan
        self.first: dict[str, int] = {}  # unit id → the row (or, negative, the unit) where it was first given
        self.twice: set[str] = set()
        self.worker: Optional[Worker] = None

    def check(self, work: Any, batch: Batch) -> Batch:
        again = []
        seen_at = self.first
        for i, (unit_id, where) in enumerate(zip(batch.ids, batch.where)):
            seen = seen_at.get(unit_id)
            if seen is None:
                seen_at[unit_id] = where
            else:
                self.twice.add(unit_id)
                again.append((i, seen))
        if not again:
            return batch
        graded = batch.graded()
        rows = {row.index: row for row in self._rows(work)}
        for i, seen in again:
            g = graded[i]
            row = rows[g.index]
            cell = self.stream.cells(row.line, row.values, row.where).get("unit_id", Cell(None, None))
            first = f"row {seen}" if seen > 0 else f"unit {-seen}"
            row.problems.append(Problem(self.stream.shown, f"column 'unit_id': '{g.unit_id}' is given twice "
                                        f"(first on {first}); each unit is graded once a year", cell.line, cell.column))
            if self.worker is None:
                self.worker = Worker(self.setup, self.plan)
            graded[i] = self.worker.grade_one(row)
        return Batch.of(graded)

    def _rows(self, work: Any) -> list[Row]:
        if isinstance(work, TextChunk):
            return [Row(index, line, values) for index, line, values in
                    parse_chunk(work, self.stream.csv_format, self.stream.columns, self.stream.shown)]
        return work


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the processes ------------------------------------------------------------------------------

def _units(work: Any) -> int:
    return work.units if isinstance(work, TextChunk) else len(work)


class _Workers:
    """This process alone for a small file or ``jobs=1``; otherwise a pool of ``jobs`` processes."""

    def __init__(self, setup: Setup, plan: Plan, rows: _Reading, jobs: Optional[int]):
        self.setup, self.plan, self.rows = setup, plan, rows
        self.jobs = jobs or os.cpu_count() or 1
        self.pool = None
        self.local: Optional[Worker] = None

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def grade(self) -> Iterator[tuple[Any, Batch]]:
        chunks = self.rows.chunks()
        ahead: list[Any] = []
        if self.jobs > 1:  # look ahead: a small file is not worth starting processes for
            for chunk in chunks:
                ahead.append(chunk)
                if sum(_units(c) for c in ahead) > IN_PROCESS_UP_TO:
                    break
        pending = iter(ahead) if sum(_units(c) for c in ahead) <= IN_PROCESS_UP_TO or self.jobs == 1 else None
        if pending is not None or self.jobs == 1:
            local = self._local()
            for chunk in (ahead if self.jobs > 1 else chunks):
                yield chunk, local.grade(chunk)
            return
        self.pool = multiprocessing.get_context("spawn").Pool(self.jobs, initializer=start, initargs=(self.setup,))
        for chunk, graded in self._ordered(grade_in_process, itertools.chain(ahead, chunks)):
            yield chunk, graded

    def settle(self, work: Iterator[tuple[Row, QuotaEffect]]) -> Iterator[list[Graded]]:
        chunks = _chunks(work, self.rows.size)
        if self.pool is None:
            local = self._local()
            for chunk in chunks:
                yield local.settle(chunk)
            return
        for _, graded in self._ordered(settle_in_process, chunks):
            yield graded

    def _ordered(self, function, chunks: Iterable[list]) -> Iterator[tuple[list, Any]]:
        """Each chunk's result in input order, with a few chunks in flight per process: never the whole file
        (``Pool.imap`` would read all of its input ahead, into memory)."""
        window = 3 * self.jobs
        flight: collections.deque = collections.deque()
        for chunk in chunks:
            flight.append((chunk, self.pool.apply_async(function, (chunk,))))
            if len(flight) >= window:
                done, result = flight.popleft()
                yield done, result.get()
        while flight:
            done, result = flight.popleft()
            yield done, result.get()

    def _local(self) -> Worker:
        if self.local is None:
            self.local = Worker(self.setup, self.plan)
        return self.local


# --- the spool --------------------------------------------------------------------------------------

class _Spool:
    """Results in input order on disk: the first pass's (candidates left open), then the candidates'."""

    def __init__(self, folder: Path):
        self.results = open(folder / "results", "w+b")
        self.rows = open(folder / "candidates", "w+b")
        self.settled = open(folder / "settled", "w+b")

    def first(self, batch: Batch) -> None:
        """A chunk's results, as they came (pickled); the rows of its candidates kept apart for the second pass."""
        if batch.rows:
            pickle.dump(([unit_id for unit_id, _, _ in batch.candidates], batch.rows), self.rows,
                        pickle.HIGHEST_PROTOCOL)
        self.results.write(batch.results)

    def candidates(self, effects: dict[str, QuotaEffect]) -> Iterator[tuple[Row, QuotaEffect]]:
        for ids, rows in _read(self.rows):
            for unit_id, row in zip(ids, rows):
                yield row, effects[unit_id]

    def second(self, graded: list[Graded]) -> None:
        pickle.dump(graded, self.settled, pickle.HIGHEST_PROTOCOL)

    def merged(self) -> Iterator[Graded]:
        settled = (g for chunk in _read(self.settled) for g in chunk)
        for chunk in _read(self.results):
            for g in chunk:
                yield next(settled) if g.candidate is not None else g


def _read(handle: IO[bytes]) -> Iterator[Any]:
    handle.flush()
    handle.seek(0)
    while True:
        try:
            yield pickle.load(handle)
        except EOFError:
            return
