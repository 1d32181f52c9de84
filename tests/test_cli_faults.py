"""A rule engine that decides differently stops the run with exit 3, through the real command.

The fault is injected below the project's code (``tests/faults/sitecustomize.py``): the
rule engine misreads one fact.  The cross-check must notice, name the unit and the
decision, and neither write results nor record the run.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs

FAULTS = str(REPO / "tests" / "faults")
PROVINCE = "examples/province_2024.csv"


def faulty(field: str, delta: int) -> dict[str, str]:
    return {"PYTHONPATH": FAULTS, "CDCS_FAULT_FIELD": field, "CDCS_FAULT_DELTA": str(delta)}


def test_the_fault_injection_itself_changes_nothing_when_it_adds_zero(tmp_path: Path):
    out = tmp_path / "results.csv"
    run = run_cdcs("grade", PROVINCE, "--format", "csv", "--out", str(out), env=faulty("fatal_work_accidents", 0))
    assert run.code == 0 and out.exists(), run
    assert (REPO / "tests" / "golden" / "province_2024.results.csv").read_bytes() == out.read_bytes()


@pytest.mark.parametrize("field, delta, decision", [
    ("fatal_work_accidents", 1, "veto.fatal_accident"),  # a veto the engine now sees held
    ("members_disciplined_warning_plus", 1, "level.excellent.no_member_disciplined"),  # stage 2: a grade level
    ("culture_mandatory_breaches", 1, "title.cultural_unit.no_mandatory_breach"),  # stage 3: a title
])
def test_an_engine_that_misreads_a_fact_stops_the_run_with_exit_3(tmp_path: Path, field: str, delta: int,
                                                                   decision: str):
    out = tmp_path / "results.csv"
    run = run_cdcs("grade", PROVINCE, "--format", "csv", "--out", str(out), env=faulty(field, delta))
    assert run.code == 3, run
    assert "internal error: the two evaluators disagree" in run.stderr, run
    assert f"decision '{decision}'" in run.stderr and "unit 'HL-VP01'" in run.stderr, run
    assert not out.exists(), "no results may be written from a run whose engines disagree"
    assert_no_traceback(run)


def test_a_run_whose_engines_disagree_is_not_recorded(tmp_path: Path):
    db = tmp_path / "audit.sqlite"
    run = run_cdcs("grade", PROVINCE, "--record", "--db", str(db), "--format", "json",
                   env=faulty("fatal_work_accidents", 1))
    assert run.code == 3 and run.stdout == "", run
    if db.exists():
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ledger'").fetchone()[0] == 0 or \
                con.execute("SELECT count(*) FROM ledger").fetchone()[0] == 0


def test_explain_with_a_misreading_engine_exits_3(tmp_path: Path):
    run = run_cdcs("explain", "HL-VP01", PROVINCE, env=faulty("fatal_work_accidents", 1))
    assert run.code == 3 and "veto.fatal_accident" in run.stderr, run
    assert_no_traceback(run)


@pytest.mark.parametrize("actions, message", [
    ("fail", "a rule action failed inside the engine: injected: the action failed"),
    ("skip", "the rule engine twice stopped running the actions of a fact"),
])
def test_an_engine_whose_actions_fail_or_stop_short_stops_the_run_with_exit_3(tmp_path: Path, actions: str,
                                                                              message: str):
    """A rule matched (the engine misreads a fact) but its actions did not run: never taken as agreement."""
    out = tmp_path / "results.csv"
    env = dict(faulty("fatal_work_accidents", 1), CDCS_FAULT_ACTIONS=actions)
    run = run_cdcs("grade", PROVINCE, "--format", "csv", "--out", str(out), env=env)
    assert run.code == 3, run
    assert f"internal error: the two evaluators disagree: {message}" in run.stderr, run
    assert not out.exists()
    assert_no_traceback(run)


def test_actions_that_would_fail_change_nothing_when_no_rule_matches(tmp_path: Path):
    out = tmp_path / "results.csv"
    run = run_cdcs("grade", PROVINCE, "--format", "csv", "--out", str(out),
                   env={"PYTHONPATH": FAULTS, "CDCS_FAULT_ACTIONS": "fail"})
    assert run.code == 0, run
    assert (REPO / "tests" / "golden" / "province_2024.results.csv").read_bytes() == out.read_bytes()
