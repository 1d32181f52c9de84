"""Every column of every table of the audit ledger is covered by its hashes.

The columns are read from the ledger's own schema, so a column added later is tried
too: for each one, a copy of a real ledger (a run, an appeal and an override recorded
through the real command) has that one value changed in meaning, the way an insider
editing the file would, and verification must report it.
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
from engine.store import Store


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


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
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


def _changed(value, key: bool):
    if isinstance(value, int):
        return value + (1000 if key else 1)
    if isinstance(value, bytes):  # a packed JSON text
        return zlib.compress(_changed_json(zlib.decompress(value).decode("utf-8")).encode("utf-8"))
    if value.startswith(("{", "[")):
        return _changed_json(value)
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):  # a hash
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    return {"run": "appeal", "appeal": "run", "override": "run"}.get(value, value + "·")


@pytest.mark.parametrize("table, column, kind, key", SCHEMA, ids=[f"{t}.{c}" for t, c, _, _ in SCHEMA])
def test_changing_any_stored_value_is_found_by_verify(recorded: Path, tmp_path: Path, table: str, column: str,
                                                      kind: str, key: bool):
    copy = tmp_path / "audit.sqlite"
    shutil.copy(recorded, copy)
    con = sqlite3.connect(copy)
    rowid, value = con.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL "
                               f"ORDER BY rowid LIMIT 1").fetchone()
    con.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (_changed(value, key), rowid))
    con.commit()
    con.close()
    with Store(copy) as store:
        findings = list(store.verify())
    assert findings, f"{table}.{column} was changed ({value!r:.60}) and verify did not notice"


def test_every_table_of_the_ledger_is_tried():
    tables = {t for t, _, _, _ in SCHEMA}
    assert {"ledger", "rulesets", "runs", "appeals", "overrides", "results"} <= tables
    assert len(SCHEMA) >= 40
