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

What a unit's result is stored as changed once (``results_layout`` of an entry):

- layout 1 (schema 1): each unit's record as read and its whole result in both languages,
  explanation included, as compressed canonical JSON (``results``); the entry's hash is
  of its sorted unit digests;
- layout 2 (schema 2): each unit's record as read and its decision as codes and numbers —
  status, grade, score, titles, verdict, each decision's outcome, the quota's arithmetic —
  in one compressed canonical JSON (``units``, about half a kilobyte a unit); sentences are
  made again from it when read.  The entry's hash is of its unit digests in record order,
  so that a run of a million units is hashed as it is written.

Files of either layout are read, verified and replayed; new entries are written in layout 2.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import json
import operator
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Optional

from engine.errors import Problem, UserInputError
from engine.model import Status
from engine.reading.loading import display_path, loaded_from_canonical

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
    # 2: results as data (layout 2): each unit's facts and decision in one compressed blob.
    """
    ALTER TABLE ledger ADD COLUMN results_layout INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE units (
        seq     INTEGER NOT NULL REFERENCES ledger (seq),
        record  INTEGER NOT NULL,
        unit_id TEXT NOT NULL,
        year    INTEGER NOT NULL,
        status  TEXT NOT NULL,
        grade   TEXT,
        data    BLOB NOT NULL,
        PRIMARY KEY (seq, record)
    ) WITHOUT ROWID;
    CREATE INDEX units_by_unit ON units (unit_id, year, seq);
    """,
]
LAYOUT = 2  # how this version writes results
COUNTED_EVERY = 1000  # units hashed again between two reports of a check's progress


class StoreError(UserInputError):
    """The audit file cannot be opened, is from a newer version, or holds no such record."""


def _problem(path: str, message: str) -> StoreError:
    return StoreError([Problem(path, message)])


# --- values as stored ------------------------------------------------------------------

_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_QUOTED = json.encoder.encode_basestring  # a text as the encoder above writes it (ensure_ascii off)


def canonical_json(value: Any) -> str:
    """The one JSON spelling hashes are taken of (one encoder, made once: json.dumps made one at every call)."""
    return _CANONICAL.encode(value)


def canonical_texts(record: dict) -> str:
    """``canonical_json(record)`` for a record of texts by name (a unit's facts as read), spelled from a template
    of its names in canonical order, made once for every record with the same names (a file's rows all have
    them): most of the time a recorded unit took.  Any other record is left to :func:`canonical_json`."""
    spelling = _names_spelled(tuple(record))
    if spelling is not None:
        values, template = spelling
        try:
            return template % tuple(map(_QUOTED, values(record)))
        except TypeError:  # a value that is not a text (JSON facts may be numbers)
            pass
    return canonical_json(record)


@functools.lru_cache(maxsize=64)
def _names_spelled(names: tuple) -> Optional[tuple[Callable[[dict], tuple], str]]:
    """What takes a record's values in canonical order, and the template they fill (``{"a":%s,"b":%s}``); None
    for fewer than two names (a getter of one gives no tuple) or any that is not a text."""
    if len(names) < 2 or not all(n.__class__ is str for n in names):
        return None
    order = sorted(names)
    return operator.itemgetter(*order), "{" + ",".join(_QUOTED(n).replace("%", "%%") + ":%s" for n in order) + "}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# --- units ------------------------------------------------------------------------------------

@dataclass
class UnitRow:
    """A unit as layout 1 stored it: its facts as read and its whole result in both languages."""

    unit_id: str
    year: int
    position: int  # the unit's number within its entry
    source: str
    status: Status
    grade: Optional[str]
    raw: str  # canonical JSON of the facts as read
    result_vi: str  # canonical JSON of the result, explanation included
    result_en: str

    def digest(self) -> list:
        return [self.unit_id, self.year, self.position, self.source, self.status, self.grade,
                sha256(self.raw), sha256(self.result_vi), sha256(self.result_en)]


@dataclass
class StoredUnit:
    """One unit of an entry, in either layout: its facts as read, and its result.

    ``data`` (layout 2) holds ``source``, ``facts`` (the record as read), ``cells`` (where
    each value was), ``history`` (facts taken from earlier years, and whence) and
    ``decision`` (codes and numbers); ``results`` (layout 1) the prose result per language.
    ``position`` numbers the unit within its entry; ``data["record"]``, when present, is the
    unit's own number in its source, where the two differ (an appeal's units come from
    several files).
    """

    unit_id: str
    year: int
    position: int
    status: Status
    grade: Optional[str]
    data: dict[str, Any]
    results: Optional[dict[str, dict]] = None

    @property
    def source(self) -> str:
        return self.data["source"]

    @property
    def facts(self) -> dict[str, Any]:
        return self.data["facts"]

    @property
    def read_at(self) -> int:
        """The unit's number in the source its facts were read from."""
        return self.data.get("record", self.position)

    @property
    def history(self) -> dict[str, str]:
        return self.data.get("history") or {}

    @property
    def decision(self) -> Optional[dict]:
        return self.data.get("decision")

    def digest(self, text: Optional[str] = None) -> str:
        """The line an entry's hash covers for this unit (layout 2)."""
        return canonical_json([self.position, self.unit_id, self.year, self.status, self.grade,
                               sha256(text if text is not None else canonical_json(self.data))])

    @staticmethod
    def from_layout1(row: UnitRow) -> "StoredUnit":
        stored = json.loads(row.raw)
        data = {"source": row.source, "facts": stored["record"], "cells": {"at": stored["cells"]},
                "history": stored.get("history", {})}
        return StoredUnit(row.unit_id, row.year, row.position, row.status, row.grade, data,
                          {"vi": json.loads(row.result_vi), "en": json.loads(row.result_en)})


def packing(fact_names: list[str]):
    """The preset dictionary units of a rule set are compressed with: what every unit's text repeats."""
    template = {"cells": {"columns": fact_names, "line": 0}, "decision": {}, "facts": dict.fromkeys(sorted(fact_names), ""),
                "history": {}, "source": ""}
    return canonical_json(template).encode("utf-8")


def pack_unit(text: str, dictionary: bytes) -> bytes:
    """A unit's text compressed against its rule set's dictionary, by a copy of a compressor that has read it."""
    packer = _primed(dictionary).copy()
    return b"\x02" + packer.compress(text.encode("utf-8")) + packer.flush()


@functools.lru_cache(maxsize=16)
def _primed(dictionary: bytes):
    """A compressor that has read the dictionary: copying it is cheaper than reading the dictionary again.

    Level 3, not 6: a third of the time for 7% more bytes (about 650 a unit); a window of 8 KiB (a unit's text
    and the dictionary are about 6) and memory level 5: zlib's defaults (32 KiB, 8) made buffers of 256 KiB
    for every unit, whose pages the system gave and took back each time (more time than compressing).  Whatever
    these are, :func:`unpack_unit` reads the stream: they change the packed bytes, never the text, which is what
    the hashes are of."""
    return zlib.compressobj(3, zlib.DEFLATED, 13, 5, zlib.Z_DEFAULT_STRATEGY, dictionary)


def unpack_unit(blob: bytes, dictionary: bytes) -> str:
    if blob[:1] != b"\x02":
        raise ValueError("unknown packing")
    unpacker = zlib.decompressobj(15, dictionary)
    return (unpacker.decompress(blob[1:]) + unpacker.flush()).decode("utf-8")


# --- entries written -------------------------------------------------------------------

EntryKind = Literal["run", "appeal", "override"]  # a grading, a corrected unit's re-grading, a committee's decision

@dataclass
class Entry:
    """What one ledger entry holds, before it has a sequence number."""

    kind: EntryKind
    year: int
    by: str
    detail: dict[str, Any]  # the kind's own row (runs / appeals / overrides), without seq
    units: list[StoredUnit] = field(default_factory=list)
    ruleset: Optional[dict[str, Any]] = None  # {sha256, id, version, year, canonical, ordered}


def content_hash(kind: str, year: int, detail: dict, units_sha: str) -> str:
    """What a layout-2 entry's content hash is of: its own row, and the hash of its units' digests in record order."""
    return sha256(canonical_json({"kind": kind, "year": year, "detail": detail, "layout": 2, "units_sha256": units_sha}))


def legacy_content_hash(kind: str, year: int, detail: dict, units: list[UnitRow]) -> str:
    """The same for layout 1: its own row, and every unit's digest, sorted."""
    return sha256(canonical_json({"kind": kind, "year": year, "detail": detail, "units": sorted(u.digest() for u in units)}))


def entry_hash(prev: str, seq: int, kind: str, year: int, at: str, by: str, content_sha: str, layout: int = 1) -> str:
    parts = [prev, str(seq), kind, str(year), at, by, content_sha] + ([str(layout)] if layout != 1 else [])
    return sha256("\n".join(parts))


class EntryWriter:
    """One entry being written, in one transaction: units are added one by one (and hashed as they come),
    the entry's own row at the end.  Leaving it with an exception writes nothing."""

    def __init__(self, store: "Store", kind: str, year: int, by: str, ruleset: Optional[dict[str, Any]]):
        self.store, self.kind, self.year, self.by, self.ruleset = store, kind, year, by, ruleset
        self.units_hash = hashlib.sha256()
        self.count = 0
        self.dictionary = packing(store.fact_names_of(ruleset)) if ruleset else b""

    def __enter__(self) -> "EntryWriter":
        db = self.store.db
        db.execute("BEGIN IMMEDIATE")  # takes the write lock now: the sequence number is ours
        db.execute("PRAGMA defer_foreign_keys = ON")  # the units come before the entry's own row
        last = db.execute("SELECT seq, entry_sha256 FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq, self.prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        return self

    def add(self, unit: StoredUnit) -> None:
        text = canonical_json(unit.data)
        self.add_packed(unit.position, unit.unit_id, unit.year, unit.status, unit.grade, pack_unit(text, self.dictionary),
                        unit.digest(text))

    def add_packed(self, record: int, unit_id: str, year: int, status: str, grade: Optional[str], blob: bytes,
                   digest: str) -> None:
        """A unit already packed (against this rule set's dictionary) and digested, by another process."""
        self.store.db.execute("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (self.seq, record, unit_id, year, status, grade, blob))
        self.units_hash.update((digest + "\n").encode("utf-8"))
        self.count += 1
        if self.count == 1:
            self.store.paused_mid_entry()

    def finish(self, detail: dict[str, Any]) -> int:
        db = self.store.db
        at = now()
        content_sha = content_hash(self.kind, self.year, detail, self.units_hash.hexdigest())
        db.execute("INSERT INTO ledger (seq, kind, year, recorded_at, recorded_by, content_sha256, prev_sha256, "
                   "entry_sha256, results_layout) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (self.seq, self.kind, self.year, at, self.by, content_sha, self.prev,
                    entry_hash(self.prev, self.seq, self.kind, self.year, at, self.by, content_sha, LAYOUT), LAYOUT))
        if self.ruleset is not None:
            rs = self.ruleset
            db.execute("INSERT OR IGNORE INTO rulesets VALUES (?, ?, ?, ?, ?, ?)",
                       (rs["sha256"], rs["id"], rs["version"], rs["year"], pack(rs["canonical"]), pack(rs["ordered"])))
        table = {"run": "runs", "appeal": "appeals", "override": "overrides"}[self.kind]
        columns = ["seq", *detail]
        db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                   [self.seq, *(_column(v) for v in detail.values())])
        db.execute("COMMIT")
        return self.seq

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None and self.store.db.in_transaction:
            self.store.db.execute("ROLLBACK")


# --- the file ---------------------------------------------------------------------------

class Store:
    """An open audit file; use as a context manager."""

    def __init__(self, path: Path, create: bool = True):
        self.path = path
        self.shown = display_path(path)
        self._names: dict[str, list[str]] = {}
        self._dictionaries: dict[int, bytes] = {}
        if not create and not path.exists():
            raise _problem(self.shown, "no audit database here; record a run first (cdcs grade FACTS --record)")
        try:
            self.db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._refuse_a_stranger(create)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.OperationalError as exc:  # the file is a database, this machine cannot use it now
            raise _problem(self.shown, f"cannot open the audit database: {exc} (a full disk, a folder that "
                                       "cannot be written, another program holding it?)") from None
        except sqlite3.DatabaseError as exc:
            raise _problem(self.shown, f"not a readable audit database: {exc}") from None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.db.close()
        if isinstance(value, sqlite3.OperationalError):  # a full disk, a read-only file: the transaction rolled back
            raise _problem(self.shown, f"cannot be written: {value}; nothing of this command was recorded and the "
                                       "audit database is as it was (free some space, or give --db another place)") from None

    def _refuse_a_stranger(self, create: bool) -> None:
        """Before anything is written: another application's database is never made a ledger, and a question
        asked of a file that holds no ledger is answered with that, not with an empty ledger made for it."""
        if self.db.execute("PRAGMA user_version").fetchone()[0] != 0:
            return
        tables = [r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        if tables:
            self.db.close()
            shown = ", ".join(tables[:4]) + (", …" if len(tables) > 4 else "")
            raise _problem(self.shown, f"not a cdcs audit database: it holds another application's tables ({shown}); "
                                       "nothing was written to it. Give --db a new file")
        if not create:
            self.db.close()
            raise _problem(self.shown, "no audit database here (the file is empty); record a run first "
                                       "(cdcs grade FACTS --record)")

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

    # --- writing ---------------------------------------------------------------------

    def writing(self, kind: str, year: int, by: str, ruleset: Optional[dict[str, Any]] = None) -> EntryWriter:
        return EntryWriter(self, kind, year, by, ruleset)

    def append(self, entry: Entry) -> int:
        """Write one entry and all its units in one transaction; returns its sequence number."""
        with self.writing(entry.kind, entry.year, entry.by, entry.ruleset) as writer:
            for unit in sorted(entry.units, key=lambda u: u.position):
                writer.add(unit)
            return writer.finish(entry.detail)

    def paused_mid_entry(self) -> None:
        """Called with an entry's first unit written and nothing committed (a test's moment to interrupt)."""

    # --- reading ---------------------------------------------------------------------

    def entries(self, year: Optional[int] = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, kind, year, recorded_at, recorded_by, entry_sha256 FROM ledger"
        rows = self.db.execute(sql + (" WHERE year = ? ORDER BY seq" if year is not None else " ORDER BY seq"),
                               (year,) if year is not None else ()).fetchall()
        return [dict(zip(("seq", "kind", "year", "recorded_at", "recorded_by", "entry_sha256"), r)) for r in rows]

    def entry(self, seq: int) -> dict[str, Any]:
        row = self.db.execute("SELECT seq, kind, year, recorded_at, recorded_by, content_sha256, prev_sha256, "
                              "entry_sha256, results_layout FROM ledger WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise _problem(self.shown, f"no record {seq} in the audit database")
        out = dict(zip(("seq", "kind", "year", "recorded_at", "recorded_by", "content_sha256", "prev_sha256",
                        "entry_sha256", "results_layout"), row))
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

    def fact_names_of(self, ruleset: Optional[dict[str, Any]]) -> list[str]:
        """The fact names of a rule set's catalogue, in its order (what units are compressed against)."""
        if ruleset is None:
            return []
        sha = ruleset["sha256"]
        if sha not in self._names:
            self._names[sha] = list(json.loads(ruleset["ordered"])["catalogue"]["facts"])
        return self._names[sha]

    def _dictionary(self, seq: int) -> bytes:
        """The preset dictionary of a record's units, made once per record: a record never changes its rule set."""
        if seq not in self._dictionaries:
            row = self.db.execute("SELECT kind FROM ledger WHERE seq = ?", (seq,)).fetchone()
            sha = self.detail(row[0], seq).get("ruleset_sha256") if row else None
            if sha is None:
                raise _problem(self.shown, f"record {seq} names no rule set: its units cannot be read")
            if sha not in self._names:
                self.fact_names_of(self.ruleset(sha))
            self._dictionaries[seq] = packing(self._names[sha])
        return self._dictionaries[seq]

    def units(self, seq: int, unit_id: Optional[str] = None) -> list[StoredUnit]:
        """An entry's units in record order, whichever layout stored them."""
        legacy = self.legacy_units(seq, unit_id)
        if legacy:
            return [StoredUnit.from_layout1(row) for row in legacy]
        sql = "SELECT unit_id, year, record, status, grade, data FROM units WHERE seq = ?"
        args: tuple = (seq,)
        if unit_id is not None:  # by the unit's index: the primary key would read every unit of the record
            sql = "SELECT unit_id, year, record, status, grade, data FROM units INDEXED BY units_by_unit " \
                  "WHERE seq = ? AND unit_id = ?"
            args = (seq, unit_id)
        rows = self.db.execute(sql + " ORDER BY record", args).fetchall()
        if not rows:
            return []
        dictionary = self._dictionary(seq)
        return [StoredUnit(r[0], r[1], r[2], r[3], r[4], json.loads(unpack_unit(r[5], dictionary))) for r in rows]

    def iter_units(self, seq: int) -> Iterator[StoredUnit]:
        """An entry's units stored as data (layout 2), one at a time, in record order."""
        cursor = self.db.execute("SELECT unit_id, year, record, status, grade, data FROM units WHERE seq = ? "
                                 "ORDER BY record", (seq,))
        dictionary = None
        for r in cursor:
            if dictionary is None:
                dictionary = self._dictionary(seq)
            yield StoredUnit(r[0], r[1], r[2], r[3], r[4], json.loads(unpack_unit(r[5], dictionary)))

    def iter_packed(self, seq: int) -> Iterator[tuple[int, bytes]]:
        """An entry's units stored as data (layout 2), as stored: each one's number and packed data, in record order;
        unpacked with the rule set's dictionary (:func:`packing`) wherever they are read."""
        yield from self.db.execute("SELECT record, data FROM units WHERE seq = ? ORDER BY record", (seq,))

    def legacy_units(self, seq: int, unit_id: Optional[str] = None) -> list[UnitRow]:
        sql = "SELECT unit_id, year, record, source, status, grade, raw, result_vi, result_en FROM results WHERE seq = ?"
        args: tuple = (seq,)
        if unit_id is not None:
            sql, args = sql + " AND unit_id = ?", (seq, unit_id)
        rows = self.db.execute(sql + " ORDER BY record, unit_id", args).fetchall()
        return [UnitRow(r[0], r[1], r[2], r[3], r[4], r[5], unpack(r[6]), unpack(r[7]), unpack(r[8])) for r in rows]

    _GRADED = "SELECT seq, unit_id, year, status, grade FROM results UNION ALL SELECT seq, unit_id, year, status, grade FROM units"

    def unit_history(self, unit_id: str, year: int) -> list[dict[str, Any]]:
        """Every entry about one unit's year, oldest first: the runs and appeals that graded it, the overrides."""
        rows = self.db.execute(
            f"SELECT l.seq FROM ledger l WHERE l.year = ? AND (EXISTS (SELECT 1 FROM ({self._GRADED}) r WHERE r.seq = l.seq "
            "AND r.unit_id = ?) OR EXISTS (SELECT 1 FROM overrides o WHERE o.seq = l.seq AND o.unit_id = ?)) "
            "ORDER BY l.seq", (year, unit_id, unit_id)).fetchall()
        return [self.entry(r[0]) for r in rows]

    def standing(self, unit_id: str, year: int) -> Optional[dict[str, Any]]:
        """A unit's year as it stands (the latest run or appeal, under any later override), without compiling anything."""
        graded = self.db.execute(f"SELECT r.seq, l.kind, r.status, r.grade FROM ({self._GRADED}) r JOIN ledger l "
                                 "ON l.seq = r.seq WHERE r.unit_id = ? AND r.year = ? ORDER BY r.seq DESC LIMIT 1",
                                 (unit_id, year)).fetchone()
        if graded is None:
            return None
        seq, kind, status, grade = graded
        unit = self.units(seq, unit_id)[0]
        titles = unit.results["en"]["titles"] if unit.results is not None else unit.decision["titles"]
        over = self.db.execute("SELECT o.seq, o.grade FROM overrides o JOIN ledger l ON l.seq = o.seq WHERE o.unit_id = ? "
                               "AND l.year = ? AND o.seq > ? ORDER BY o.seq DESC LIMIT 1", (unit_id, year, seq)).fetchone()
        if over is not None:
            seq, kind, grade = over[0], "override", over[1]
        return {"seq": seq, "kind": kind, "status": status, "grade": grade, "titles": titles}

    def has_year(self, year: int) -> bool:
        """Whether any unit's result for ``year`` is recorded."""
        return self.db.execute(f"SELECT 1 FROM ({self._GRADED}) WHERE year = ? LIMIT 1", (year,)).fetchone() is not None

    def latest_results(self, run_seq: int, year: int) -> dict[str, int]:
        """For each unit of a run, in the order of its id, the newest record of the year (that run, a later appeal or
        run) holding its result.  Two passes, not a join: the join compared every unit with every other."""
        later_seqs = "SELECT seq FROM ledger WHERE year = ? AND seq > ?"
        later = dict(self.db.execute(
            f"SELECT unit_id, MAX(seq) FROM (SELECT seq, unit_id FROM results WHERE seq IN ({later_seqs}) UNION ALL "
            f"SELECT seq, unit_id FROM units WHERE seq IN ({later_seqs})) GROUP BY unit_id",
            (year, run_seq, year, run_seq)).fetchall())
        ran = self.db.execute(f"SELECT DISTINCT unit_id FROM ({self._GRADED}) WHERE seq = ? ORDER BY unit_id", (run_seq,))
        return {unit_id: later.get(unit_id, run_seq) for (unit_id,) in ran}

    def units_known(self, year: int) -> list[str]:
        return [r[0] for r in self.db.execute(f"SELECT DISTINCT unit_id FROM ({self._GRADED}) WHERE year = ? "
                                              "ORDER BY unit_id", (year,)).fetchall()]

    # --- checking ----------------------------------------------------------------------

    def verify(self, only: Optional[set[int]] = None,
               progress: Optional[Callable[[int], None]] = None) -> Iterator[dict[str, Any]]:
        """Walk the chain; yields one finding per broken link (the first one is what matters).

        ``only``: the records whose content is checked (every header and link is); what a question shows.
        ``progress``: told how many units have been hashed again so far (years of national runs take minutes)."""
        expected_seq, prev = 1, GENESIS
        hashed = 0

        def counted(units: int) -> None:
            nonlocal hashed
            hashed += units
            if progress is not None:
                progress(hashed)

        checked: dict[str, Optional[str]] = {}  # a rule set shared by many records is checked once
        for seq, kind, year, at, by, content_sha, prev_sha, entry_sha, layout in self.db.execute(
                "SELECT seq, kind, year, recorded_at, recorded_by, content_sha256, prev_sha256, entry_sha256, "
                "results_layout FROM ledger ORDER BY seq").fetchall():
            if seq != expected_seq:
                yield {"seq": expected_seq, "problem": f"record {expected_seq} is missing (the next one is {seq})"}
            if prev_sha != prev:
                yield {"seq": seq, "problem": f"record {seq} does not follow the record before it "
                                              "(its link to the previous hash is broken)"}
            if entry_hash(prev_sha, seq, kind, year, at, by, content_sha, layout) != entry_sha:
                yield {"seq": seq, "problem": f"record {seq}'s header (kind, year, time, author or hash) was altered"}
            if only is not None and seq not in only:
                expected_seq, prev = seq + 1, entry_sha
                continue
            try:
                actual = self.content_sha(seq, kind, year, layout, counted)
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

    def content_sha(self, seq: int, kind: str, year: int, layout: int,
                    counted: Optional[Callable[[int], None]] = None) -> str:
        """The content hash of an entry, worked out again from its rows as they are now; ``counted`` is told of
        every ``COUNTED_EVERY`` units."""
        detail = self.detail(kind, seq)
        legacy = self.legacy_units(seq)
        if layout == 1:
            return legacy_content_hash(kind, year, detail, legacy)
        if legacy:
            raise ValueError("layout-2 record with layout-1 rows")
        units = hashlib.sha256()
        rows = self.db.execute("SELECT unit_id, year, record, status, grade, data FROM units WHERE seq = ? ORDER BY record",
                               (seq,))  # one row at a time: a run of a million units is most of a gigabyte
        dictionary = b""
        n = 0
        for n, r in enumerate(rows, start=1):
            dictionary = dictionary or self._dictionary(seq)
            text = unpack_unit(r[5], dictionary)
            units.update((StoredUnit(r[0], r[1], r[2], r[3], r[4], {}).digest(text) + "\n").encode("utf-8"))
            if counted is not None and n % COUNTED_EVERY == 0:
                counted(COUNTED_EVERY)
        if counted is not None and n % COUNTED_EVERY:  # the rest: the count ends on the record's number of units
            counted(n % COUNTED_EVERY)
        return content_hash(kind, year, detail, units.hexdigest())

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
