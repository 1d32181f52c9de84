"""The committee's report read from the ledger: a recorded year as it stands, and each target year by year.

A year stands as its latest recorded run left it, with each later appeal's decision for
the unit it concerned and each override's grade.  Nothing is graded again: the report
counts the recorded decisions and reads the recorded facts, typed by the rule set that
graded them, so it says what the committee decided then, not what today's code would.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from engine.backends.evaluate import engine_values
from engine.compiling.targets import load_targets
from engine.errors import Problem, RuleSetError
from engine.ledger.store import Store, StoreError
from engine.rendering.report import ReportBuilder
from engine.review.audit import stored_plan, unit_from_stored


def recorded_years(store: Store) -> dict[int, int]:
    """Each year with a recorded run → its latest run's record number."""
    runs: dict[int, int] = {}
    for entry in store.entries():
        if entry["kind"] == "run":
            runs[entry["year"]] = entry["seq"]
    return dict(sorted(runs.items()))


def year_report(store: Store, targets_path: Path, year: Optional[int] = None,
                units_in: Optional[str] = None) -> dict[str, Any]:
    """The report of one recorded year (the latest recorded when not given), with every target's trend;
    ``units_in``: a language to list every unit in, with the reasons for its grade."""
    runs = recorded_years(store)
    if not runs:
        raise StoreError([Problem(store.shown, "no grading run is recorded: record one with cdcs grade --record")])
    year = max(runs) if year is None else year
    if year not in runs:
        raise StoreError([Problem(store.shown, f"no grading run is recorded for {year}; recorded years: "
                                               f"{', '.join(map(str, runs))}")])
    builder = _tally(store, targets_path, year, runs[year], keep_units=units_in is not None)
    doc = builder.result()
    if units_in is not None:
        doc["units_list"] = builder.unit_rows(units_in)
    doc["facts"] = {"source": store.shown, "year": year, "run": runs[year]}
    doc["trend"] = _trend(store, targets_path, runs, {year: doc})
    return doc


def _tally(store: Store, targets_path: Path, year: int, run: int, keep_units: bool = False) -> ReportBuilder:
    """Every unit of a recorded year, as it stands, counted toward the targets."""
    first = next(store.iter_units(run), None)
    if first is None:
        raise StoreError([Problem(store.shown, f"record {run} ({year}) holds no units")])
    plan = stored_plan(store, store.entry(run)["detail"]["ruleset_sha256"])
    builder = ReportBuilder(plan, load_targets(targets_path, plan), keep_units)
    latest = store.latest_results(run, year)  # each unit's facts as they stand now (the run's, or an appeal's)
    overridden = _overrides(store, year, run)
    for unit in store.iter_units(run):
        newest = latest.get(unit.unit_id, run)
        if newest != run:  # an appeal decided the unit again, from corrected facts
            unit = store.units(newest, unit.unit_id)[0]
        decision = dict(unit.decision or {})
        if unit.unit_id in overridden:  # the committee's grade (or its "not graded") stands over the decision
            grade = overridden[unit.unit_id]
            decision.update(status="not_graded", grade=None) if grade == "not_graded" else \
                decision.update(status="graded", grade=grade)
        facts = unit_from_stored(unit, plan)
        wanted = {n: facts.values[n] for n in builder.facts if n in facts.values}
        builder.add(unit.unit_id, facts.values.get("name"), decision, engine_values(plan, wanted))
    return builder


def _overrides(store: Store, year: int, run: int) -> dict[str, str]:
    """The grade each unit was given by the latest override after the run."""
    rows = store.db.execute("SELECT o.unit_id, o.grade FROM overrides o JOIN ledger l ON l.seq = o.seq "
                            "WHERE l.year = ? AND o.seq > ? ORDER BY o.seq", (year, run)).fetchall()
    return dict(rows)


def _trend(store: Store, targets_path: Path, runs: dict[int, int], done: dict[int, dict]) -> list[dict[str, Any]]:
    """Each target's overall value, year by year; a year whose catalogue cannot measure the targets says why.
    ``done``: the years already counted (the one reported), not counted again."""
    years: list[dict[str, Any]] = []
    for year, run in runs.items():
        try:
            doc = done[year] if year in done else _tally(store, targets_path, year, run).result()
        except RuleSetError as exc:
            years.append({"year": year, "run": run, "not_comparable": "; ".join(p.message for p in exc.problems[:3])})
            continue
        years.append({"year": year, "run": run, "units": doc["units"], "ruleset_version": doc["ruleset"]["version"],
                      "targets": {r["id"]: ({k: r["overall"][k] for k in ("value", "met", "units", "count")}
                                            if r["measurable"] else None) for r in doc["results"]}})
    return years
