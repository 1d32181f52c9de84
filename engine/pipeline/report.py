"""The committee's targets report of a facts file (``cdcs report FACTS``): the file graded as any other, each
unit counted against the programme's targets as its result comes, in input order."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from engine.compiling.compile import Plan
from engine.compiling.targets import load_targets
from engine.pipeline import run
from engine.reading.loading import display_path
from engine.rendering.report import ReportBuilder


def report_of(plan: Plan, facts: Path, targets: Path, *, units_in: Optional[str] = None, jobs: Optional[int] = None,
              progress: Optional[run.Progress] = None) -> tuple[dict, run.Outcome]:
    """The report as data, and the grading's outcome (its units' problems).

    ``units_in``: a language to also list every unit in, with why it got its grade (for the page)."""
    builder = ReportBuilder(plan, load_targets(targets, plan), keep_units=units_in is not None)
    outcome = run.grade_file(plan, facts, jobs=jobs, progress=progress, collect_facts=builder.facts,
                             collect=lambda g: builder.add(g.unit_id, g.shown["name"], g.data["decision"],
                                                           g.data["facts"]))
    doc = builder.result()
    if units_in is not None:
        doc["units_list"] = builder.unit_rows(units_in)
    doc["facts"] = {"source": display_path(facts), "units": outcome.units}
    return doc, outcome
