"""The ``cdcs`` command as users meet it: real subprocesses from the repository root."""
from __future__ import annotations

import csv
import io
import json
import time
from functools import lru_cache
from pathlib import Path

import pytest

from cli_run import ERRORS, REPO, Run, assert_no_traceback, run_cdcs
from conftest import identity, newest

FACTS = "tests/errors/facts/valid.csv"  # three complete 2024 units
UNIT_IDS = ["T-BV01", "T-VP01", "T-DN01"]


@lru_cache(maxsize=None)
def graded(*options: str) -> Run:
    """``cdcs grade FACTS OPTIONS``, run once per set of options."""
    run = run_cdcs("grade", FACTS, *options)
    assert_no_traceback(run)
    assert run.code == 0, run
    return run


# --- grade: formats ---------------------------------------------------------------------------

def test_table_speaks_vietnamese_with_diacritics_intact():
    out = graded().stdout
    for words in ("Mã đơn vị", "Xếp loại", "Đơn vị văn hóa", "Tự kiểm tra tài chính", "Lý do chính",
                  "Công đoàn Bệnh viện Đa khoa Thử nghiệm", "Hoàn thành tốt nhiệm vụ", "Đơn vị sự nghiệp công lập"):
        assert words in out
    assert all(unit in out for unit in UNIT_IDS)


def test_table_speaks_english_with_lang_en():
    out = graded("--lang", "en").stdout
    for words in ("Unit", "Score", "Grade", "Cultural unit", "Financial self-audit", "Main reason",
                  "Public service unit", "Good", "Completed"):
        assert words in out
    assert "Xếp loại" not in out
    assert "Công đoàn Bệnh viện Đa khoa Thử nghiệm" in out, "unit names stay as reported"


def test_json_has_the_stable_keys():
    doc = json.loads(graded("--format", "json").stdout)
    assert {"id", "version", "sha256"} <= set(doc["ruleset"])
    assert doc["ruleset"]["id"] == "cdcs_health" and doc["ruleset"]["version"] == identity(newest(2024))[0]
    assert len(doc["ruleset"]["sha256"]) == 64 and int(doc["ruleset"]["sha256"], 16) >= 0
    assert [r["unit_id"] for r in doc["results"]] == UNIT_IDS
    for r in doc["results"]:
        assert {"unit_id", "year", "status", "grade", "score", "titles", "financial_audit", "reasons"} <= set(r)
        assert r["year"] == 2024 and r["status"] == "graded"
        assert "cultural_unit" in r["titles"]
        assert {"verdict", "findings"} <= set(r["financial_audit"])
        assert isinstance(r["reasons"], list) and r["reasons"]
    by_id = {r["unit_id"]: r for r in doc["results"]}
    assert (by_id["T-VP01"]["grade"], by_id["T-VP01"]["score"]) == ("good", 86)
    assert by_id["T-DN01"]["financial_audit"]["verdict"] == "fail"
    assert by_id["T-DN01"]["financial_audit"]["findings"], "a failed audit names its findings"


def test_csv_has_one_row_per_unit_with_codes():
    rows = list(csv.DictReader(io.StringIO(graded("--format", "csv").stdout)))
    assert [r["unit_id"] for r in rows] == UNIT_IDS
    assert {"unit_id", "year", "status", "grade", "score"} <= set(rows[0])
    assert [r["grade"] for r in rows] == ["good", "good", "completed"]


def test_xlsx_without_out_is_a_usage_error_naming_out():
    run = run_cdcs("grade", FACTS, "--format", "xlsx")
    assert_no_traceback(run)
    assert run.code == 2, run
    assert "--out" in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("args, where, words", [
    (["grade", FACTS, "--bogus"], "cdcs grade", "No such option '--bogus'"),
    (["grade", FACTS, "--format", "pdf"], "cdcs grade", "'pdf' is not one of"),
    (["why"], "cdcs why", "Missing argument 'UNIT_ID'"),
    (["audit", "replay", "x"], "cdcs audit replay", "'x' is not a valid integer"),
    (["gradee", FACTS], "cdcs", "No such command 'gradee'"),
    (["--bogus"], "cdcs", "No such option '--bogus'"),
])
def test_a_command_given_wrongly_is_one_located_error_and_where_to_read_how(args: list[str], where: str, words: str):
    """What click's parser finds is said as every other error is (``where: error: what``), exit code 2."""
    run = run_cdcs(*args)
    assert run.code == 2 and run.stdout == "", run
    first, hint = run.stderr.splitlines()
    assert first.startswith(f"{where}: error: ") and words in first, run
    assert hint == f"({where} --help shows how it is given)", run


def write_xlsx(path: Path) -> Run:
    run = run_cdcs("grade", FACTS, "--format", "xlsx", "--out", str(path))
    assert_no_traceback(run)
    assert run.code == 0, run
    return run


def test_xlsx_with_out_writes_a_results_sheet(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "x.xlsx"
    run = write_xlsx(out)
    assert "3" in run.stderr and str(out) in run.stderr, "says how many units went where"
    book = load_workbook(out, read_only=True)
    rows = list(book["results"].iter_rows(values_only=True))
    book.close()
    assert list(rows[0]) == ["Mã đơn vị", "Tên", "Loại hình", "Điểm", "Xếp loại", "Đơn vị văn hóa",
                             "Tự kiểm tra tài chính", "Lý do chính"]
    assert [r[0] for r in rows[1:]] == UNIT_IDS


# --- grade: the same input gives the same bytes -----------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_grading_twice_gives_identical_output(fmt):
    first = graded("--format", fmt).stdout_bytes
    again = run_cdcs("grade", FACTS, "--format", fmt)
    assert again.code == 0, again
    assert again.stdout_bytes == first


def test_grading_twice_gives_an_identical_workbook(tmp_path):
    write_xlsx(tmp_path / "a.xlsx")
    time.sleep(2.1)  # zip times have a 2-second resolution: make sure the clock has moved past it
    write_xlsx(tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


# --- explain ----------------------------------------------------------------------------------

def test_explain_prints_every_section():
    run = run_cdcs("explain", "T-VP01", FACTS, "--lang", "en")
    assert_no_traceback(run)
    assert run.code == 0, run
    headings = [line for line in run.stdout.splitlines() if line[:1].isdigit()]
    for section in ("Eligibility", "Criteria", "Grade levels", "Financial self-audit", "Titles"):
        assert any(section in h for h in headings), f"no '{section}' heading in {headings}"
    assert "T-VP01" in run.stdout and "Good — 86 points" in run.stdout


def test_explain_prints_every_section_in_vietnamese():
    run = run_cdcs("explain", "T-VP01", FACTS)
    assert run.code == 0, run
    for section in ("Điều kiện xếp loại", "Tiêu chí", "Các mức xếp loại", "Tự kiểm tra tài chính", "Danh hiệu"):
        assert section in run.stdout


def test_explain_json_carries_the_outcome_and_trace_of_every_level_condition():
    run = run_cdcs("explain", "T-VP01", FACTS, "--format", "json")
    assert run.code == 0, run
    doc = json.loads(run.stdout)
    assert doc["ruleset"]["id"] == "cdcs_health"
    result = doc["result"]
    assert result["unit_id"] == "T-VP01"
    levels = result["explanation"]["levels"]
    assert [lv["id"] for lv in levels][:3] == ["excellent", "good", "completed"]
    conditions = [c for lv in levels for c in lv["conditions"]]
    assert conditions
    for c in conditions:
        assert c["outcome"] in ("held", "not_held", "unknown")
        assert "trace" in c
    band = next(c for c in levels[0]["conditions"] if c["id"] == "band")
    assert band["outcome"] == "not_held", "86 points are below the excellent band"


def test_explain_of_an_unknown_unit_suggests_the_closest_id():
    run = run_cdcs("explain", "T-VP02", FACTS)
    assert_no_traceback(run)
    assert run.code == 1, run
    assert "no unit 'T-VP02'" in run.stderr and "Did you mean 'T-VP01'" in run.stderr


def test_explain_of_an_invalid_unit_fails_with_its_located_problem():
    path = "tests/errors/facts/not_a_number.csv"
    run = run_cdcs("explain", "T-VP01", path)
    assert_no_traceback(run)
    assert run.code == 1, run
    assert run.lines_at(f"{path}:3:"), run


# --- choosing the rule set --------------------------------------------------------------------

def test_a_year_without_rules_names_the_years_available():
    run = run_cdcs("grade", FACTS, "--rules", "1999")
    assert_no_traceback(run)
    assert run.code == 1, run
    assert "1999" in run.stderr and "years available: 2024" in run.stderr
    assert run.stdout == ""


def test_a_rule_set_path_that_does_not_exist_is_named():
    path = "path/that/does/not/exist.yaml"
    run = run_cdcs("grade", FACTS, "--rules", path)
    assert_no_traceback(run)
    assert run.code == 1, run
    assert run.lines_at(f"{path}: error: no such file"), run


def test_an_explicit_rule_set_path_grades_like_the_year():
    run = run_cdcs("grade", FACTS, "--rules", newest(2024), "--format", "json")
    assert run.code == 0, run
    assert run.stdout_bytes == graded("--format", "json").stdout_bytes


def test_facts_of_two_years_without_rules_is_a_usage_error():
    path = (ERRORS / "facts" / "wrong_year.csv").relative_to(ERRORS.parent.parent).as_posix()
    run = run_cdcs("grade", path)
    assert_no_traceback(run)
    assert run.code == 2, run
    assert "2023" in run.stderr and "2024" in run.stderr and "--rules" in run.stderr
    assert run.stdout == ""


def test_outside_a_clone_a_bundled_rule_set_is_said_to_be_looked_for_in_a_rules_folder(tmp_path):
    for args in (["grade", str(REPO / "examples" / "province_2025.csv"), "--rules", "2025"], ["grade", str(REPO / "examples" / "province_2025.csv"), "--rules", "2025.1"],
                 ["grade", str(REPO / "examples" / "province_2025.csv")], ["report", str(REPO / "examples" / "province_2025.csv")]):
        done = run_cdcs(*args, cwd=tmp_path)
        assert done.code == 1, done
        assert "is looked for in a 'rules' folder here or in a folder above, and there is none" in done.stderr, done
        assert_no_traceback(done)
