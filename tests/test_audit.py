"""The audit ledger through the real CLI on real SQLite files: record, why, replay, verify, appeal, override.

Tampering is done the way an insider would: by editing the database file with sqlite3.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import unicodedata
import zlib
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs
from engine.review import audit
from engine.pipeline import run
from engine.ledger import store as store_module
from engine.ledger.store import MIGRATIONS, Store, pack_unit, unpack_unit
from conftest import identity, newest

PROVINCE = "examples/province_2024.csv"


def record(db: Path, facts: str = PROVINCE, by: str = "Nguyễn Văn A", *extra: str):
    run = run_cdcs("grade", facts, "--record", "--db", str(db), "--by", by, "--format", "json", *extra)
    assert run.code == 0, run
    return run


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, dict]:
    """The 2024 example province recorded once; tests that change the file work on a copy."""
    db = tmp_path_factory.mktemp("ledger") / "audit.sqlite"
    run = record(db)
    assert "recorded as run #1 in" in run.stderr
    return db, json.loads(run.stdout)


@pytest.fixture
def ledger(recorded, tmp_path) -> Path:
    copy = tmp_path / "audit.sqlite"
    shutil.copy(recorded[0], copy)
    return copy


def why(db: Path, unit: str, year: int = 2024, cwd: Path = REPO, *extra: str) -> dict:
    run = run_cdcs("why", unit, "--year", str(year), "--db", str(db), "--format", "json", *extra, cwd=cwd)
    assert run.code == 0, run
    return json.loads(run.stdout)


def sql(db: Path, statement: str, *args) -> list:
    with sqlite3.connect(db) as con:
        rows = con.execute(statement, args).fetchall()
    con.close()
    return rows


# --- record, why, replay ----------------------------------------------------------------------

def stored_units(db: Path, seq: int = 1) -> dict:
    with Store(db) as store:
        return {u.unit_id: u for u in store.units(seq)}


def test_the_stored_decision_is_the_graded_result_as_data(recorded):
    """Each unit is stored as its record as read and its decision in codes and numbers, never as prose."""
    db, graded = recorded
    stored = stored_units(db)
    assert len(stored) == 60
    with open(REPO / PROVINCE, encoding="utf-8", newline="") as f:
        rows = {row["unit_id"]: row for row in csv.DictReader(f)}
    for result in graded["results"]:
        unit = stored[result["unit_id"]]
        decision = unit.decision
        assert (decision["status"], decision["grade"], decision["titles"], decision["verdict"]) == \
            (result["status"], result["grade"], result["titles"], result["financial_audit"]["verdict"])
        assert decision["score"] == (None if result["score"] is None else round(result["score"] * 100))
        assert decision["quota"] == result["quota"] and unit.facts["unit_id"] == result["unit_id"]
        assert unit.facts == rows[result["unit_id"]]  # the record exactly as read
        assert set(decision["outcomes"]) <= {"T", "F", "?"} and "explanation" not in json.dumps(unit.data)
    bytes_per_unit = db.stat().st_size / 60
    assert bytes_per_unit < 4096, bytes_per_unit  # the whole file; about half a kilobyte is the units'


def test_why_makes_the_explanation_again_exactly_as_it_was_graded(recorded):
    db, graded = recorded
    for unit_id in ("HL-BV06", "HL-BV05", "HL-TT03", "HL-TTYT04", "HL-BV08"):  # good, demoted, invalid, not graded, veto
        expected = next(r for r in graded["results"] if r["unit_id"] == unit_id)
        assert why(db, unit_id)["result"] == expected, unit_id


def test_why_answers_from_the_ledger_alone_without_rule_files(recorded, tmp_path):
    db, graded = recorded
    elsewhere = tmp_path / "no-rules-here"
    elsewhere.mkdir()
    doc = why(db, "HL-BV06", cwd=elsewhere)
    expected = next(r for r in graded["results"] if r["unit_id"] == "HL-BV06")
    assert doc["grade"] == expected["grade"] == "good" and doc["result"] == expected
    assert doc["ruleset"] == graded["ruleset"]
    assert doc["decided_by"]["recorded_by"] == "Nguyễn Văn A" and doc["decided_by"]["kind"] == "run"
    assert doc["decided_by"]["facts_source"] == PROVINCE and doc["decided_by"]["record"] == 9
    assert [h["kind"] for h in doc["history"]] == ["run"]
    text = run_cdcs("why", "HL-BV06", "--year", "2024", "--db", str(db), "--lang", "en", cwd=elsewhere)
    assert text.code == 0 and text.stdout.startswith("HL-BV06 — 2024: Good\n"), text
    version, sha = identity(newest(2024))
    assert f"Rule set cdcs_health {version} (sha256 {sha[:12]}" in text.stdout and "Excellent (>= 90)" in text.stdout
    assert doc["result_from"] == "decision"  # no prose was stored: the reader is told it was made again
    assert "\nExplanation (made again from the recorded rule set and facts; it reaches the recorded decision):\n" \
        in text.stdout and "Stored explanation" not in text.stdout


def test_why_gives_the_same_answer_every_time(recorded):
    db, _ = recorded
    first = run_cdcs("why", "HL-TTYT05", "--year", "2024", "--db", str(db))
    assert first.code == 0 and run_cdcs("why", "HL-TTYT05", "--year", "2024", "--db", str(db)).stdout_bytes == first.stdout_bytes


def test_replay_of_the_projects_runs_finds_no_difference(ledger):
    record(ledger, "examples/province_2025.xlsx", "Trần Thị B")
    for seq in ("1", "2"):
        run = run_cdcs("audit", "replay", seq, "--db", str(ledger))
        assert run.code == 0 and "every decision is the one stored, outcome for outcome" in run.stdout, run


def test_an_unknown_unit_or_year_is_answered_with_what_there_is(recorded):
    db, _ = recorded
    run = run_cdcs("why", "HL-BV6", "--year", "2024", "--db", str(db))
    assert run.code == 1 and "no recorded result for unit 'HL-BV6' in 2024. Did you mean 'HL-BV06'?" in run.stderr, run
    run = run_cdcs("why", "HL-BV06", "--year", "2023", "--db", str(db))
    assert run.code == 1 and "Years recorded: 2024" in run.stderr, run
    run = run_cdcs("why", "HL-BV06", "--year", "2024", "--db", str(db.parent / "none.sqlite"))
    assert run.code == 1 and "no audit database here" in run.stderr and not (db.parent / "none.sqlite").exists(), run
    assert_no_traceback(run)


# --- tamper evidence ----------------------------------------------------------------------------

def verify(db: Path):
    return run_cdcs("audit", "verify", "--db", str(db))


def test_an_intact_ledger_verifies_and_prints_its_head(recorded):
    run = verify(recorded[0])
    assert run.code == 0 and "1 records, chain intact; head #1 sha256 " in run.stdout, run


@pytest.mark.parametrize("edit, words", [
    ("UPDATE units SET grade = 'excellent' WHERE unit_id = 'HL-BV06'", "record 1's content (run) was altered"),
    ("UPDATE units SET status = 'graded' WHERE unit_id = 'HL-TT03'", "record 1's content (run) was altered"),
    ("UPDATE ledger SET recorded_by = 'someone else' WHERE seq = 1", "record 1's header"),
    ("UPDATE runs SET facts_source = 'other.csv' WHERE seq = 1", "record 1's content (run) was altered"),
], ids=["grade", "status", "author", "facts-source"])
def test_an_edited_row_is_found(ledger, edit, words):
    sql(ledger, edit)
    run = verify(ledger)
    assert run.code == 1 and words in run.stderr, run
    assert_no_traceback(run)


def test_a_replay_in_processes_finds_what_one_process_finds(ledger, monkeypatch):
    """The workers unpack the stored units and send each stored decision back beside the new one."""
    with Store(ledger) as store:
        dictionary = store._dictionary(1)
    for unit_id, before, after in (("HL-BV06", '"score":8950', '"score":9000'), ("HL-TTYT03", '"grade":"excellent"', '"grade":"good"')):
        (blob,) = sql(ledger, "SELECT data FROM units WHERE unit_id = ?", unit_id)[0]
        text = unpack_unit(blob, dictionary)
        assert before in text
        sql(ledger, "UPDATE units SET data = ? WHERE unit_id = ?", pack_unit(text.replace(before, after), dictionary), unit_id)
    found = []
    for jobs, chunk, in_process_up_to in ((1, run.CHUNK, run.IN_PROCESS_UP_TO), (2, 7, 0)):  # then real processes
        monkeypatch.setattr(run, "CHUNK", chunk)
        monkeypatch.setattr(run, "IN_PROCESS_UP_TO", in_process_up_to)
        with Store(ledger) as store:
            found.append(audit.replay(store, 1, jobs).differences)
    assert found[0] == found[1] == [{"unit_id": "HL-BV06", "fields": ["score"]},
                                    {"unit_id": "HL-TTYT03", "fields": ["grade"]}]


def test_a_replay_of_a_run_missing_a_unit_says_so(ledger):
    sql(ledger, "DELETE FROM units WHERE seq = 1 AND unit_id = 'HL-BV06'")
    replayed = run_cdcs("audit", "replay", "1", "--db", str(ledger))
    assert replayed.code == 1 and "59 units graded again of the 60 recorded" in replayed.stdout, replayed


def test_a_check_of_the_ledger_counts_the_units_it_hashes_again(ledger, monkeypatch):
    """What a terminal is shown while years of national runs are checked (every 1,000 units; here every 7)."""
    overridden = run_cdcs("override", "HL-BV08", "--year", "2024", "--grade", "completed", "--db", str(ledger),
                          "--reason", "x")  # a record that holds no units
    assert overridden.code == 0, overridden
    monkeypatch.setattr(store_module, "COUNTED_EVERY", 7)
    told: list[int] = []
    with Store(ledger) as store:
        assert list(store.verify(progress=told.append)) == []
    assert told == [*range(7, 60, 7), 60]  # the 60 units of the example's run, and none more


def test_an_edited_decision_is_found_and_replay_shows_it(ledger):
    with Store(ledger) as store:
        dictionary = store._dictionary(1)
    (blob,) = sql(ledger, "SELECT data FROM units WHERE unit_id = 'HL-BV06'")[0]
    text = unpack_unit(blob, dictionary).replace('"score":8950', '"score":9000')
    assert '"score":9000' in text
    sql(ledger, "UPDATE units SET data = ? WHERE unit_id = 'HL-BV06'", pack_unit(text, dictionary))
    assert "record 1's content (run) was altered" in verify(ledger).stderr
    replayed = run_cdcs("audit", "replay", "1", "--db", str(ledger))
    assert replayed.code == 1 and "HL-BV06  score" in replayed.stdout, replayed
    shown = run_cdcs("why", "HL-BV06", "--year", "2024", "--db", str(ledger))
    assert shown.code == 1 and "no longer reaches the decision recorded for it" in shown.stderr, shown


def test_why_and_export_say_loudly_that_what_they_show_fails_verification(ledger):
    """An edit that changes no decision (the unit's name) is still found by the questions that show it."""
    with Store(ledger) as store:
        dictionary = store._dictionary(1)
    (blob,) = sql(ledger, "SELECT data FROM units WHERE unit_id = 'HL-BV06'")[0]
    text = unpack_unit(blob, dictionary)
    name = json.loads(text)["facts"]["name"]
    sql(ledger, "UPDATE units SET data = ? WHERE unit_id = 'HL-BV06'",
        pack_unit(text.replace(name, "Công đoàn Đã Sửa"), dictionary))
    for command in (["why", "HL-BV06", "--year", "2024"], ["why", "HL-BV06", "--year", "2024", "--format", "json"],
                    ["audit", "export", "--record", "1"], ["audit", "export", "--unit", "HL-BV06", "--year", "2024"]):
        run = run_cdcs(*command, "--db", str(ledger))
        assert_no_traceback(run)
        assert run.code == 1, run
        assert "record 1's content (run) was altered" in run.stderr and "cannot be trusted" in run.stderr, run
    untouched = run_cdcs("why", "HL-BV01", "--year", "2024", "--db", str(ledger))
    assert untouched.code == 1, untouched  # the same record holds it: it fails as a whole


def test_an_edited_rule_set_is_found(ledger):
    (blob,) = sql(ledger, "SELECT canonical FROM rulesets")[0]
    text = zlib.decompress(blob).decode().replace('"min_score":"90"', '"min_score":"80"')
    assert '"min_score":"80"' in text
    sql(ledger, "UPDATE rulesets SET canonical = ?", zlib.compress(text.encode()))
    run = verify(ledger)
    assert run.code == 1 and f"record 1's rule set (sha256:{identity(newest(2024))[1][:12]}) was altered" in run.stderr, run


def test_a_removed_record_is_found(ledger):
    record(ledger, "examples/province_2025.csv")
    record(ledger, PROVINCE)
    for table in ("units", "runs", "ledger"):
        sql(ledger, f"DELETE FROM {table} WHERE seq = 2")
    run = verify(ledger)
    assert run.code == 1 and "record 2 is missing (the next one is 3)" in run.stderr, run


# --- one run, one transaction; two writers ---------------------------------------------------

def _recording(db: Path, pause: str) -> subprocess.Popen:
    """A recording that stops with its first unit written and nothing committed (tests/faults/sitecustomize.py)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "faults"), str(REPO)]),
               CDCS_TEST_PAUSE_MID_RECORD=pause)
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "grade", PROVINCE, "--record", "--db", str(db)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_run_killed_mid_record_leaves_no_partial_run(ledger):
    process = _recording(ledger, "60")
    line = process.stderr.readline().decode()
    assert "paused mid-transaction" in line, line  # a unit is written, nothing committed
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert sql(ledger, "SELECT COUNT(*) FROM ledger") == [(1,)]
    assert sql(ledger, "SELECT COUNT(*) FROM units WHERE seq <> 1") == [(0,)]
    assert sql(ledger, "PRAGMA integrity_check") == [("ok",)]
    assert verify(ledger).code == 0
    again = record(ledger)  # nothing left locked
    assert "recorded as run #2" in again.stderr


def test_two_processes_recording_at_once_both_succeed(ledger):
    first, second = _recording(ledger, "1"), _recording(ledger, "1")
    assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    assert second.wait(timeout=120) == 0, second.stderr.read().decode()
    assert sql(ledger, "SELECT seq, kind FROM ledger ORDER BY seq") == [(1, "run"), (2, "run"), (3, "run")]
    assert sql(ledger, "SELECT COUNT(*) FROM units") == [(180,)]
    assert verify(ledger).code == 0


# --- schema versions ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [1, 2])
def test_the_released_schemas_are_never_edited(version):
    """Migrations are append-only: each schema stays what its golden file says, so old files keep opening."""
    golden = (REPO / "tests" / "golden" / f"audit_schema_{version}.sql").read_text(encoding="utf-8")
    with sqlite3.connect(":memory:") as con:
        for migration in MIGRATIONS[:version]:
            con.executescript(migration)
        rows = con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
    assert "\n".join(r[0] for r in rows) + "\n" == golden


def test_a_new_ledger_has_the_newest_schema(recorded):
    assert sql(recorded[0], "PRAGMA user_version") == [(len(MIGRATIONS),)]


def test_a_ledger_of_the_first_release_is_read_verified_and_replayed(tmp_path):
    """Written with results as prose (schema 1): opened (and so migrated), it still answers and verifies."""
    old = tmp_path / "audit.sqlite"
    shutil.copy(REPO / "tests" / "golden" / "ledger_schema_1.sqlite", old)
    assert sql(old, "PRAGMA user_version") == [(1,)]
    run = verify(old)
    assert run.code == 0 and "3 records, chain intact" in run.stdout, run
    assert sql(old, "PRAGMA user_version") == [(len(MIGRATIONS),)] and sql(old, "SELECT COUNT(*) FROM results") == [(61,)]
    doc = why(old, "HL-BV06")
    assert doc["decided_by"]["kind"] == "appeal" and doc["result"]["score"] == 94.5  # the stored prose, as stored
    assert doc["result_from"] == "stored"
    text = run_cdcs("why", "HL-BV06", "--year", "2024", "--db", str(old), "--lang", "en")
    assert text.code == 0 and "\nStored explanation:\n" in text.stdout, text
    for seq in ("1", "2"):
        replayed = run_cdcs("audit", "replay", seq, "--db", str(old))
        assert replayed.code == 0 and "every decision is the one stored" in replayed.stdout, replayed
    record(old)  # a new run in the new layout, chained after the old ones
    assert verify(old).code == 0 and sql(old, "SELECT COUNT(*) FROM units") == [(60,)]
    assert why(old, "HL-BV06")["decided_by"]["seq"] == 4


def test_a_file_from_a_newer_version_is_refused_unread(ledger):
    sql(ledger, "PRAGMA user_version = 7")
    run = verify(ledger)
    assert run.code == 1 and f"schema version 7, written by a newer cdcs; this version reads up to {len(MIGRATIONS)}" \
        in run.stderr, run


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    bogus = tmp_path / "audit.sqlite"
    bogus.write_text("not a database", encoding="utf-8")
    run = verify(bogus)
    assert run.code == 1 and "not a readable audit database" in run.stderr, run
    assert_no_traceback(run)


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "log"], ["why", "HL-BV01", "--year", "2024"],
                                     ["audit", "export", "--record", "1"], ["grade", PROVINCE, "--record"]],
                         ids=["verify", "log", "why", "export", "grade_record"])
def test_another_applications_database_is_refused_and_left_untouched(tmp_path, command):
    other = tmp_path / "customers.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'Công ty A')")
    con.commit()
    con.close()
    before = other.read_bytes()
    run = run_cdcs(*command, "--db", str(other))
    assert_no_traceback(run)
    assert run.code == 1 and "not a cdcs audit database: it holds another application's tables (customers)" \
        in run.stderr, run
    assert other.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["customers.sqlite"]


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "log"], ["why", "HL-BV01", "--year", "2024"]],
                         ids=["verify", "log", "why"])
def test_a_question_asked_of_an_empty_file_says_there_is_no_ledger_and_writes_nothing(tmp_path, command):
    empty = tmp_path / "audit.sqlite"
    empty.write_bytes(b"")
    run = run_cdcs(*command, "--db", str(empty))
    assert_no_traceback(run)
    assert run.code == 1 and "no audit database here (the file is empty)" in run.stderr, run
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["audit.sqlite"]


def test_an_empty_file_can_be_made_a_ledger_by_recording(tmp_path):
    empty = tmp_path / "audit.sqlite"
    empty.write_bytes(b"")
    assert run_cdcs("grade", PROVINCE, "--record", "--db", str(empty)).code == 0
    assert verify(empty).code == 0 and sql(empty, "SELECT COUNT(*) FROM ledger") == [(1,)]


def test_duplicate_unit_ids_are_not_recorded(tmp_path):
    rows = (REPO / PROVINCE).read_text(encoding="utf-8").splitlines()
    facts = tmp_path / "twice.csv"
    facts.write_text("\n".join(rows + [rows[1]]) + "\n", encoding="utf-8")
    db = tmp_path / "audit.sqlite"
    run = run_cdcs("grade", str(facts), "--record", "--db", str(db))
    assert run.code == 1 and "not recorded: unit id HL-VP01 appear" in run.stderr, run
    assert not db.exists() or sql(db, "SELECT COUNT(*) FROM ledger") == [(0,)]


# --- appeals and overrides ---------------------------------------------------------------------------

def _corrections(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corrected.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_appeal_supersedes_the_result_and_keeps_the_earlier_one(ledger, tmp_path):
    facts = _corrections(tmp_path, "unit_id,members_informed_pct\nHL-BV06,100\n")
    run = run_cdcs("appeal", "HL-BV06", "--year", "2024", "--facts", str(facts), "--db", str(ledger),
                   "--reason", "Biên bản phổ biến nghị quyết bị bỏ sót", "--by", "Hội đồng thi đua")
    assert run.code == 0 and "members_informed_pct: 95 → 100" in run.stdout, run
    doc = why(ledger, "HL-BV06")
    assert [h["kind"] for h in doc["history"]] == ["run", "appeal"]
    assert doc["history"][1]["reason"] == "Biên bản phổ biến nghị quyết bị bỏ sót"
    assert doc["history"][1]["corrected"] == {"members_informed_pct": ["95", "100"]}
    assert doc["decided_by"]["kind"] == "appeal" and doc["result"]["score"] == 94.5
    assert run_cdcs("audit", "replay", "2", "--db", str(ledger)).code == 0
    assert verify(ledger).code == 0


def test_an_appeal_that_would_move_another_unit_is_shown_and_not_recorded_until_applied(ledger, tmp_path):
    facts = _corrections(tmp_path, "unit_id,members_informed_pct,officers_trained_pct\nHL-BV05,100,100\n")
    args = ("appeal", "HL-BV05", "--year", "2024", "--facts", str(facts), "--db", str(ledger), "--reason", "records found")
    refused = run_cdcs(*args)
    assert refused.code == 1, refused
    assert "cohort: HL-TTYT03: excellent (quota: kept) → good (quota: demoted)" in refused.stdout
    assert "not recorded" in refused.stderr and sql(ledger, "SELECT COUNT(*) FROM ledger") == [(1,)]
    applied = run_cdcs(*args, "--apply-to-cohort")
    assert applied.code == 0, applied
    assert why(ledger, "HL-BV05")["grade"] == "excellent"
    moved = why(ledger, "HL-TTYT03")
    assert moved["grade"] == "good" and moved["history"][1]["appeal_of"] == "HL-BV05"
    assert run_cdcs("audit", "replay", "2", "--db", str(ledger)).code == 0


def test_an_appeal_can_move_a_unit_an_earlier_appeal_decided(ledger, tmp_path):
    """Both corrected files hold their unit on their first row: one entry holds two units read at record 1."""
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("unit_id,name\nHL-TTYT03,Công đoàn Trung tâm Y tế huyện Kim Sơn (tên đúng)\n", encoding="utf-8")
    first = run_cdcs("appeal", "HL-TTYT03", "--year", "2024", "--facts", str(renamed), "--db", str(ledger), "--reason", "tên")
    assert first.code == 0 and "recorded as appeal #2" in first.stderr, first
    facts = _corrections(tmp_path, "unit_id,members_informed_pct,officers_trained_pct\nHL-BV05,100,100\n")
    applied = run_cdcs("appeal", "HL-BV05", "--year", "2024", "--facts", str(facts), "--db", str(ledger),
                       "--reason", "records found", "--apply-to-cohort")
    assert applied.code == 0 and "recorded as appeal #3" in applied.stderr, applied
    assert_no_traceback(applied)
    moved = why(ledger, "HL-TTYT03")
    assert moved["grade"] == "good" and [h["seq"] for h in moved["history"]] == [1, 2, 3]
    assert moved["decided_by"]["facts_source"] == str(renamed) and moved["decided_by"]["record"] == 1
    assert moved["decided_by"]["facts_sha256"] == hashlib.sha256(renamed.read_bytes()).hexdigest()
    appealed = why(ledger, "HL-BV05")
    assert appealed["grade"] == "excellent" and appealed["decided_by"]["record"] == 1
    assert appealed["decided_by"]["facts_sha256"] == hashlib.sha256(facts.read_bytes()).hexdigest()
    untouched = why(ledger, "HL-BV06")  # graded by the run alone
    assert untouched["decided_by"]["facts_sha256"] == hashlib.sha256((REPO / PROVINCE).read_bytes()).hexdigest()
    exported = run_cdcs("audit", "export", "--record", "3", "--db", str(ledger))
    assert exported.code == 0, exported
    units = json.loads(exported.stdout)["units"]
    assert [(u["unit_id"], u["record"], u["source"]) for u in units] == [("HL-BV05", 1, str(facts)),
                                                                       ("HL-TTYT03", 1, str(renamed))]
    assert stored_units(ledger, 3)["HL-TTYT03"].data["facts"]["name"].endswith("(tên đúng)")
    assert run_cdcs("audit", "replay", "3", "--db", str(ledger)).code == 0
    assert verify(ledger).code == 0


@pytest.mark.parametrize("correction, cohorts", [
    ("members_informed_pct\n100", {"Công đoàn ngành Y tế tỉnh Hà Lâm"}),
    # another union, spelt decomposed and padded: read as the catalogue reads it, both cohorts are graded again
    ("upper_union\n" + unicodedata.normalize("NFD", " LĐLĐ tỉnh Hà Lâm "),
     {"Công đoàn ngành Y tế tỉnh Hà Lâm", "LĐLĐ tỉnh Hà Lâm"}),
], ids=["same_cohort", "moved_to_another"])
def test_an_appeal_grades_again_the_cohorts_the_unit_was_and_is_in(ledger, tmp_path, correction, cohorts):
    header, value = correction.split("\n")
    facts = _corrections(tmp_path, f"unit_id,{header}\nHL-BV05,{value}\n")
    run = run_cdcs("appeal", "HL-BV05", "--year", "2024", "--facts", str(facts), "--db", str(ledger), "--reason", "x",
                   "--apply-to-cohort")
    assert run.code == 0, run
    with open(REPO / PROVINCE, encoding="utf-8", newline="") as source:
        expected = sorted(row["unit_id"] for row in csv.DictReader(source) if row["upper_union"] in cohorts)
    graded_again = json.loads(sql(ledger, "SELECT facts_from FROM appeals WHERE seq = 2")[0][0])
    assert sorted(graded_again) == expected and len(expected) in (48, 60)
    assert run_cdcs("audit", "replay", "2", "--db", str(ledger)).code == 0


def test_an_appeal_finds_a_cohort_member_whose_union_was_written_another_way(tmp_path):
    """The cohort is told from each stored unit's union as the catalogue reads it (trimmed, NFC), not as written."""
    with open(REPO / PROVINCE, encoding="utf-8", newline="") as source:
        rows = list(csv.reader(source))
    column = rows[0].index("upper_union")
    for row in rows[1:]:
        if row[0] == "HL-TTYT03":
            row[column] = unicodedata.normalize("NFD", row[column]) + " "
    province = tmp_path / "province.csv"
    with open(province, "w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    db = tmp_path / "audit.sqlite"
    record(db, str(province))
    facts = _corrections(tmp_path, "unit_id,members_informed_pct,officers_trained_pct\nHL-BV05,100,100\n")
    run = run_cdcs("appeal", "HL-BV05", "--year", "2024", "--facts", str(facts), "--db", str(db), "--reason", "x")
    assert run.code == 1 and "cohort: HL-TTYT03: excellent (quota: kept) → good (quota: demoted)" in run.stdout, run


def test_an_appeal_lands_where_grading_the_corrected_file_does_whatever_the_processes(ledger, tmp_path, monkeypatch):
    """The cohort is graded again as a run grades (in chunks, on every core, the quota over all of it)."""
    facts = _corrections(tmp_path, "unit_id,members_informed_pct,officers_trained_pct\nHL-BV05,100,100\n")
    outcomes = []
    for jobs, chunk, in_process_up_to in ((1, run.CHUNK, run.IN_PROCESS_UP_TO), (2, 7, 0)):  # then real processes
        monkeypatch.setattr(run, "CHUNK", chunk)
        monkeypatch.setattr(run, "IN_PROCESS_UP_TO", in_process_up_to)
        with Store(ledger) as store:
            outcomes.append(audit.appeal(store, "HL-BV05", 2024, facts, "records found", "test", True, jobs))
    one, two = outcomes
    assert one.cohort_effect and one.cohort_effect == two.cohort_effect and one.after == two.after
    assert [(u.unit_id, u.position, u.data) for u in one.entry.units] == [(u.unit_id, u.position, u.data) for u in two.entry.units]

    with open(REPO / PROVINCE, encoding="utf-8", newline="") as source:
        rows = list(csv.reader(source))
    for row in rows[1:]:
        if row[0] == "HL-BV05":
            for fact in ("members_informed_pct", "officers_trained_pct"):
                row[rows[0].index(fact)] = "100"
    corrected = tmp_path / "province_corrected.csv"
    with open(corrected, "w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    graded = run_cdcs("grade", str(corrected), "--format", "json")
    assert graded.code == 0, graded
    results = {r["unit_id"]: r for r in json.loads(graded.stdout)["results"]}

    def facets_of(result: dict) -> tuple:
        return result["grade"], None if result["quota"] is None else result["quota"]["kept"]

    assert facets_of(results["HL-BV05"]) == (one.after["grade"], one.after["quota"] == "kept")
    for moved in one.cohort_effect:
        assert facets_of(results[moved["unit_id"]]) == (moved["after"]["grade"], moved["after"]["quota"] == "kept")


def test_an_appeal_needs_a_corrected_fact_for_a_recorded_unit(ledger, tmp_path):
    same = _corrections(tmp_path, "unit_id,members_informed_pct\nHL-BV06,95\n")
    run = run_cdcs("appeal", "HL-BV06", "--year", "2024", "--facts", str(same), "--db", str(ledger), "--reason", "x")
    assert run.code == 1 and "an appeal needs at least one corrected fact" in run.stderr, run
    other = _corrections(tmp_path, "unit_id,members_informed_pct\nHL-BV07,100\n")
    run = run_cdcs("appeal", "HL-BV06", "--year", "2024", "--facts", str(other), "--db", str(ledger), "--reason", "x")
    assert run.code == 1 and "no row for unit 'HL-BV06'" in run.stderr, run
    bad = _corrections(tmp_path, "unit_id,members_informed_pct\nHL-BV06,một trăm\n")
    run = run_cdcs("appeal", "HL-BV06", "--year", "2024", "--facts", str(bad), "--db", str(ledger), "--reason", "x")
    assert run.code == 1 and "members_informed_pct" in run.stderr and "'một trăm'" in run.stderr, run
    assert sql(ledger, "SELECT COUNT(*) FROM ledger") == [(1,)]
    assert_no_traceback(run)


def test_an_override_is_shown_as_such_in_every_view(ledger):
    run = run_cdcs("override", "HL-BV08", "--year", "2024", "--grade", "completed", "--db", str(ledger),
                   "--reason", "Kỷ luật đã được hủy bỏ", "--by", "Chủ tịch")
    assert run.code == 0 and "recorded as override #2" in run.stdout, run
    doc = why(ledger, "HL-BV08")
    assert doc["grade"] == "completed" and doc["override"]["graded"] == "not_completed"
    assert doc["override"]["reason"] == "Kỷ luật đã được hủy bỏ" and doc["override"]["recorded_by"] == "Chủ tịch"
    text = run_cdcs("why", "HL-BV08", "--year", "2024", "--db", str(ledger), "--lang", "en")
    assert text.stdout.startswith("HL-BV08 — 2024: Completed — COMMITTEE OVERRIDE #2"), text
    exported = json.loads(run_cdcs("audit", "export", "--unit", "HL-BV08", "--year", "2024", "--db", str(ledger)).stdout)
    assert exported["standing"]["en"]["override"]["grade"] == "completed"
    assert [r["record"]["kind"] for r in exported["records"]] == ["run", "override"]
    log = run_cdcs("audit", "log", "--db", str(ledger))
    assert "override" in log.stdout and "Kỷ luật đã được hủy bỏ" in log.stdout
    assert verify(ledger).code == 0
    wrong = run_cdcs("override", "HL-BV08", "--year", "2024", "--grade", "excelent", "--db", str(ledger), "--reason", "x")
    assert wrong.code == 1 and "Did you mean 'excellent'?" in wrong.stderr, wrong


def test_export_of_a_record_carries_what_a_reviewer_checks(recorded):
    run = run_cdcs("audit", "export", "--record", "1", "--db", str(recorded[0]))
    assert run.code == 0, run
    doc = json.loads(run.stdout)
    assert doc["record"]["kind"] == "run" and len(doc["record"]["entry_sha256"]) == 64
    version, sha = identity(newest(2024))
    assert doc["ruleset"]["sha256"] == sha and doc["ruleset"]["content"]["ruleset"]["version"] == version
    unit = next(u for u in doc["units"] if u["unit_id"] == "HL-BV06")
    assert unit["facts"]["record"]["unit_id"] == "HL-BV06" and unit["decision"]["grade"] == "good"
    assert len(unit["data_sha256"]) == 64
    assert run_cdcs("audit", "export", "--db", str(recorded[0])).code == 2


# --- history across years ------------------------------------------------------------------------------

def test_last_years_results_feed_this_years_history_facts_and_say_where_from(ledger):
    graded = json.loads(record(ledger, "examples/province_2025.csv").stdout)
    assert graded["ruleset"]["version"] == "2025.3"  # the newest, whose catalogue has the history facts of 2025.2
    bv01 = next(r for r in graded["results"] if r["unit_id"] == "HL-BV01")
    assert bv01["facts"]["values"]["prior_year_grade"] == "excellent"
    assert bv01["facts"]["values"]["culture_title_years"] == 1
    assert bv01["facts"]["from_history"] == {"culture_title_years": "records #1 (2024)",
                                             "prior_year_grade": "record #1 (run, 2024)"}
    assert bv01["titles"] == {"cultural_unit": True, "cultural_unit_2_years": True, "cultural_unit_5_years": False}
    tr02 = next(r for r in graded["results"] if r["unit_id"] == "HL-TR02")  # no title in 2024
    assert tr02["facts"]["from_history"]["culture_title_years"] == "record #1 (2024): cultural_unit not held"
    text = run_cdcs("why", "HL-BV01", "--year", "2025", "--db", str(ledger), "--lang", "en").stdout
    assert "From recorded history: prior_year_grade = excellent (record #1 (run, 2024))" in text


def test_a_later_change_to_last_year_does_not_change_a_replay_but_feeds_the_next_grading(ledger):
    record(ledger, "examples/province_2025.csv")
    run = run_cdcs("override", "HL-BV01", "--year", "2024", "--grade", "good", "--db", str(ledger), "--reason", "r")
    assert run.code == 0, run
    assert run_cdcs("audit", "replay", "2", "--db", str(ledger)).code == 0  # the values used then are in the record
    again = json.loads(run_cdcs("grade", "examples/province_2025.csv", "--db", str(ledger), "--format", "json").stdout)
    bv01 = next(r for r in again["results"] if r["unit_id"] == "HL-BV01")
    assert bv01["facts"]["values"]["prior_year_grade"] == "good"
    assert bv01["facts"]["from_history"]["prior_year_grade"] == "record #3 (override, 2024)"


def test_a_reported_fact_is_never_replaced_by_history(ledger, tmp_path):
    rows = (REPO / "examples/province_2025.csv").read_text(encoding="utf-8").splitlines()
    rows[0] += ",culture_title_years"
    rows[1:] = [row + ",4" for row in rows[1:]]
    facts = tmp_path / "reported.csv"
    facts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    graded = json.loads(run_cdcs("grade", str(facts), "--db", str(ledger), "--format", "json").stdout)
    bv01 = next(r for r in graded["results"] if r["unit_id"] == "HL-BV01")
    assert bv01["facts"]["values"]["culture_title_years"] == 4 and "culture_title_years" not in bv01["facts"]["from_history"]
    assert bv01["titles"]["cultural_unit_5_years"] is True


def test_without_a_ledger_an_unknown_streak_is_undecided_not_false():
    graded = json.loads(run_cdcs("grade", "examples/province_2025.csv", "--format", "json").stdout)
    bv01 = next(r for r in graded["results"] if r["unit_id"] == "HL-BV01")
    assert bv01["titles"] == {"cultural_unit": True, "cultural_unit_2_years": None, "cultural_unit_5_years": None}
    assert "from_history" not in bv01["facts"]


@pytest.mark.parametrize("command", ["export", "grade"])
def test_an_output_naming_the_ledger_is_refused_and_the_ledger_is_kept(ledger, command: str):
    """`audit export --out` and `grade --out` once wrote over the ledger they read, exit 0."""
    before = ledger.read_bytes()
    if command == "export":
        run = run_cdcs("audit", "export", "--record", "1", "--db", str(ledger), "--out", str(ledger))
        words = f"--out {ledger} is the audit database itself"
    else:
        run = run_cdcs("grade", PROVINCE, "--db", str(ledger), "--format", "csv", "--out", str(ledger))
        words = f"--out {ledger} is --db itself"
    assert run.code == 2 and words in run.stderr and "Traceback" not in run.stderr, run
    assert ledger.read_bytes() == before
    assert run_cdcs("audit", "verify", "--db", str(ledger)).code == 0


def test_grading_into_the_rule_set_file_is_refused_and_the_rule_set_is_kept(tmp_path):
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    rules = tmp_path / "rules" / "2024" / "ruleset-2024.1.yaml"
    rules.parent.mkdir(parents=True)
    shutil.copy(REPO / "rules" / "2024" / "ruleset-2024.1.yaml", rules)
    before = rules.read_bytes()
    run = run_cdcs("grade", PROVINCE, "--rules", str(rules), "--format", "csv", "--out", str(rules))
    assert run.code == 2 and f"--out {rules} is the rule set itself" in run.stderr, run
    assert rules.read_bytes() == before


@pytest.mark.parametrize("limit, words", [
    (65536, "audit.sqlite: error: cannot be written: "),  # the spools fit, the ledger's journal does not
    (16384, "error: cannot open the audit database: disk I/O error (a full disk"),  # its shared memory does not
])
def test_a_recording_that_meets_a_full_disk_records_nothing_and_keeps_the_ledger(ledger, tmp_path, limit: int,
                                                                                words: str):
    """The disk fills under the run (RLIMIT_FSIZE): one line, exit 1, the ledger as it was."""
    head = run_cdcs("audit", "verify", "--db", str(ledger))
    assert head.code == 0, head
    before = ledger.read_bytes()
    out = tmp_path / "results.csv"
    run = run_cdcs("grade", PROVINCE, "--record", "--db", str(ledger), "--format", "csv", "--out", str(out),
                   file_size_limit=limit)
    assert run.code == 1 and "Traceback" not in run.stderr, run
    assert words in run.stderr, run
    assert ledger.read_bytes() == before and not out.exists()
    assert run_cdcs("audit", "verify", "--db", str(ledger)).stdout == head.stdout
