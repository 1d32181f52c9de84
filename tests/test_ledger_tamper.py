"""Every column of every table of the audit ledger is covered by its hashes.

The columns are read from the ledger's own schema, so a column added later is tried
too: for each one, a copy of a real ledger (a run, an appeal and an override recorded
through the real command) has that one value changed in meaning, the way an insider
editing the file would, and verification must report it.  Both layouts are tried: a
ledger written now (results as data, table ``units``), and one written by the first
release (results as prose, table ``results``; ``tests/golden/ledger_schema_1.sqlite``),
opened, and so migrated, by this version.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import zlib
from pathlib import Path

import pytest

from cli_run import run_cdcs
from engine.ledger.store import Store, pack_unit, unpack_unit


def _schema() -> list[tuple[str, str, str, bool]]:
    """(table, column, declared type, part of the primary key) for every column of a new ledger."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.sqlite"
        with Store(path):
            pass
        con = sqlite3.connect(path)
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = [(t, c[1], c[2], bool(c[5])) for t in tables for c in con.execute(f"PRAGMA table_info({t})")]
        con.close()
    return out


SCHEMA = _schema()
LAYOUT_TABLES = {1: "results", 2: "units"}  # where each layout keeps its units; the other table is empty
CASES = [(layout, *column) for layout in (1, 2) for column in SCHEMA
         if column[0] != LAYOUT_TABLES[3 - layout]]


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("layout1")
    old = folder / "audit.sqlite"
    shutil.copy(Path(__file__).parent / "golden" / "ledger_schema_1.sqlite", old)
    with Store(old) as store:
        assert list(store.verify()) == []
    return {1: old, 2: _recorded(tmp_path_factory)}


def _recorded(tmp_path_factory) -> Path:
    """A ledger holding one of each kind of record, so that every table has rows."""
    folder = tmp_path_factory.mktemp("tamper")
    db = folder / "audit.sqlite"
    run = run_cdcs("grade", "examples/province_2024.csv", "--record", "--db", str(db), "--by", "Nguyễn Văn A")
    assert run.code == 0, run
    facts = folder / "appeal.csv"
    facts.write_text("unit_id,members_informed_pct\nHL-BV06,100\n", encoding="utf-8")
    run = run_cdcs("appeal", "HL-BV06", "--year", "2024", "--facts", str(facts), "--db", str(db), "--reason", "sót biên bản")
    assert run.code == 0, run
    run = run_cdcs("override", "HL-BV08", "--year", "2024", "--grade", "completed", "--db", str(db), "--reason", "xét lại")
    assert run.code == 0, run
    with Store(db) as store:
        assert list(store.verify()) == []
    return db


def _changed_json(text: str) -> str:
    """The same JSON with one more key or item: still readable, no longer the same."""
    value = json.loads(text)
    if isinstance(value, dict):
        value["tampered"] = True
    elif isinstance(value, list):
        value.append("tampered")
    else:
        value = [value, "tampered"]
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _changed(value, key: bool, dictionary: bytes):
    if isinstance(value, int):
        return value + (1000 if key else 1)
    if isinstance(value, bytes) and value[:1] == b"\x02":  # a unit's data, packed against its rule set's dictionary
        return pack_unit(_changed_json(unpack_unit(value, dictionary)), dictionary)
    if isinstance(value, bytes):  # a packed JSON text
        return zlib.compress(_changed_json(zlib.decompress(value).decode("utf-8")).encode("utf-8"))
    if value.startswith(("{", "[")):
        return _changed_json(value)
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):  # a hash
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    return {"run": "appeal", "appeal": "run", "override": "run"}.get(value, value + "·")


@pytest.mark.parametrize("layout, table, column, kind, key", CASES, ids=[f"layout{n}-{t}.{c}" for n, t, c, _, _ in CASES])
def test_changing_any_stored_value_is_found_by_verify(ledgers: dict, tmp_path: Path, layout: int, table: str,
                                                      column: str, kind: str, key: bool):
    copy = tmp_path / "audit.sqlite"
    shutil.copy(ledgers[layout], copy)
    con = sqlite3.connect(copy)
    keys = [c[1] for c in con.execute(f"PRAGMA table_info({table})") if c[5]] or ["rowid"]
    found = con.execute(f"SELECT {', '.join(keys)}, {column} FROM {table} WHERE {column} IS NOT NULL "
                        f"ORDER BY {', '.join(keys)} LIMIT 1").fetchone()
    assert found is not None, f"{table} holds no row in a layout-{layout} ledger: nothing to tamper with"
    *where, value = found
    if table == "units":
        with Store(copy) as store:
            dictionary = store._dictionary(where[0])
    else:
        dictionary = b""
    con.execute(f"UPDATE {table} SET {column} = ? WHERE {' AND '.join(f'{k} = ?' for k in keys)}",
                (_changed(value, key, dictionary), *where))
    con.commit()
    con.close()
    with Store(copy) as store:
        findings = list(store.verify())
    assert findings, f"{table}.{column} was changed ({value!r:.60}) and verify did not notice"


def test_every_table_of_the_ledger_is_tried():
    tables = {t for t, _, _, _ in SCHEMA}
    assert {"ledger", "rulesets", "runs", "appeals", "overrides", "results", "units"} <= tables
    assert len(SCHEMA) >= 50 and len(CASES) >= 85


def test_a_ledger_written_in_the_current_layout_still_verifies_unpacks_and_replays(tmp_path):
    """``tests/golden/ledger_schema_2.sqlite`` (a run, an appeal and an override, results as data) was written by
    an earlier build of this layout. Anything that changes what its hashes cover, how its units are packed or how
    they are read back must fail here: a ledger already kept by a province would stop verifying."""
    db = tmp_path / "audit.sqlite"
    shutil.copy(Path(__file__).parent / "golden" / "ledger_schema_2.sqlite", db)
    run = run_cdcs("audit", "verify", "--db", str(db))
    assert run.code == 0, run
    assert run.stdout.endswith("3 records, chain intact; head #3 sha256 "
                               "afda19a791fd1e1f55515b4daeb96f6e1454de029a8f2d6ed0031eaff69e8676\n"), run
    with Store(db) as store:
        assert list(store.verify()) == []
    for seq in ("1", "2"):
        replayed = run_cdcs("audit", "replay", seq, "--db", str(db))
        assert replayed.code == 0 and "every decision is the one stored" in replayed.stdout, replayed
    why = run_cdcs("why", "HL-BV06", "--year", "2024", "--db", str(db), "--format", "json")
    assert why.code == 0, why
    doc = json.loads(why.stdout)
    assert doc["decided_by"]["kind"] == "appeal" and doc["result"]["score"] == 94.5 and doc["result_from"] == "decision"
    assert doc["history"][1]["corrected"] == {"members_informed_pct": ["95", "100"]}
    assert doc["result"]["facts"]["values"]["members_informed_pct"] == 100
