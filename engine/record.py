"""What an audit record of a grading holds: the rule set itself, each unit's facts as read, each result.

Built from the same result data the other outputs render, in both languages, as
canonical JSON: replaying the record must give these exact bytes again.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

from engine import __version__
from engine.compile import Plan
from engine.evaluate import UnitEvaluation
from engine.explain import result
from engine.store import Entry, UnitRow, canonical_json


def unit_row(plan: Plan, ev: UnitEvaluation) -> UnitRow:
    """One unit as stored: its record as read (to grade it again) and its result in vi and en."""
    values = ev.unit.values
    year = values.get("year") if isinstance(values.get("year"), int) else plan.ruleset.year
    return UnitRow(ev.unit.unit_id, year, ev.unit.record, ev.unit.source, ev.status, ev.grade,
                   canonical_json(stored_record(ev)), canonical_json(result(plan, ev, "vi")),
                   canonical_json(result(plan, ev, "en")))


def stored_record(ev: UnitEvaluation) -> dict:
    """The unit's record as read, and where each value was, so a replay reads it the same way."""
    cells = {k: [c.line, c.column] for k, c in sorted(ev.unit.cells.items()) if k in ev.unit.raw}
    out = {"record": ev.unit.raw, "cells": cells}
    if ev.unit.history:
        out["history"] = ev.unit.history
    return out


def ruleset_entry(plan: Plan) -> dict:
    rs = plan.ruleset
    return {"sha256": plan.loaded.sha256, "id": rs.id, "version": rs.version, "year": rs.year,
            "canonical": plan.loaded.canonical, "ordered": plan.loaded.ordered}


def run_entry(plan: Plan, evaluations: list[UnitEvaluation], facts_path: Optional[Path], facts_source: str,
              by: str) -> Entry:
    """A grading run: the rule set, where the facts came from (and their file's hash), every unit."""
    detail = {"ruleset_sha256": plan.loaded.sha256, "engine_version": __version__, "facts_source": facts_source,
              "facts_sha256": file_sha256(facts_path), "units": len(evaluations)}
    return Entry("run", plan.ruleset.year, by, detail, [unit_row(plan, ev) for ev in evaluations], ruleset_entry(plan))


def file_sha256(path: Optional[Path]) -> str:
    if path is None:
        return ""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
