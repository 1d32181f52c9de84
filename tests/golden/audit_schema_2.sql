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
    )
CREATE TABLE ledger (
        seq            INTEGER PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('run', 'appeal', 'override')),
        year           INTEGER NOT NULL,
        recorded_at    TEXT NOT NULL,
        recorded_by    TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        prev_sha256    TEXT NOT NULL,
        entry_sha256   TEXT NOT NULL UNIQUE
    , results_layout INTEGER NOT NULL DEFAULT 1)
CREATE INDEX ledger_by_year ON ledger (year, seq)
CREATE TABLE overrides (
        seq          INTEGER PRIMARY KEY REFERENCES ledger (seq),
        unit_id      TEXT NOT NULL,
        grade        TEXT NOT NULL,
        reason       TEXT NOT NULL,
        replaces_seq INTEGER NOT NULL REFERENCES ledger (seq)
    )
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
    )
CREATE INDEX results_by_unit ON results (unit_id, year, seq)
CREATE TABLE rulesets (
        sha256    TEXT PRIMARY KEY,
        id        TEXT NOT NULL,
        version   TEXT NOT NULL,
        year      INTEGER NOT NULL,
        canonical BLOB NOT NULL,
        ordered   BLOB NOT NULL
    )
CREATE TABLE runs (
        seq            INTEGER PRIMARY KEY REFERENCES ledger (seq),
        ruleset_sha256 TEXT NOT NULL REFERENCES rulesets (sha256),
        engine_version TEXT NOT NULL,
        facts_source   TEXT NOT NULL,
        facts_sha256   TEXT NOT NULL,
        units          INTEGER NOT NULL
    )
CREATE TABLE units (
        seq     INTEGER NOT NULL REFERENCES ledger (seq),
        record  INTEGER NOT NULL,
        unit_id TEXT NOT NULL,
        year    INTEGER NOT NULL,
        status  TEXT NOT NULL,
        grade   TEXT,
        data    BLOB NOT NULL,
        PRIMARY KEY (seq, record)
    ) WITHOUT ROWID
CREATE INDEX units_by_unit ON units (unit_id, year, seq)
