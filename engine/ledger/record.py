"""What an audit record of a grading holds: the rule set itself, each unit's facts as read, each decision.

A unit's decision is kept as codes and numbers — status, grade, score in hundredths,
titles, verdict, one outcome per decision of the rule set, the quota's arithmetic —
never as sentences: those are made again, in either language, when the record is read.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Mapping, Optional

from engine import __version__

from engine.backends.evaluate import Decided, UnitEvaluation
from engine.compiling.compile import Plan
from engine.explaining.explain import quota_data, verdict
from engine.grading import aggregate
from engine.grading.quota import QuotaEffect
from engine.ledger.store import Entry, Store, StoredUnit, canonical_json, canonical_texts
from engine.reading.facts import Cell, GridCells, UnitFacts, refuse_unreadable

OUTCOME_CODES = {True: "T", False: "F", None: "?"}
CODE_OUTCOMES = {code: outcome for outcome, code in OUTCOME_CODES.items()}


def decision(plan: Plan, ev: UnitEvaluation) -> dict[str, Any]:
    """A unit's decision as data: what a replay compares and what sentences are made from."""
    out: dict[str, Any] = {"status": ev.status}
    d = ev.decided
    if d is None:
        out["problems"] = [p.render() for p in ev.problems]
        return out
    out.update({
        "grade": d.choice.grade,
        "score": d.one.score_hundredths,
        "titles": dict(d.titles),
        "verdict": verdict(d.one.finance_passed),
        "outcomes": "".join(map(OUTCOME_CODES.__getitem__, map(d.outcomes.__getitem__, decision_keys(plan)))),
        "quota": quota_data(ev),
        "defaulted": sorted(ev.unit.defaulted),
    })
    return out


def decision_keys(plan: Plan) -> tuple[str, ...]:
    """Every decision's key in the rule set's order: the order of a stored decision's outcome codes."""
    return plan.remembered("decision keys", lambda: tuple(k.key for k in plan.decisions))


def outcomes_of(plan: Plan, stored: Mapping[str, Any]) -> dict[str, Optional[bool]]:
    """The outcome of each decision from a stored decision's codes."""
    return {k.key: CODE_OUTCOMES[c] for k, c in zip(plan.decisions, stored["outcomes"])}


def quota_effect(stored: Optional[dict]) -> Optional[QuotaEffect]:
    """A stored quota record as the effect it was."""
    if stored is None:
        return None
    return QuotaEffect(stored["cohort"], stored["level"], tuple(stored["base_levels"]), stored["base_count"],
                       stored["share_pct"], stored["allowed"], stored["candidates"], stored["rank"], stored["kept"],
                       stored["demoted_to"], tuple((k["key"], k["order"], k["value"]) for k in stored["rank_by"]))


def evaluation_from(plan: Plan, unit_id: str, values: dict[str, Any], decided: Mapping[str, Any]) -> UnitEvaluation:
    """The evaluation a decision stands for, made again from its outcomes by the grade arithmetic (no facts are
    read again, no trace is made): enough to compare two gradings.  ``values``: the facts a comparison shows."""
    unit = UnitFacts(unit_id, 0, "", values=dict(values))
    if "outcomes" not in decided:
        return UnitEvaluation(unit, decided["status"])
    outcomes = outcomes_of(plan, decided)
    one = aggregate.stage_one(plan, values["workplace_type"], outcomes)
    effect = quota_effect(decided.get("quota"))
    choice = aggregate.choose_grade(plan, one, outcomes, None if effect is None or effect.kept else effect.demote_to)
    return UnitEvaluation(unit, choice.status, Decided(outcomes, one, choice, aggregate.titles(plan, outcomes), {}),
                          quota=effect)


def unit_data(source: str, raw: dict, cells: Mapping, history: dict, decided: dict) -> dict[str, Any]:
    """One unit as stored: its record as read and where each value was (to read it again), and its decision."""
    if isinstance(cells, GridCells):
        where: dict[str, Any] = {"line": cells.line, "columns": list(cells.columns)}
    else:
        where = {"at": {k: [c.line, c.column] for k, c in sorted(cells.items()) if k in raw}}
    data = {"source": source, "facts": raw, "cells": where, "decision": decided}
    if history:
        data["history"] = dict(sorted(history.items()))
    return data


def unit_text(source: str, raw: dict, cells: Mapping, history: dict, decided: dict) -> str:
    """``canonical_json(unit_data(…))``, what a recorded unit's hash is of, spelled member by member in canonical
    order: the facts by :func:`canonical_texts`, a grid's columns once for all its rows."""
    if isinstance(cells, GridCells):
        where = f'{{"columns":{_spelled(tuple(cells.columns))},"line":{canonical_json(cells.line)}}}'
    else:
        where = canonical_json(unit_data(source, raw, cells, {}, {})["cells"])
    history_member = f',"history":{canonical_json(history)}' if history else ""
    return (f'{{"cells":{where},"decision":{canonical_json(decided)},"facts":{canonical_texts(raw)}'
            f'{history_member},"source":{canonical_json(source)}}}')


_spelled = functools.lru_cache(maxsize=16)(canonical_json)  # a tuple is spelled as the list it was


def stored_cells(where: dict) -> Any:
    """Where each value of a stored unit was read (what :func:`unit_data` keeps of it)."""
    if "columns" in where:
        return GridCells(where["line"], where["columns"])
    return {k: Cell(*v) for k, v in where["at"].items()}


def stored_unit(plan: Plan, ev: UnitEvaluation, year: Optional[int] = None) -> StoredUnit:
    """An evaluated unit as an entry stores it."""
    return stored_as(plan, ev.unit, decision(plan, ev), year)


def stored_as(plan: Plan, unit: UnitFacts, decided: dict[str, Any], year: Optional[int] = None) -> StoredUnit:
    """A unit as an entry stores it, with its decision as data (made in another process, perhaps)."""
    values = unit.values
    year = year if year is not None else (values.get("year") if isinstance(values.get("year"), int) else plan.ruleset.year)
    data = unit_data(unit.source, unit.raw, unit.cells, unit.history, decided)
    return StoredUnit(unit.unit_id, year, unit.position, decided["status"], decided.get("grade"), data)


def ruleset_entry(plan: Plan) -> dict:
    rs = plan.ruleset
    return {"sha256": plan.loaded.sha256, "id": rs.id, "version": rs.version, "year": rs.year,
            "canonical": plan.loaded.canonical, "ordered": plan.loaded.ordered}


def run_entry(plan: Plan, evaluations: list[UnitEvaluation], facts_path: Optional[Path], facts_source: str,
              by: str) -> Entry:
    """A grading run held in memory (a few units), as one entry."""
    detail = {"ruleset_sha256": plan.loaded.sha256, "engine_version": __version__, "facts_source": facts_source,
              "facts_sha256": file_sha256(facts_path), "units": len(evaluations)}
    return Entry("run", plan.ruleset.year, by, detail, [stored_unit(plan, ev) for ev in evaluations], ruleset_entry(plan))


class RunRecorder:
    """A grading run written to the ledger unit by unit, in one transaction (see ``Store.writing``)."""

    def __init__(self, store: Store, plan: Plan, facts_path: Optional[Path], facts_source: str, by: str):
        self.store, self.plan = store, plan
        self.detail = {"ruleset_sha256": plan.loaded.sha256, "engine_version": __version__, "facts_source": facts_source,
                       "facts_sha256": file_sha256(facts_path)}
        self.writer = store.writing("run", plan.ruleset.year, by, ruleset_entry(plan))
        self.count = 0
        self.seq: Optional[int] = None

    def __enter__(self) -> "RunRecorder":
        self.writer.__enter__()
        return self

    def add(self, graded) -> None:
        """A unit packed and hashed by the process that graded it (``Graded.stored``)."""
        year = graded.year if graded.year is not None else self.plan.ruleset.year
        status, grade = ("graded", graded.state) if graded.state not in ("not_graded", "invalid") else (graded.state, None)
        self.writer.add_packed(graded.index, graded.unit_id, year, status, grade, *graded.stored)
        self.count += 1

    def finish(self) -> int:
        self.seq = self.writer.finish({**self.detail, "units": self.count})
        return self.seq

    def __exit__(self, kind, value, traceback) -> None:
        self.writer.__exit__(kind, value, traceback)


def file_sha256(path: Optional[Path]) -> str:
    if path is None:
        return ""
    refuse_unreadable(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
