"""The audit ledger: every recorded grading, appeal and override, in one SQLite file.

Why SQLite and why like this:

- **One entry, one transaction.**  A run (every unit's facts, result and explanation), an
  appeal or an override is written inside ``BEGIN IMMEDIATE … COMMIT``: an interrupted
  write (Ctrl-C, kill -9, a full disk) leaves the ledger as it was before.
- **Chained by hash.**  Each entry's hash covers its content and the previous entry's
  hash; :func:`verify` recomputes every content hash from the stored rows themselves and
  walks the chain, so an edited or deleted row is found, and where.
- **Several writers.**  WAL mode and a busy timeout: two committees recording at once
  both succeed, one after the other; sequence numbers are taken inside the transaction.
- **Readable years later.**  The schema is versioned (``PRAGMA user_version``) by
  append-only migrations: a file written by this version opens in later versions, and a
  file from a newer version is refused rather than misread.

Results are stored as their canonical JSON text (compressed); hashes are of the text.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import sqlite3
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from engine.errors import Problem, UserInputError
from engine.loading import display_path, loaded_from_canonical

BUSY_TIMEOUT_MS = 60_000
GENESIS = "0" * 64

MIGRATIONS: list[str] = [
    # 1: the ledger, the rule sets it used, runs, per-unit results, appeals, overrides.
    """
    CREATE TABLE ledger (
        seq            INTEGER PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('run', 'appeal', 'override')),
        year           INTEGER NOT NULL,
        recorded_at    TEXT NOT NULL,
        recorded_by    TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        prev_sha256    TEXT NOT NULL,
        entry_sha256   TEXT NOT NULL UNIQUE
    );
    CREATE TABLE rulesets (
        sha256    TEXT PRIMARY KEY,
        id        TEXT NOT NULL,
        version   TEXT NOT NULL,
        year      INTEGER NOT NULL,
        canonical BLOB NOT NULL,
        ordered   BLOB NOT NULL
    );
    CREATE TABLE runs (
        seq            INTEGER PRIMARY KEY REFERENCES ledger (seq),
        ruleset_sha256 TEXT NOT NULL REFERENCES rulesets (sha256),
        engine_version TEXT NOT NULL,
        facts_source   TEXT NOT NULL,
        facts_sha256   TEXT NOT NULL,
        units          INTEGER NOT NULL
    );
    CREATE TABLE appeals (
        seq            INTEGER PRIMARY KEY REFERENCES ledger (seq),
        unit_id        TEXT NOT NULL,
        base_seq       INTEGER NOT NULL REFERENCES ledger (seq),
        ruleset_sha256 TEXT NOT NULL REFERENCES rulesets (sha256),
        reason         TEXT NOT NULL,
        facts_source   TEXT NOT NULL,
        facts_sha256   TEXT NOT NULL,
        corrected      TEXT NOT NULL,
        cohort_effect  TEXT NOT NULL,
        facts_from     TEXT NOT NULL
    );
    CREATE TABLE overrides (
        seq          INTEGER PRIMARY KEY REFERENCES ledger (seq),
        unit_id      TEXT NOT NULL,
        grade        TEXT NOT NULL,
        reason       TEXT NOT NULL,
        replaces_seq INTEGER NOT NULL REFERENCES ledger (seq)
    );
    CREATE TABLE results (
        seq       INTEGER NOT NULL REFERENCES ledger (seq),
        unit_id   TEXT NOT NULL,
        year      INTEGER NOT NULL,
        record    INTEGER NOT NULL,
        source    TEXT NOT NULL,
        status    TEXT NOT NULL,
        grade     TEXT,
        raw       BLOB NOT NULL,
        result_vi BLOB NOT NULL,
        result_en BLOB NOT NULL,
        PRIMARY KEY (seq, unit_id)
    );
    CREATE INDEX results_by_unit ON results (unit_id, year, seq);
    CREATE INDEX ledger_by_year ON ledger (year, seq);
    """,
]


class StoreError(UserInputError):
    """The audit file cannot be opened, is from a newer version, or holds no such record."""


def _problem(path: str, message: str) -> StoreError:
    return StoreError([Problem(path, message)])


# --- values as stored ------------------------------------------------------------------

def canonical_json(value: Any) -> str:
    """The one JSON spelling hashes are taken of."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# --- entries written -------------------------------------------------------------------

@dataclass
class UnitRow:
    """One unit's stored facts and result (both languages), for a run or an appeal."""

    unit_id: str
    year: int
    record: int
    source: str
    status: str
    grade: Optional[str]
    raw: str  # canonical JSON of the record as read
    result_vi: str  # canonical JSON of the result, explanation included
    result_en: str

    def digest(self) -> list:
        return [self.unit_id, self.year, self.record, self.source, self.status, self.grade,
                sha256(self.raw), sha256(self.result_vi), sha256(self.result_en)]


@dataclass
class Entry:
    """What one ledger entry holds, before it has a sequence number."""

    kind: str  # run | appeal | override
    year: int
    by: str
    detail: dict[str, Any]  # the kind's own row (runs / appeals / overrides), without seq
    units: list[UnitRow] = field(default_factory=list)
    ruleset: Optional[dict[str, Any]] = None  # {sha256, id, version, year, canonical}

    def content(self) -> str:
        """What the entry's content hash is of: its own row, its rule set's hash, every unit's digest."""
        return canonical_json({"kind": self.kind, "year": self.year, "detail": self.detail,
                               "units": sorted(u.digest() for u in self.units)})


def entry_hash(prev: str, seq: int, kind: str, year: int, at: str, by: str, content_sha: str) -> str:
    return sha256("\n".join([prev, str(seq), kind, str(year), at, by, content_sha]))


# --- the file ---------------------------------------------------------------------------

class Store:
    """An open audit file; use as a context manager."""

    def __init__(self, path: Path, create: bool = True):
        self.path = path
        self.shown = display_path(path)
        if not create and not path.exists():
            raise _problem(self.shown, "no audit database here; record a run first (cdcs grade FACTS --record)")
        try:
            self.db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise _problem(self.shown, f"not a readable audit database: {exc}") from None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.db.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise _problem(self.shown, f"this audit database has schema version {version}, written by a newer cdcs; "
                                       f"this version reads up to {len(MIGRATIONS)}: upgrade cdcs to read it")
        for number in range(version + 1, len(MIGRATIONS) + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self.db.execute("PRAGMA user_version").fetchone()[0] < number:  # another process may have done it
                    for statement in MIGRATIONS[number - 1].split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {number}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # --- writing ---------------------------------------------------------------------

    def append(self, entry: Entry) -> int:
        """Write one entry and all its rows in one transaction; returns its sequence number."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")  # takes the write lock now: the sequence number is ours
        try:
            last = db.execute("SELECT seq, entry_sha256 FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            at = now()
            content_sha = sha256(entry.content())
            db.execute("INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (seq, entry.kind, entry.year, at, entry.by, content_sha, prev,
                        entry_hash(prev, seq, entry.kind, entry.year, at, entry.by, content_sha)))
            if entry.ruleset is not None:
                rs = entry.ruleset
                db.execute("INSERT OR IGNORE INTO rulesets VALUES (?, ?, ?, ?, ?, ?)",
                           (rs["sha256"], rs["id"], rs["version"], rs["year"], pack(rs["canonical"]), pack(rs["ordered"])))
            table = {"run": "runs", "appeal": "appeals", "override": "overrides"}[entry.kind]
            columns = ["seq", *entry.detail]
            db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       [seq, *(_column(v) for v in entry.detail.values())])
            pause_at = len(entry.units) // 2 if os.environ.get("CDCS_TEST_PAUSE_MID_RECORD") else -1
            for n, u in enumerate(entry.units):
                if n == pause_at:
                    _test_pause()
                db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (seq, u.unit_id, u.year, u.record, u.source, u.status, u.grade,
                            pack(u.raw), pack(u.result_vi), pack(u.result_en)))
            db.execute("COMMIT")
            return seq
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # --- reading ---------------------------------------------------------------------

    def entries(self, year: Optional[int] = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, kind, year, recorded_at, recorded_by, entry_sha256 FROM ledger"
        rows = self.db.execute(sql + (" WHERE year = ? ORDER BY seq" if year is not None else " ORDER BY seq"),
                               (year,) if year is not None else ()).fetchall()
        return [dict(zip(("seq", "kind", "year", "recorded_at", "recorded_by", "entry_sha256"), r)) for r in rows]

    def entry(self, seq: int) -> dict[str, Any]:
        row = self.db.execute("SELECT seq, kind, year, recorded_at, recorded_by, content_sha256, prev_sha256, "
                              "entry_sha256 FROM ledger WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise _problem(self.shown, f"no record {seq} in the audit database")
        out = dict(zip(("seq", "kind", "year", "recorded_at", "recorded_by", "content_sha256", "prev_sha256",
                        "entry_sha256"), row))
        out["detail"] = self.detail(out["kind"], seq)
        return out

    def detail(self, kind: str, seq: int) -> dict[str, Any]:
        table = {"run": "runs", "appeal": "appeals", "override": "overrides"}[kind]
        cursor = self.db.execute(f"SELECT * FROM {table} WHERE seq = ?", (seq,))
        row = cursor.fetchone()
        if row is None:
            return {}
        names = [d[0] for d in cursor.description]
        return {k: _value(k, v) for k, v in zip(names, row) if k != "seq"}

    def ruleset(self, sha: str) -> dict[str, Any]:
        row = self.db.execute("SELECT sha256, id, version, year, canonical, ordered FROM rulesets WHERE sha256 = ?",
                              (sha,)).fetchone()
        if row is None:
            raise _problem(self.shown, f"the rule set sha256:{sha[:12]} is missing from the audit database")
        return {"sha256": row[0], "id": row[1], "version": row[2], "year": row[3], "canonical": unpack(row[4]),
                "ordered": unpack(row[5])}

    def units(self, seq: int, unit_id: Optional[str] = None) -> list[UnitRow]:
        sql = "SELECT unit_id, year, record, source, status, grade, raw, result_vi, result_en FROM results WHERE seq = ?"
        args: tuple = (seq,)
        if unit_id is not None:
            sql, args = sql + " AND unit_id = ?", (seq, unit_id)
        rows = self.db.execute(sql + " ORDER BY record, unit_id", args).fetchall()
        return [UnitRow(r[0], r[1], r[2], r[3], r[4], r[5], unpack(r[6]), unpack(r[7]), unpack(r[8])) for r in rows]

    def unit_history(self, unit_id: str, year: int) -> list[dict[str, Any]]:
        """Every entry about one unit's year, oldest first: the runs and appeals that graded it, the overrides."""
        rows = self.db.execute(
            "SELECT l.seq FROM ledger l WHERE l.year = ? AND (EXISTS (SELECT 1 FROM results r WHERE r.seq = l.seq "
            "AND r.unit_id = ?) OR EXISTS (SELECT 1 FROM overrides o WHERE o.seq = l.seq AND o.unit_id = ?)) "
            "ORDER BY l.seq", (year, unit_id, unit_id)).fetchall()
        return [self.entry(r[0]) for r in rows]

    def standing(self, unit_id: str, year: int) -> Optional[dict[str, Any]]:
        """A unit's year as it stands (the latest run or appeal, under any later override), without compiling anything."""
        graded = self.db.execute("SELECT r.seq, l.kind, r.status, r.grade, r.result_en FROM results r JOIN ledger l "
                                 "ON l.seq = r.seq WHERE r.unit_id = ? AND r.year = ? ORDER BY r.seq DESC LIMIT 1",
                                 (unit_id, year)).fetchone()
        if graded is None:
            return None
        seq, kind, status, grade, result = graded
        over = self.db.execute("SELECT o.seq, o.grade FROM overrides o JOIN ledger l ON l.seq = o.seq WHERE o.unit_id = ? "
                               "AND l.year = ? AND o.seq > ? ORDER BY o.seq DESC LIMIT 1", (unit_id, year, seq)).fetchone()
        if over is not None:
            seq, kind, grade = over[0], "override", over[1]
        return {"seq": seq, "kind": kind, "status": status, "grade": grade,
                "titles": json.loads(unpack(result))["titles"]}

    def latest_results(self, run_seq: int, year: int) -> dict[str, int]:
        """For each unit of a run, the newest record (that run or a later appeal) holding its result."""
        return dict(self.db.execute(
            "SELECT r.unit_id, MAX(s.seq) FROM results r JOIN results s ON s.unit_id = r.unit_id AND s.year = ? "
            "AND s.seq >= r.seq WHERE r.seq = ? GROUP BY r.unit_id ORDER BY r.record, r.unit_id", (year, run_seq)).fetchall())

    def units_known(self, year: int) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT unit_id FROM results WHERE year = ? ORDER BY unit_id",
                                              (year,)).fetchall()]

    # --- checking ----------------------------------------------------------------------

    def verify(self) -> Iterator[dict[str, Any]]:
        """Walk the chain; yields one finding per broken link (the first one is what matters)."""
        expected_seq, prev = 1, GENESIS
        checked: dict[str, Optional[str]] = {}  # a rule set shared by many records is checked once
        for seq, kind, year, at, by, content_sha, prev_sha, entry_sha in self.db.execute(
                "SELECT seq, kind, year, recorded_at, recorded_by, content_sha256, prev_sha256, entry_sha256 "
                "FROM ledger ORDER BY seq").fetchall():
            if seq != expected_seq:
                yield {"seq": expected_seq, "problem": f"record {expected_seq} is missing (the next one is {seq})"}
            if prev_sha != prev:
                yield {"seq": seq, "problem": f"record {seq} does not follow the record before it "
                                              "(its link to the previous hash is broken)"}
            if entry_hash(prev_sha, seq, kind, year, at, by, content_sha) != entry_sha:
                yield {"seq": seq, "problem": f"record {seq}'s header (kind, year, time, author or hash) was altered"}
            try:
                actual = sha256(self.rebuild(seq, kind, year, by).content())
            except (zlib.error, UnicodeDecodeError, ValueError, StoreError) as exc:
                yield {"seq": seq, "problem": f"record {seq}'s content cannot be read back: {exc}"}
            else:
                if actual != content_sha:
                    yield {"seq": seq, "problem": f"record {seq}'s content ({kind}) was altered: its rows no longer "
                                                  "match the hash recorded with it"}
                sha = self.detail(kind, seq).get("ruleset_sha256")
                if sha is not None and sha not in checked:
                    checked[sha] = self._ruleset_problem(sha)
                if sha is not None and checked[sha]:
                    yield {"seq": seq, "problem": f"record {seq}'s {checked[sha]}"}
            expected_seq, prev = seq + 1, entry_sha

    def rebuild(self, seq: int, kind: str, year: int, by: str) -> Entry:
        """The entry as it was appended, read back from its rows."""
        return Entry(kind, year, by, self.detail(kind, seq), self.units(seq))

    def _ruleset_problem(self, sha: str) -> Optional[str]:
        """What is wrong with a stored rule set, said after "record N's "; None when it is intact."""
        try:
            stored = self.ruleset(sha)
        except StoreError:
            return f"rule set sha256:{sha[:12]} is missing"
        if hashlib.sha256(stored["canonical"].encode("utf-8")).hexdigest() != sha:
            return f"rule set (sha256:{sha[:12]}) was altered: its text no longer has that hash"
        try:
            loaded = loaded_from_canonical(stored["canonical"], stored["ordered"], self.shown)
        except UserInputError:
            return f"rule set (sha256:{sha[:12]}) was altered: its readable copy no longer matches it"
        rs = loaded.ruleset
        if (stored["id"], stored["version"], stored["year"]) != (rs.id, rs.version, rs.year):
            return (f"rule set (sha256:{sha[:12]}) was relabelled: stored as {stored['id']} {stored['version']} "
                    f"({stored['year']}), but its text is {rs.id} {rs.version} ({rs.year})")
        return None

    def head(self) -> tuple[int, str]:
        row = self.db.execute("SELECT seq, entry_sha256 FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)


def _column(value: Any) -> Any:
    return canonical_json(value) if isinstance(value, (dict, list)) else value


def _value(name: str, value: Any) -> Any:
    if name in ("corrected", "cohort_effect", "facts_from") and isinstance(value, str):
        return json.loads(value)
    return value


def _test_pause() -> None:
    """Fault injection for the tests that kill a recording midway (never set in use)."""
    sys.stderr.write("recording: paused mid-transaction\n")
    sys.stderr.flush()
    time.sleep(float(os.environ["CDCS_TEST_PAUSE_MID_RECORD"]))


def open_store(path: Path, create: bool = True) -> Store:
    return Store(path, create)

