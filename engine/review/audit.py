"""Questions put to the audit ledger years later, answered from what it stored alone.

``why`` reads the stored result of a unit's year and its history; ``replay`` grades a
recorded run (or appeal) again from its stored rule set and facts and compares the
decisions, code for code (rewording a message never makes a record differ); ``appeal``
re-grades one unit with corrected facts under the rule set that graded it, within its
cohort, so that a quota is never broken silently; ``override`` records a committee's
decision as what it is.  None of them reads a rule file on disk.

A unit recorded as data (layout 2) is explained by grading its stored facts again under
its stored rule set and quota effect: the explanation is made again, and must reach the
decision that was stored, outcome for outcome.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from engine.backends.evaluate import UnitEvaluation
from engine.compiling.compile import Plan, compile_plan
from engine.errors import Problem, UserInputError, did_you_mean
from engine.explaining.explain import result as result_data
from engine.grading.quota import cohort_key
from engine.ledger.record import decision, file_sha256, quota_effect, ruleset_entry, stored_as, stored_cells
from engine.ledger.store import Entry, EntryKind, Store, StoreError, StoredUnit, canonical_json, sha256
from engine.model import GRADES
from engine.nfc import typed, unit_id_of
from engine.pipeline import run
from engine.reading.facts import Cell, Stream, UnitFacts, fact_value, read_table, unit_from_row
from engine.reading.loading import display_path, loaded_from_canonical


def stored_plan(store: Store, sha: str) -> Plan:
    """The rule set exactly as recorded, compiled again; its hash must still be its hash."""
    stored = store.ruleset(sha)
    label = f"{store.shown}: rule set {stored['id']} {stored['version']}"
    loaded = loaded_from_canonical(stored["canonical"], stored["ordered"], label)
    if loaded.sha256 != sha:
        raise StoreError([Problem(label, f"the stored rule set no longer has its hash sha256:{sha[:12]}")])
    return compile_plan(loaded)


def unit_from_stored(row: StoredUnit, plan: Plan, corrected: Optional[dict] = None, cells: Optional[dict] = None,
                     source: Optional[str] = None, index: Optional[int] = None) -> UnitFacts:
    """A stored unit read again exactly as it was (or with a corrected row of facts)."""
    raw = row.facts if corrected is None else corrected
    where = stored_cells(row.data["cells"]) if cells is None else cells
    unit = unit_from_row(row.read_at if index is None else index, raw, where, plan.catalogue,
                         row.source if source is None else source, plan.ruleset.year)
    unit.history = dict(row.history)  # values taken from the ledger then are in the record
    return unit


def facets(stored: dict) -> dict[str, Any]:
    """What a committee reads of a decision (stored or fresh); an appeal's effect on the cohort is told in these."""
    quota = stored.get("quota")
    return {"status": stored["status"], "grade": stored.get("grade"), "titles": stored.get("titles") or {},
            "verdict": stored.get("verdict"),
            "quota": None if quota is None else ("kept" if quota["kept"] else "demoted")}


def decision_of(unit: StoredUnit) -> dict[str, Any]:
    """A stored unit's decision as data; for a unit stored with its prose (layout 1), read out of the result."""
    if unit.decision is not None:
        return unit.decision
    result = unit.results["en"]
    out = {"status": result["status"], "grade": result["grade"], "titles": result["titles"],
           "verdict": result["financial_audit"]["verdict"], "quota": result.get("quota"),
           "outcomes": _explained_outcomes(result.get("explanation", {}))}
    if result["status"] == "invalid" and "problems" in result.get("explanation", {}):
        out["problems"] = result["explanation"]["problems"]
    return out


def _explained_outcomes(explanation: dict) -> dict[str, str]:
    """Every outcome an explanation states, keyed by where it states it (to compare two explanations' decisions)."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if "outcome" in value and isinstance(value["outcome"], str):
                found[path] = value["outcome"]
            for key, item in value.items():
                if key not in ("trace", "unmet"):
                    walk(item, f"{path}.{value.get('id', key) if isinstance(item, (dict, list)) else key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{item.get('id', i) if isinstance(item, dict) else i}]")

    walk(explanation, "")
    return found


def evaluation_of(plan: Plan, row: StoredUnit, explain: bool = True) -> UnitEvaluation:
    """A stored unit graded again from its stored facts and quota effect; it must reach its stored decision."""
    unit = unit_from_stored(row, plan)
    stored = decision_of(row)
    effect = quota_effect(stored.get("quota"))
    ev = run.evaluation(plan, unit, None if effect is None or effect.kept else effect.demote_to, explain)
    ev.quota = effect
    fresh = decision(plan, ev) if row.decision is not None else decision_of(_as_layout1(plan, row, ev))
    if _compared(fresh) != _compared(stored):
        raise StoreError([Problem(f"unit '{row.unit_id}' ({row.year})",
                                  "its rule set no longer reaches the decision recorded for it from its recorded facts; "
                                  "run cdcs audit replay on its record")])
    return ev


def _as_layout1(plan: Plan, row: StoredUnit, ev: UnitEvaluation) -> StoredUnit:
    return StoredUnit(row.unit_id, row.year, row.position, ev.status, ev.grade, row.data,
                      {"en": result_data(plan, ev, "en")})


def _compared(stored: dict) -> str:
    """The part of a decision a replay compares: everything but the facts defaulted (implied by the facts)."""
    return canonical_json({k: v for k, v in stored.items() if k != "defaulted"})


# --- replay ----------------------------------------------------------------------------------

@dataclass
class Replay:
    seq: int
    kind: EntryKind
    ruleset: dict
    units: int
    differences: list[dict] = field(default_factory=list)  # {unit_id, lang, fields}


def replay(store: Store, seq: int, jobs: Optional[int] = None, progress=None) -> Replay:
    """Grade a recorded run or appeal again from the ledger alone; list every unit whose decision differs."""
    entry = store.entry(seq)
    if entry["kind"] == "override":
        raise StoreError([Problem(store.shown, f"record {seq} is an override, a committee's decision: there is "
                                               "nothing to evaluate again")])
    detail = entry["detail"]
    plan = stored_plan(store, detail["ruleset_sha256"])
    if entry["kind"] == "run" and entry["results_layout"] != 1:
        return _replay_run(store, entry, plan, jobs, progress)
    stored = {row.unit_id: row for row in store.units(seq)}
    prose = any(row.results is not None for row in stored.values())  # layout 1: compared through its explanation
    again: dict[str, dict] = {}  # each stored unit's decision made again
    if entry["kind"] == "appeal" and not prose:  # its cohort may be a run's thousands of units: graded as a run is
        def keep(graded) -> None:
            if graded.unit_id in stored:
                again[graded.unit_id] = graded.data["decision"]
        _grade_cohort(plan, (_graded_again(row) for row in _cohort_of_appeal(store, detail, stored)), keep, jobs,
                      progress)
    else:
        rows = stored.values() if entry["kind"] == "run" else _cohort_of_appeal(store, detail, stored)
        for ev in run.evaluations(plan, [unit_from_stored(row, plan) for row in rows], explain=prose):
            row = stored.get(ev.unit.unit_id)
            if row is not None:
                again[row.unit_id] = decision(plan, ev) if row.decision is not None else \
                    decision_of(_as_layout1(plan, row, ev))
    out = Replay(seq, entry["kind"], store.ruleset(detail["ruleset_sha256"]), len(stored))
    for unit_id, row in stored.items():
        after = again.get(unit_id)
        if after is None:
            out.differences.append({"unit_id": unit_id, "fields": ["the unit is not graded again"]})
            continue
        before = decision_of(row)
        fields = sorted(k for k in set(before) | set(after) if k != "defaulted" and before.get(k) != after.get(k))
        if fields:
            out.differences.append({"unit_id": unit_id, "fields": fields})
    return out


def _replay_run(store: Store, entry: dict, plan: Plan, jobs: Optional[int], progress) -> Replay:
    """A run of any size graded again as it was graded (every core, the quota over the whole run), its units
    read from the ledger one at a time and compared with their stored decisions as they come back."""
    seq, detail = entry["seq"], entry["detail"]
    out = Replay(seq, "run", store.ruleset(detail["ruleset_sha256"]), detail["units"])
    columns = list(plan.catalogue.facts)
    # each unit goes to the workers as the ledger packed it: they unpack it, grade it and send its stored decision
    # back beside the new one
    stream = Stream(detail["facts_source"], columns, False, ((n, None, packed, None) for n, packed in store.iter_packed(seq)))

    graded_again = 0

    def check(graded) -> None:
        nonlocal graded_again
        graded_again += 1
        before, after = graded.data["stored"], graded.data["decision"]
        fields = sorted(k for k in set(before) | set(after) if k != "defaulted" and before.get(k) != after.get(k))
        if fields:
            out.differences.append({"unit_id": graded.unit_id, "fields": fields})

    run.grade_stream(plan, stream, jobs=jobs, progress=progress, collect=check)
    if graded_again != detail["units"]:  # rows removed: verify says so too
        out.differences.append({"unit_id": "—", "fields": [f"{graded_again:,} units graded again of the "
                                                            f"{detail['units']:,} recorded"]})
    return out


def _cohort_of_appeal(store: Store, detail: dict, stored: dict[str, StoredUnit]) -> Iterator[StoredUnit]:
    """The cohort an appeal was graded in: the appealed unit as corrected, each other unit as it stood then."""
    appealed = detail["unit_id"]
    yield stored[appealed]
    for _, row in _current_rows(store, {u: seq for u, seq in detail["facts_from"].items() if u != appealed}):
        yield row


# --- the current result of a unit's year --------------------------------------------------------

@dataclass
class Standing:
    """A unit's year as the ledger has it now: the deciding entry, the result it holds, and how it got there."""

    unit_id: str
    year: int
    history: list[dict]  # every entry about the unit's year, oldest first, with its grade
    current: dict  # the latest entry
    graded_by: dict  # the latest run or appeal (the one whose explanation stands)
    row: StoredUnit  # that entry's stored unit
    plan: Plan

    @property
    def override(self) -> Optional[dict]:
        return self.current if self.current["kind"] == "override" else None

    def result(self, lang: str) -> dict:
        """The result as people read it: as stored (layout 1), or made again from the stored decision (layout 2)."""
        if self.row.results is not None:
            return self.row.results[lang]
        return result_data(self.plan, evaluation_of(self.plan, self.row), lang)


def standing(store: Store, unit_id: str, year: int) -> Standing:
    unit_id = typed(unit_id)
    history = store.unit_history(unit_id, year)
    if not history:
        known = store.units_known(year)
        hint = did_you_mean(unit_id, known) if known else ""
        years = sorted({e["year"] for e in store.entries()})
        raise StoreError([Problem(store.shown, f"no recorded result for unit '{unit_id}' in {year}.{hint}"
                                               + ("" if known else f" Years recorded: {', '.join(map(str, years)) or 'none'}"))])
    for entry in history:
        entry["grade"] = entry["detail"]["grade"] if entry["kind"] == "override" else \
            store.units(entry["seq"], unit_id)[0].grade
    graded_by = next(e for e in reversed(history) if e["kind"] != "override")
    row = store.units(graded_by["seq"], unit_id)[0]
    return Standing(unit_id, year, history, history[-1], graded_by, row,
                    stored_plan(store, graded_by["detail"]["ruleset_sha256"]))


# --- appeals and overrides ----------------------------------------------------------------------

@dataclass
class AppealOutcome:
    unit_id: str
    before: dict
    after: dict
    corrected: dict[str, list]  # fact → [as recorded, as corrected]
    cohort_effect: list[dict]  # other units whose result the corrected facts change
    entry: Optional[Entry] = None  # what to record (None: refused, the cohort would change)


def appeal(store: Store, unit_id: str, year: int, corrected_path: Path, reason: str, by: str,
           apply_to_cohort: bool, jobs: Optional[int] = None, progress=None) -> AppealOutcome:
    """Re-grade one unit with corrected facts, under the rule set and within the cohort that graded it."""
    now = standing(store, unit_id, year)
    run = next((e for e in reversed(now.history) if e["kind"] == "run"), None)
    if run is None:
        raise StoreError([Problem(store.shown, f"unit '{unit_id}' has no recorded run in {year} to appeal")])
    plan = now.plan if now.graded_by["detail"]["ruleset_sha256"] == run["detail"]["ruleset_sha256"] else \
        stored_plan(store, run["detail"]["ruleset_sha256"])  # the run's rule set governs its appeals
    facts_from = store.latest_results(run["seq"], year)  # the facts that stand now
    record, cells, index = _corrected_row(corrected_path, now.unit_id)
    shown = display_path(corrected_path)
    stored = now.row.facts
    merged = {**stored, **record}
    corrected = {k: [stored.get(k), v] for k, v in sorted(record.items()) if k != "unit_id" and stored.get(k) != v}
    if not corrected:
        raise UserInputError([Problem(shown, f"unit '{now.unit_id}': these facts are the ones recorded; "
                                             "an appeal needs at least one corrected fact")])
    unknown = [k for k in record if k not in plan.catalogue.facts]
    if unknown:
        raise UserInputError([Problem(shown, f"unknown column '{k}'.{did_you_mean(k, plan.catalogue.facts)}", 1)
                              for k in unknown])
    if now.unit_id not in facts_from:
        raise StoreError([Problem(store.shown, f"unit '{now.unit_id}' is not in run {run['seq']}")])
    appealed = now.row  # the row its result stands in: the one facts_from names for it
    corrected_unit = unit_from_stored(appealed, plan, merged, cells, shown, index)
    if corrected_unit.problems:
        raise UserInputError(corrected_unit.problems)
    in_cohort = _cohort(plan, unit_from_stored(appealed, plan), corrected_unit)
    before: dict[str, dict] = {}  # each cohort unit's result as it stands
    after: dict[str, dict] = {}  # the fresh decisions that differ from it, and the appealed unit's

    def cohort() -> Iterator[tuple]:
        for uid, row in _current_rows(store, facts_from):
            if in_cohort(uid, row):
                before[uid] = facets(decision_of(row))
                yield (index, None, merged, cells, appealed.history) if uid == now.unit_id else _graded_again(row)

    def compare(graded) -> None:
        if graded.unit_id == now.unit_id or facets(graded.data["decision"]) != before[graded.unit_id]:
            after[graded.unit_id] = graded.data["decision"]

    _grade_cohort(plan, cohort(), compare, jobs, progress)
    cohort_ids = [uid for uid in facts_from if uid in before]  # in the order of their ids, as recorded
    effect = [{"unit_id": uid, "before": before[uid], "after": facets(after[uid])} for uid in cohort_ids
              if uid != now.unit_id and uid in after]
    outcome = AppealOutcome(now.unit_id, facets(decision_of(now.row)), facets(after[now.unit_id]), corrected, effect)
    if effect and not apply_to_cohort:
        return outcome
    rows = [stored_as(plan, corrected_unit, after[now.unit_id])]
    if apply_to_cohort:
        moved = [store.units(facts_from[e["unit_id"]], e["unit_id"])[0] for e in effect]
        rows += [stored_as(plan, unit_from_stored(row, plan), after[row.unit_id]) for row in moved]
    rows = [_numbered(row, n) for n, row in enumerate(rows, start=1)]
    facts_from = {uid: facts_from[uid] for uid in cohort_ids}
    detail = {"unit_id": now.unit_id, "base_seq": now.graded_by["seq"], "ruleset_sha256": plan.loaded.sha256,
              "reason": reason, "facts_source": shown, "facts_sha256": file_sha256(corrected_path),
              "corrected": corrected, "cohort_effect": effect, "facts_from": facts_from}
    outcome.entry = Entry("appeal", year, by, detail, rows, ruleset_entry(plan))
    return outcome


def _graded_again(row: StoredUnit) -> tuple:
    """A stored unit as a stream of units to grade gives it: where it was read, what it reported."""
    return row.read_at, None, row.facts, stored_cells(row.data["cells"]), row.history


def _grade_cohort(plan: Plan, units: Iterator[tuple], collect: Callable, jobs: Optional[int], progress) -> None:
    """Grade units the way a run grades them (every core, the quota over them all, memory that does not grow with
    them); ``collect`` gets each unit's decision in order.  Their problems are their run's, told there."""
    stream = Stream("", list(plan.catalogue.facts), False, units)
    run.grade_stream(plan, stream, jobs=jobs, progress=progress, collect=collect, problems=run.ProblemLog())


def _numbered(row: StoredUnit, position: int) -> StoredUnit:
    """A unit numbered by its place in an appeal: its own number is kept with its facts where it differs (the
    appealed unit's row in the corrected file, a cohort unit's in the file it was read from, which can coincide)."""
    if row.position == position:
        return row
    return replace(row, position=position, data={**row.data, "record": row.position})


def _current_rows(store: Store, facts_from: dict[str, int]) -> Iterator[tuple[str, StoredUnit]]:
    """Each unit's stored row as it stands, one at a time, record by record (the order matters to nobody: the
    quota breaks its ties by unit id).  A few units of a record are read by their index, many in one pass over it
    (one query per unit of a large run took as long as reading it whole each time)."""
    wanted: dict[int, set[str]] = {}
    for unit_id, seq in facts_from.items():
        wanted.setdefault(seq, set()).add(unit_id)
    for seq, ids in wanted.items():
        if len(ids) <= _BY_INDEX:
            rows: Iterable[StoredUnit] = (row for unit_id in sorted(ids) for row in store.units(seq, unit_id)[:1])
        else:
            rows = store.iter_units(seq) if store.entry(seq)["results_layout"] != 1 else store.units(seq)
        seen: set[str] = set()
        for row in rows:
            if row.unit_id in ids and row.unit_id not in seen:
                seen.add(row.unit_id)
                yield row.unit_id, row
        missing = sorted(ids - seen)
        if missing:
            raise StoreError([Problem(store.shown, f"record {seq} should hold unit '{missing[0]}' and does not")])


_BY_INDEX = 1000  # units of one record read one by one; more are read in one pass


def _cohort(plan: Plan, before: UnitFacts, after: UnitFacts) -> Callable[[str, StoredUnit], bool]:
    """Which units an appeal can move: the unit's quota cohort (before and after the correction, should it move
    the unit to another), or the unit alone when no quota applies.  Told from each unit's one cohort fact, so
    that only the cohort's units are read in full."""
    quota = plan.ruleset.quota
    if quota is None or not quota.enabled:
        return lambda unit_id, row: unit_id == after.unit_id
    if not quota.cohort_by:
        return lambda unit_id, row: True
    facts = {name: plan.catalogue.facts[name] for name in quota.cohort_facts}
    keys = {cohort_key(quota, x.values, x.unit_id) for x in (before, after)}
    return lambda unit_id, row: unit_id == after.unit_id or cohort_key(
        quota, {name: fact_value(row.facts.get(name), spec) for name, spec in facts.items()}, unit_id) in keys


def _corrected_row(path: Path, unit_id: str) -> tuple[dict, dict, int]:
    read = read_table(path)
    if "unit_id" not in read.columns:
        raise UserInputError([Problem(display_path(path), "no 'unit_id' column: the corrected facts must name the unit", 1)])
    found = [(n, rec, cells) for n, (rec, cells) in enumerate(read.rows, start=1)
             if unit_id_of(rec) == unit_id]
    if not found:
        ids = [str(rec.get("unit_id")) for rec, _ in read.rows]
        raise UserInputError([Problem(display_path(path), f"no row for unit '{unit_id}'.{did_you_mean(unit_id, ids)}")])
    if len(found) > 1:
        raise UserInputError([Problem(display_path(path), f"unit '{unit_id}' has {len(found)} rows; give one", found[1][2]
                                      .get("unit_id", Cell(None, None)).line)])
    index, record, cells = found[0]
    return {k: v for k, v in record.items() if v not in (None, "")}, cells, index


def override(store: Store, unit_id: str, year: int, grade: str, reason: str, by: str) -> Entry:
    """A committee's decision on a grade, recorded as such, on top of the result it replaces."""
    if grade not in (*GRADES, "not_graded"):
        raise UserInputError([Problem("--grade", f"'{grade}' is not a grade.{did_you_mean(grade, GRADES)} "
                                             f"Expected one of {', '.join((*GRADES, 'not_graded'))}")])
    now = standing(store, unit_id, year)
    detail = {"unit_id": now.unit_id, "grade": grade, "reason": reason, "replaces_seq": now.current["seq"]}
    return Entry("override", year, by, detail)


def why_document(store: Store, now: Standing, lang: str) -> dict:
    """Everything an auditor asks about a unit's year, as data: the answer that was true when decided."""
    from engine.explaining.explain import ruleset_data

    graded = now.graded_by
    detail = graded["detail"]
    run = graded if graded["kind"] == "run" else store.entry(detail["base_seq"])
    while run["kind"] != "run":  # an appeal of an appeal: follow back to the run
        run = store.entry(run["detail"]["base_seq"])
    history = [_history_line(e, now.unit_id) for e in now.history]
    over = now.override
    return {
        "unit_id": now.unit_id, "year": now.year,
        "grade": over["detail"]["grade"] if over else now.row.grade,
        "status": now.row.status,
        "override": None if over is None else {"seq": over["seq"], "grade": over["detail"]["grade"],
                                               "reason": over["detail"]["reason"], "recorded_by": over["recorded_by"],
                                               "recorded_at": over["recorded_at"], "graded": now.row.grade},
        "decided_by": {"seq": graded["seq"], "kind": graded["kind"], "recorded_at": graded["recorded_at"],
                       "recorded_by": graded["recorded_by"], "run": run["seq"],
                       "engine_version": run["detail"]["engine_version"],
                       "facts_source": now.row.source, "record": now.row.read_at,
                       "facts_sha256": _facts_file_hash(store, graded, now.unit_id)},
        "ruleset": ruleset_data(now.plan),
        "history": history,
        "result_from": "stored" if now.row.results is not None else "decision",  # prose kept (schema 1), or made again
        "result": now.result(lang),
    }


def _facts_file_hash(store: Store, entry: dict, unit_id: str) -> str:
    """The hash of the file a unit's facts were read from: an appeal's own file for the unit appealed, and for a
    unit of its cohort, that of the record whose facts it stood with (followed back to a run or an appeal of it)."""
    detail = entry["detail"]
    while entry["kind"] == "appeal" and detail["unit_id"] != unit_id and unit_id in detail.get("facts_from", {}):
        entry = store.entry(detail["facts_from"][unit_id])
        detail = entry["detail"]
    return detail["facts_sha256"]


def export_record(store: Store, seq: int) -> dict:
    """One ledger record in full: header and hashes, its row, its rule set, every unit's facts and results."""
    entry = store.entry(seq)
    sha = entry["detail"].get("ruleset_sha256")
    ruleset = None
    if sha:
        stored = store.ruleset(sha)
        ruleset = {k: v for k, v in stored.items() if k not in ("canonical", "ordered")} | {"content": json.loads(stored["ordered"])}
    units = [_exported(u) for u in store.units(seq)]
    return {"record": entry, "ruleset": ruleset, "units": units}


def _exported(u: StoredUnit) -> dict:
    out = {"unit_id": u.unit_id, "year": u.year, "record": u.read_at, "source": u.source, "status": u.status,
           "grade": u.grade, "facts": {"record": u.facts, "cells": u.data["cells"], **({"history": u.history} if u.history else {})}}
    if u.results is not None:  # recorded with its prose (layout 1)
        out["result"] = u.results
    else:
        out["decision"] = u.decision
        out["data_sha256"] = sha256(canonical_json(u.data))
    return out


def export_unit(store: Store, unit_id: str, year: int) -> dict:
    """A unit's year: where it stands (both languages), and every record about it, with its rows."""
    now = standing(store, unit_id, year)
    records = []
    for e in now.history:
        rows = store.units(e["seq"], now.unit_id)
        records.append({"record": {k: v for k, v in e.items() if k != "grade"},
                        "unit": None if not rows else _exported(rows[0])})
    return {"standing": {"vi": why_document(store, now, "vi"), "en": why_document(store, now, "en")}, "records": records}


def _history_line(e: dict, unit_id: str) -> dict:
    """One entry of a unit's history; an appeal of another unit that moved this one (the quota) says so."""
    d = e["detail"]
    line = {"seq": e["seq"], "kind": e["kind"], "recorded_at": e["recorded_at"], "recorded_by": e["recorded_by"],
            "grade": e["grade"], "reason": d.get("reason"), "corrected": None, "appeal_of": None}
    if e["kind"] == "appeal":
        if d["unit_id"] == unit_id:
            line["corrected"] = d["corrected"]
        else:
            line["appeal_of"] = d["unit_id"]
    return line
