"""What one process does with a chunk of units: type their cells, decide, check, and render each result.

A batch runs in several processes (durable-rules' state belongs to a process); each
holds the plan, compiled from the rule set's stored text, its own back ends, and
renders the units it graded, so that only compact results and finished output travel
back.  A unit the quota may move (a candidate for the capped level) is rendered only
once the whole batch has been ranked: :meth:`Worker.settle` does it then.
"""
from __future__ import annotations

import gc
import json
import pickle
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

from engine.backends.evaluate import Decided, Grader, UnitEvaluation, quota_candidate
from engine.compiling.compile import Plan, compile_plan
from engine.errors import Problem
from engine.explaining.explain import missing_facts, result, summary
from engine.grading.quota import QuotaEffect, cohort_key, exempt
from engine.ledger.record import decision, stored_cells, unit_text
from engine.ledger.store import StoredUnit, pack_unit, packing, unpack_unit
from engine.reading.facts import (Cell, CsvFormat, GridCells, Reported, TextChunk, Typist, UnitFacts, from_integer, moved_row,
                          moving_facts, parse_chunk)
from engine.reading.loading import loaded_from_canonical
from engine.rendering import render

FORMATS = ("table", "json", "jsonl", "csv", "xlsx", "none")


@dataclass(frozen=True)
class Setup:
    """Everything a process needs to grade and render units of one batch."""

    canonical: str  # the rule set as an audit record keeps it: every process compiles the same plan
    ordered: str
    label: str
    source: str  # the facts file as messages name it
    columns: tuple[str, ...]  # the file's header, for rows given as lists
    text_only: bool
    output: str  # one of FORMATS
    lang: str
    recording: bool  # also the data an audit record keeps of each unit, packed as the ledger stores it
    keep: Optional[str] = None  # a unit whose full evaluation comes back too (to explain it)
    csv_format: Optional[CsvFormat] = None  # how to read chunks of a CSV file's text
    compare: bool = False  # each unit's decision as data, with what a comparison of two gradings shows
    facts: tuple[str, ...] = ()  # ... and these facts' values (engine forms), for a report that counts units by them
    moved_years: Optional[int] = None  # the records are another year's: moved by this many years as they are read


@dataclass
class Row:
    """One unit as the parent read it."""

    index: int
    line: Optional[int]
    values: Any  # a list in column order, a mapping of fact names, or a unit as the ledger packs it (bytes)
    where: Optional[dict[str, Cell]] = None  # each value's position, where the format has one
    problems: list[Problem] = field(default_factory=list)  # found by the parent (a unit id given twice)
    history: dict[str, str] = field(default_factory=dict)  # facts the parent filled from the ledger
    stored: Optional[dict] = None  # a unit read from the ledger: the decision stored for it, once unpacked


@dataclass
class Graded:
    """One unit's result as it travels back: codes and numbers, and its finished output."""

    index: int
    unit_id: str
    state: str  # the grade, or the status when not graded (what the summary counts)
    year: Optional[int] = None
    line: Optional[int] = None  # its row in the file
    row: Optional[Row] = None  # a candidate's row, kept to grade it again once ranked
    shown: Optional[dict] = None  # with the audit data: its name, workplace type and missing facts
    base: Optional[str] = None  # the quota cohort this unit counts in, when its grade is in the base levels
    candidate: Optional[tuple[str, tuple]] = None  # (cohort, rank values) of a unit the quota may move
    output: Any = None  # its rendered output; None for a candidate until the quota is settled
    data: Optional[dict] = None  # its decision as data (to compare two gradings)
    stored: Optional[tuple[bytes, str]] = None  # what the ledger keeps of it: (packed data, digest line)
    problems: list[Problem] = field(default_factory=list)
    kept: Optional[UnitEvaluation] = None  # its full evaluation, for the unit a run was asked to keep


@dataclass
class Batch:
    """A chunk's results as they travel back to the parent: the little its first pass reads of each unit, and the
    results themselves, pickled once, here, for the parent to spool as they are (unpickling and pickling them
    again there was most of the parent's work)."""

    ids: list[str]  # each unit's id, in input order
    where: list[int]  # each unit's row in the file, or minus its position where the format has no rows
    bases: list[str]  # the quota cohort of each unit graded in the quota's base levels
    candidates: list[tuple[str, str, tuple]]  # (unit id, cohort, rank values) of each unit the quota may move
    rows: list[Row]  # the candidates' rows, in the same order: to grade them again once ranked
    results: bytes  # the list of Graded, without the candidates' rows, pickled

    @classmethod
    def of(cls, graded: list[Graded]) -> "Batch":
        rows = [g.row for g in graded if g.candidate is not None]
        for g in graded:
            g.row = None
        return cls([g.unit_id for g in graded], [g.line if g.line else -g.index for g in graded],
                   [g.base for g in graded if g.base is not None],
                   [(g.unit_id, *g.candidate) for g in graded if g.candidate is not None], rows,
                   pickle.dumps(graded, pickle.HIGHEST_PROTOCOL))

    def graded(self) -> list[Graded]:
        """The results, the candidates with their rows again."""
        graded = pickle.loads(self.results)
        for g, row in zip((g for g in graded if g.candidate is not None), self.rows):
            g.row = row
        return graded

    def __len__(self) -> int:
        return len(self.ids)


class Worker:
    """Grades and renders units; one per process."""

    def __init__(self, setup: Setup, plan: Optional[Plan] = None):
        self.setup = setup
        self.plan = plan or compile_plan(loaded_from_canonical(setup.canonical, setup.ordered, setup.label))
        self.grader = Grader(self.plan, explain=False)
        self.typist = Typist(self.plan.catalogue, self.plan.ruleset.year, setup.text_only)
        quota = self.plan.ruleset.quota
        self.quota = quota if quota is not None and quota.enabled else None
        values = self.plan.catalogue.facts["workplace_type"].values or {}
        self.type_labels = {code: label.model_dump() for code, label in values.items()}
        self.columns = list(setup.columns)
        self.packing = packing(list(self.plan.catalogue.facts))  # as the ledger compresses this rule set's units
        self.csv_line = render.CsvLine()
        catalogue = self.plan.catalogue
        self.known, self.moving = frozenset(catalogue.facts), moving_facts(catalogue)

    # --- the first pass: every unit --------------------------------------------------------

    def grade(self, work: Any) -> Batch:
        """Rows read by the parent, or a chunk of a CSV file's text to read here."""
        if isinstance(work, TextChunk):
            work = [Row(index, line, values) for index, line, values in
                    parse_chunk(work, self.setup.csv_format, self.columns, self.setup.source)]
        return Batch.of([self.grade_one(row) for row in work])

    def grade_one(self, row: Row) -> Graded:
        """One unit's first pass: decided and written, or, a quota candidate, kept for the ranking."""
        unit = self._read(row)
        if unit.problems:
            return self._finish(unit, None, None, Graded(unit.index, unit.unit_id, "invalid", line=row.line), row.stored)
        decided = self.grader.decide(unit.engine, None, unit.unit_id)
        choice = decided.choice
        out = Graded(unit.index, unit.unit_id, choice.grade if choice.status == "graded" else choice.status,
                     line=row.line)
        if self.quota is not None and choice.status == "graded":
            cohort = self._cohort(unit)
            if choice.grade in self.quota.of_levels:
                out.base = cohort
            if choice.grade == self.quota.level and not self._exempt(unit):
                facts = self._facts(unit, names=[k.key for k in self.quota.rank_by])
                out.candidate = (cohort, quota_candidate(self.plan, unit.unit_id, facts.values, decided).keys)
                out.row = row
                return out
        return self._finish(unit, decided, None, out, row.stored)

    def _read(self, row: Row) -> Reported:
        if isinstance(row.values, bytes):  # unpacked here, not in the parent: a replay reads a whole run
            data = json.loads(unpack_unit(row.values, self.packing))
            row.index, row.history, row.stored = data.get("record", row.index), data.get("history") or {}, data["decision"]
            record, cells = data["facts"], stored_cells(data["cells"])
        elif isinstance(row.values, list):
            record = dict(zip(self.columns, row.values))
            cells = GridCells(row.line, self.columns)
        else:
            record, cells = row.values, row.where or {k: Cell(None, None) for k in row.values}
        if self.setup.moved_years is not None:
            record = moved_row({k: v for k, v in record.items() if k in self.known}, self.setup.moved_years,
                               self.plan.catalogue, self.moving)
        unit = self.typist.unit(row.index, record, cells, self.setup.source)
        unit.problems += row.problems
        if not unit.problems:  # facts that cannot all be true together make the unit invalid, as a bad cell does
            unit.problems += self.grader.constraints.problems(unit.engine, unit.cells, self.setup.source)
        unit.history = dict(row.history)
        return unit

    def _exempt(self, unit: Reported) -> bool:
        name = self.quota.exempt_if
        return name is not None and name in unit.engine and exempt(self.quota, {
            name: from_integer(self.plan.catalogue.facts[name], unit.engine[name])})

    def _cohort(self, unit: Reported) -> str:
        facts, engine = self.plan.catalogue.facts, unit.engine
        return cohort_key(self.quota, {name: from_integer(facts[name], engine[name])
                                       for name in self.quota.cohort_facts if name in engine}, unit.unit_id)

    def _facts(self, unit: Reported, names: Optional[list[str]] = None) -> UnitFacts:
        """The unit with typed values: all of them, or only those named and those a row shows."""
        if names is None:
            return unit.unit_facts(self.plan.catalogue)
        facts, engine = self.plan.catalogue.facts, unit.engine
        values = {n: from_integer(facts[n], engine[n]) for n in ("name", "year", "workplace_type", *names) if n in engine}
        return UnitFacts(unit.unit_id, unit.index, unit.source, unit.where, values, list(unit.defaulted), unit.raw,
                         list(unit.problems), unit.cells, dict(unit.history))

    # --- the second pass: units the quota may move ------------------------------------------

    def settle(self, rows: list[tuple[Row, QuotaEffect]]) -> list[Graded]:
        """Candidates, once ranked: kept as decided, or decided again under the quota's cap."""
        out = []
        for row, effect in rows:
            unit = self._read(row)
            decided = self.grader.decide(unit.engine, None if effect.kept else effect.demote_to, unit.unit_id)
            choice = decided.choice
            graded = Graded(unit.index, unit.unit_id, choice.grade if choice.status == "graded" else choice.status)
            out.append(self._finish(unit, decided, effect, graded, row.stored))
        return out

    # --- rendering ---------------------------------------------------------------------------

    def _finish(self, unit: Reported, decided: Optional[Decided], effect: Optional[QuotaEffect],
                out: Optional[Graded] = None, stored: Optional[dict] = None) -> Graded:
        """``stored``: the decision the ledger holds for the unit, sent back beside the new one (a replay)."""
        if out is None:
            out = Graded(unit.index, unit.unit_id, "invalid")
        out.problems = list(unit.problems)
        output = self.setup.output
        keep = unit.unit_id == self.setup.keep
        explained = output in ("json", "jsonl") or keep
        facts = self._facts(unit) if explained else self._facts(unit, names=[])
        if decided is None:
            ev = UnitEvaluation(facts, "invalid", problems=list(unit.problems))
        else:
            quota_cap = None if effect is None or effect.kept else effect.demote_to
            traces = self.grader.trace(facts, decided, quota_cap) if explained else {}
            ev = UnitEvaluation(facts, decided.choice.status, decided, traces, effect)
        if keep:
            out.kept = ev
        lang = self.setup.lang
        if output in ("json", "jsonl"):
            record = result(self.plan, ev, lang)
            out.output = render.json_item(record) if output == "json" else render.jsonl_line(record)
        elif output != "none":
            brief = summary(self.plan, ev, lang, brief=True)
            if output == "csv":
                out.output = self.csv_line(render.flat_row(brief))
            elif output == "table":
                out.output = render.row(brief, lang, self.type_labels)
            else:
                out.output = (render.row(brief, lang, self.type_labels), render.flat_row(brief))
        if self.setup.recording or self.setup.compare:
            decided = decision(self.plan, ev)
            year = unit.engine.get("year")
            out.year = year if isinstance(year, int) else None
            if self.setup.recording:  # packed and hashed here, in parallel: the ledger only writes it
                text = unit_text(unit.source, unit.raw, unit.cells, unit.history, decided)
                stored = StoredUnit(unit.unit_id, out.year or self.plan.ruleset.year, unit.index, decided["status"],
                                    decided.get("grade"), {})
                out.stored = (pack_unit(text, self.packing), stored.digest(text))
            if self.setup.compare:
                out.data = {"decision": decided, "facts": {n: unit.engine.get(n) for n in self.setup.facts}}
                out.shown = {"name": unit.engine.get("name"), "workplace_type": unit.engine.get("workplace_type"),
                             "missing": missing_facts(self.plan, ev)}  # what a comparison of two gradings shows
                if stored is not None:
                    out.data["stored"] = stored
        return out


# --- in a pool process ------------------------------------------------------------------------

_WORKER: Optional[Worker] = None
_QUIET = None


def start(setup: Setup) -> None:
    """Pool initializer: one worker per process."""
    global _WORKER
    _WORKER = Worker(setup)
    global _QUIET
    _QUIET = quiet_collector()
    _QUIET.__enter__()  # for the life of the process


@contextmanager
def quiet_collector():
    """A batch makes many small short-lived objects and keeps few: what exists when it starts (the plan)
    is set aside from the cyclic collector, which runs a hundred times less often; as it was, after.

    Only the young objects are collected first (the garbage is there); a full collection would cost in
    proportion to everything the process holds, at every batch of a process that grades many."""
    thresholds = gc.get_threshold()
    gc.collect(1)
    gc.freeze()
    gc.set_threshold(70_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def grade_in_process(rows: list[Row]) -> Batch:
    assert _WORKER is not None
    return _WORKER.grade(rows)


def settle_in_process(rows: list[tuple[Row, QuotaEffect]]) -> list[Graded]:
    assert _WORKER is not None
    return _WORKER.settle(rows)
