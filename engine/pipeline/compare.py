"""One facts file graded under two rule sets (``cdcs impact``): both gradings streamed to spool files, then
read side by side in input order, each unit's two results compared as data; a unit that moves is explained
from its decisions, without grading it a third time, and spooled in turn for the writer."""
from __future__ import annotations

import functools
import pickle
import tempfile
from pathlib import Path
from typing import IO, Iterator, Optional

from engine.authoring.diff import param_changes
from engine.authoring.impact import compare, side_of
from engine.compiling.compile import Plan
from engine.errors import FactsError, Problem, did_you_mean
from engine.explaining.explain import ruleset_data
from engine.ledger.record import evaluation_from
from engine.pipeline import run
from engine.reading.facts import as_year, ids_in, open_stream, read_table, supplement_of, years_in
from engine.reading.loading import display_path


class ImpactReport:
    """An impact as data: everything but the units that change (``head``, ``tail``), and those units read again
    from a spool, in input order, one at a time (:meth:`units`): memory does not grow with how many a change moves."""

    def __init__(self, head: dict, spool: IO[bytes], tail: dict):
        self.head, self.tail, self._spool = head, tail, spool

    def units(self) -> Iterator[dict]:
        self._spool.seek(0)
        while True:
            try:
                yield pickle.load(self._spool)
            except EOFError:
                return

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> "ImpactReport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def impact_of(facts: Path, old: Plan, new: Plan, extra: Optional[Path] = None, *, jobs: Optional[int] = None,
              progress: Optional[run.Progress] = None, problems: Optional[run.ProblemLog] = None) -> ImpactReport:
    """Every unit of ``facts`` whose grade, title or verdict changes from ``old`` to ``new``, and why, as data.

    ``extra``: more facts for the same units, matched by unit id (the facts the newer catalogue adds).  The facts
    are moved into each rule set's year; ``problems`` collects the units that cannot be graded, each told once."""
    plans = [old, new]
    shown = display_path(facts)
    columns = open_stream(facts).columns
    supplement = None
    if extra is not None:
        supplement = supplement_of(read_table(extra), columns, ids_in(facts), shown, display_path(extra))
        columns = columns + supplement[0]
    year = _single_year(facts, plans)
    _check_known_columns(shown, columns, plans)
    problems = problems if problems is not None else run.ProblemLog()
    sides, gradings = [], []
    changed = tempfile.TemporaryFile(prefix="cdcs-impact-")  # the units that change, until they are written
    try:
        with tempfile.TemporaryDirectory(prefix="cdcs-impact-") as folder:
            for n, plan in enumerate(plans):  # one grading after the other, each on every core
                stream = as_year(open_stream(facts), plan.catalogue, plan.ruleset.year - year, supplement)
                spool = open(Path(folder) / f"side{n}", "w+b")
                run.grade_stream(plan, stream, jobs=jobs, progress=progress, problems=problems,
                                 collect=lambda g, spool=spool: pickle.dump((g.unit_id, g.data["decision"], g.shown),
                                                                            spool, pickle.HIGHEST_PROTOCOL))
                gradings.append(spool)
                sides.append({"version": plan.ruleset.version, "year": plan.ruleset.year,
                              "moved_years": plan.ruleset.year - year})
            report = compare(old, new, _pairs(plans, gradings),
                             keep=lambda unit: pickle.dump(unit.as_data(), changed, pickle.HIGHEST_PROTOCOL))
            for spool in gradings:
                spool.close()
    except BaseException:
        changed.close()
        raise
    head = {"from": ruleset_data(old), "to": ruleset_data(new),
            "facts": {"source": shown, "supplement": display_path(extra) if extra else None, "year": year,
                      "sides": sides},
            "summary": report.summary(), "distribution": report.distribution}
    params = [change.row() for change in param_changes(old, new)]
    return ImpactReport(head, changed, {"params": params} if params else {})  # what moved the units a rule names


def _pairs(plans: list[Plan], gradings: list[IO[bytes]]) -> Iterator[tuple]:
    """The two gradings of each unit, in input order: its two sides, read from the decisions as data, and its two
    evaluations, made again from those decisions only for a unit that changes."""

    def read(spool: IO[bytes]) -> Iterator[tuple]:
        spool.seek(0)
        while True:
            try:
                yield pickle.load(spool)
            except EOFError:
                return

    def evaluations(unit_id: str, a: tuple[dict, dict], b: tuple[dict, dict]) -> tuple:
        return (evaluation_from(plans[0], unit_id, a[1], a[0]), a[1]["missing"],
                evaluation_from(plans[1], unit_id, b[1], b[0]), b[1]["missing"])

    for (unit_id, decided_a, shown_a), (_, decided_b, shown_b) in zip(read(gradings[0]), read(gradings[1])):
        yield (side_of(decided_a), side_of(decided_b),
               functools.partial(evaluations, unit_id, (decided_a, shown_a), (decided_b, shown_b)))


def _single_year(facts: Path, plans: list[Plan]) -> int:
    """Impact compares rule sets on one year's reports, from the year of one of the two."""
    years = years_in(facts)
    wanted = sorted({p.ruleset.year for p in plans})
    shown = display_path(facts)
    if len(years) != 1:
        found = ", ".join(map(str, years)) or "no readable 'year'"
        raise FactsError([Problem(shown, f"the units report {found}; impact needs the reports of one year "
                                         f"({' or '.join(map(str, wanted))})")])
    if years[0] not in wanted:
        raise FactsError([Problem(shown, f"the units report the year {years[0]}, but the rule sets compared are for "
                                         f"{' and '.join(map(str, wanted))}; give the reports of one of those years")])
    return years[0]


def _check_known_columns(shown: str, columns: list[str], plans: list[Plan]) -> None:
    """A column neither catalogue knows is a typo, not a fact of the other year."""
    known = set(plans[0].catalogue.facts) | set(plans[1].catalogue.facts)
    problems = [Problem(shown, f"unknown column '{c}': neither rule set's catalogue declares it.{did_you_mean(c, known)}",
                        1, i + 1)
                for i, c in enumerate(columns) if c not in known]
    if problems:
        raise FactsError(problems)
