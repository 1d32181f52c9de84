"""Facts a unit need not report because the ledger knows them: last year's grade, a title's streak.

Filled in the records before they are typed, only where a unit left the fact empty; the
unit's explanation names the ledger record each value came from, and an audit record
keeps the value, so a replay reads it without the ledger's later state.
"""
from __future__ import annotations

from typing import Any, Optional

from engine.ledger.store import Store
from engine.model import Catalogue, HistorySpec
from engine.nfc import unit_id_of


class HistoryFiller:
    """Fills, unit by unit, the facts a unit left empty that the ledger's earlier years know."""

    def __init__(self, catalogue: Catalogue, year: int, store: Store):
        self.specs = {name: spec.history for name, spec in catalogue.facts.items() if spec.history is not None}
        self.year = year
        self.store = store
        self.active = bool(self.specs) and store.has_year(year - 1)

    def fill(self, rec: dict) -> tuple[dict, dict[str, str]]:
        """The record with what the ledger knows filled in, and where each filled value came from."""
        unit_id = unit_id_of(rec)
        provenance: dict[str, str] = {}
        if not unit_id:
            return rec, provenance
        for name, spec in self.specs.items():
            if rec.get(name) not in (None, ""):
                continue
            found = lookup(self.store, unit_id, self.year, spec)
            if found is not None:
                rec = {**rec, name: found[0]}
                provenance[name] = found[1]
        return rec, provenance


def lookup(store: Store, unit_id: str, year: int, spec: HistorySpec) -> Optional[tuple[Any, str]]:
    """The value the ledger gives, and the words saying which records gave it; None when it does not know."""
    last = store.standing(unit_id, year - 1)
    if last is None:
        return None
    if spec.kind == "grade":
        grade = last["grade"] if last["status"] != "not_graded" else "not_graded"
        if grade is None:
            return None  # an invalid result: no grade to carry over
        return grade, f"record #{last['seq']} ({last['kind']}, {year - 1})"
    streak, seqs, standing, y = 0, [], last, year - 1
    while standing is not None and standing["titles"].get(spec.title) is True:
        streak, seqs, y = streak + 1, seqs + [f"#{standing['seq']} ({y})"], y - 1
        standing = store.standing(unit_id, y)
    if streak == 0:
        return 0, f"record #{last['seq']} ({year - 1}): {spec.title} not held"
    return streak, "records " + ", ".join(seqs)
