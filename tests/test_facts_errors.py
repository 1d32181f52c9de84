"""Broken facts files: a bad cell spoils only its unit; a bad file stops with one located message.

The files are in tests/errors/facts/ (written by tests/errors/make_broken_facts.py from
valid.csv's three units); a cell defect is always in the second unit, line 3 of a CSV.
"""
from __future__ import annotations

import csv
import datetime
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Optional

import pytest

from cli_run import ERRORS, REPO, Run, assert_no_traceback, run_cdcs

FACTS = ERRORS / "facts"
VALID = FACTS / "valid.csv"
HEADER = VALID.read_text(encoding="utf-8").splitlines()[0].split(",")
BAD = 1  # index of the broken unit


def shown(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def column(name: str) -> int:
    return HEADER.index(name) + 1


def comparable(result: dict) -> dict:
    """A unit's result without the name of the file it came from."""
    result = json.loads(json.dumps(result))
    result["facts"].pop("source")
    result.get("explanation", {}).pop("problems", None)
    return result


@pytest.fixture(scope="module")
def valid_results() -> list[dict]:
    run = run_cdcs("grade", shown(VALID), "--format", "json")
    assert run.code == 0, run
    return json.loads(run.stdout)["results"]


def graded_json(path: str, *more: str) -> tuple[Run, list[dict]]:
    run = run_cdcs("grade", path, "--format", "json", *more)
    assert_no_traceback(run)
    assert run.stdout, run
    return run, json.loads(run.stdout)["results"]


def assert_only_the_bad_unit_is_invalid(results: list[dict], valid_results: list[dict], bad: int = BAD) -> None:
    assert [r["status"] for r in results] == ["invalid" if i == bad else "graded" for i in range(len(valid_results))]
    for i, (result, valid) in enumerate(zip(results, valid_results)):
        if i != bad:
            assert comparable(result) == comparable(valid), f"unit {result['unit_id']} changed because of another unit's cell"
    assert results[bad]["grade"] is None and results[bad]["score"] is None
    assert results[bad]["reasons"][0]["code"] == "invalid_facts"


def assert_stops_the_file(run: Run) -> None:
    assert_no_traceback(run)
    assert run.code == 1, run
    assert run.stdout == "", run
    assert run.stderr.splitlines()[0].split(": error: ")[1:], run  # located: where, then what


def test_the_valid_file_is_valid_and_graded(valid_results):
    assert [r["status"] for r in valid_results] == ["graded"] * 3
    run = run_cdcs("validate", shown(VALID))
    assert (run.code, run.stderr) == (0, ""), run


# --- one bad cell: that unit is invalid, the others are graded as if it were not there ----------

CELL_CASES = [
    ("not_a_number.csv", "workers_total", "many", ["expected a whole number"]),
    ("percentage_above_100.csv", "members_informed_pct", "120", ["at most 100"]),
    ("date_wrong_format.csv", "budget_submitted_on", "2024/01/20", ["not a date", "YYYY-MM-DD"]),
    ("vnd_with_separators.csv", "kpcd_due_vnd", "800.000.000", ["write 800000000 without separators"]),
    ("bool_maybe.csv", "has_operating_rules", "maybe", ["true or false"]),
    ("enum_misspelt.csv", "cba_status", "signd", ["Did you mean 'signed'"]),
]


@pytest.mark.parametrize("name, fact, value, words", CELL_CASES, ids=[c[0].removesuffix(".csv") for c in CELL_CASES])
def test_bad_cell_makes_only_its_unit_invalid_with_a_located_message(name, fact, value, words, valid_results):
    path = shown(FACTS / name)
    run, results = graded_json(path)
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    located = run.lines_at(f"{path}:3:{column(fact)}: error: ")
    assert len(located) == 1, run
    for word in [f"'{fact}'", f"'{value}'", *words]:
        assert word in located[0], located[0]
    assert "1 problem in the facts; those units are marked invalid, the others were graded" in run.stderr


def test_duplicate_unit_id_makes_the_second_unit_invalid(valid_results):
    path = shown(FACTS / "duplicate_unit_id.csv")
    run, results = graded_json(path)
    assert run.code == 1, run
    assert [r["unit_id"] for r in results] == ["T-BV01", "T-VP01", "T-BV01"]
    assert [r["status"] for r in results] == ["graded", "graded", "invalid"]
    assert comparable(results[0]) == comparable(valid_results[0])
    assert "'T-BV01' is given twice" in run.stderr, run


def test_duplicate_unit_id_is_reported_on_its_row():
    path = shown(FACTS / "duplicate_unit_id.csv")
    run = run_cdcs("grade", path, "--format", "json")
    located = run.lines_at(f"{path}:4:")
    assert located and "given twice" in located[0], run


def test_wrong_year_makes_the_unit_invalid_naming_both_years(valid_results):
    path = shown(FACTS / "wrong_year.csv")
    run, results = graded_json(path, "--rules", "2024")
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    message = results[BAD]["reasons"][0]["message"]
    assert "2023" in message and "2024" in message, message


def test_wrong_year_is_reported_on_stderr_and_fails_the_run():
    path = shown(FACTS / "wrong_year.csv")
    run = run_cdcs("grade", path, "--rules", "2024", "--format", "json")
    assert run.code == 1, run
    located = run.lines_at(f"{path}:3:{column('year')}:")
    assert located and "2023" in located[0] and "2024" in located[0], run


def test_json_facts_name_the_unit_and_fact_of_a_bad_value(valid_results):
    path = shown(FACTS / "bad_value.json")
    run, results = graded_json(path)
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    assert run.lines_at(f"{path}: error: unit 2, fact 'workers_total': 'many': expected a whole number"), run


def test_yaml_facts_locate_a_bad_value_at_its_line_and_column(valid_results):
    file = FACTS / "bad_value.yaml"
    text = file.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text, start=1) if "comittee" in t)
    col = text[line - 1].index("comittee") + 1
    path = shown(file)
    run, results = graded_json(path)
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    located = run.lines_at(f"{path}:{line}:{col}: error: ")
    assert located and "'comittee'" in located[0] and "Did you mean 'committee'" in located[0], run


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    """valid.csv as a real workbook (numbers, booleans and dates as typed cells), with one bad cell."""
    from openpyxl import Workbook

    def typed(value: str):
        if value in ("true", "false"):
            return value == "true"
        if value.lstrip("-").isdigit():
            return int(value)
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value

    with VALID.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    book = Workbook()
    sheet = book.active
    sheet.title = "units"
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([typed(v) for v in row])
    sheet.cell(row=3, column=column("officers_trained_pct"), value=150)
    path = tmp_path / "units.xlsx"
    book.save(path)
    return path


def test_xlsx_facts_locate_a_bad_cell_at_its_row_and_column(workbook, valid_results):
    run, results = graded_json(str(workbook))
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    located = run.lines_at(f"{workbook}:3:{column('officers_trained_pct')}: error: ")
    assert located and "'officers_trained_pct'" in located[0] and "at most 100" in located[0], run


def test_validate_reports_bad_cells_of_a_facts_file():
    path = shown(FACTS / "enum_misspelt.csv")
    run = run_cdcs("validate", path)
    assert_no_traceback(run)
    assert run.code == 1, run
    assert run.lines_at(f"{path}:3:{column('cba_status')}: error: "), run
    assert "1 problem found" in run.stderr


# --- a bad header: the column mapping cannot be trusted, so nothing is graded -------------------

def test_unknown_column_stops_the_file_with_a_hint():
    path = shown(FACTS / "unknown_column.csv")
    run = run_cdcs("grade", path, "--format", "json")
    assert_stops_the_file(run)
    located = run.lines_at(f"{path}:1:{column('tasks_exceeded')}: error: ")
    assert located and "unknown fact 'tasks_exceded'" in located[0] and "Did you mean 'tasks_exceeded'" in located[0], run


def test_missing_required_column_stops_the_file():
    path = shown(FACTS / "missing_required_column.csv")
    run = run_cdcs("grade", path)
    assert_stops_the_file(run)
    located = run.lines_at(f"{path}:1: error: ")
    assert located and "missing column 'workplace_type'" in located[0], run


# --- files that cannot be read at all -------------------------------------------------------------

UNREADABLE = [
    ("empty.csv", ["the file is empty"]),
    ("not_utf8.csv", ["not UTF-8", "save the CSV as UTF-8"]),
    ("does_not_exist.csv", ["no such file"]),
    ("<a folder>.csv", ["folder"]),
    ("units.txt", ["unknown facts format '.txt'"]),
    ("not_a_workbook.xlsx", ["not a readable .xlsx workbook"]),
]

UNREADABLE_IDS = [name.replace("<a folder>", "folder").replace(".", "_") for name, _ in UNREADABLE]


def unreadable_path(name: str, tmp_path: Path) -> str:
    if name.startswith("<a folder>"):
        folder = tmp_path / "units.csv"
        folder.mkdir()
        return str(folder)
    assert (FACTS / name).exists() != (name == "does_not_exist.csv")
    return shown(FACTS / name)


@pytest.mark.parametrize("name, words", UNREADABLE, ids=UNREADABLE_IDS)
def test_unreadable_facts_file_is_named_with_its_problem(name, words, tmp_path):
    path = unreadable_path(name, tmp_path)
    run = run_cdcs("grade", path, "--rules", "2024")
    assert_stops_the_file(run)
    located = run.lines_at(f"{path}: error: ")
    assert located and all(word in located[0] for word in words), run


@pytest.mark.parametrize("name, words", UNREADABLE, ids=UNREADABLE_IDS)
def test_unreadable_facts_file_is_named_with_its_problem_without_rules(name, words, tmp_path):
    path = unreadable_path(name, tmp_path)
    run = run_cdcs("grade", path)
    assert_no_traceback(run)
    assert run.code == 1, run
    located = run.lines_at(f"{path}: error: ")
    assert located and all(word in located[0] for word in words), run


def test_broken_facts_are_up_to_date_with_their_generator():
    sys.path.insert(0, str(ERRORS))
    try:
        from make_broken_facts import files
    finally:
        sys.path.remove(str(ERRORS))
    stale = [name for name, data in files().items() if (FACTS / name).read_bytes() != data]
    assert not stale, f"run tests/errors/make_broken_facts.py and review the diff; stale: {stale}"


# --- messy spreadsheets: read as the person wrote them, or refused with the place -------------

def test_a_short_row_stops_the_file_naming_the_missing_cells():
    path = shown(FACTS / "short_row.csv")
    run = run_cdcs("grade", path, "--format", "json")
    assert_stops_the_file(run)
    located = run.lines_at(f"{path}:3:{len(HEADER) - 2}: error: ")
    assert located and f"row 3 has {len(HEADER) - 3} cells but the header has {len(HEADER)} columns" in located[0], run
    assert f"'{HEADER[-3]}'" in located[0] and "write an empty cell" in located[0], run
    run = run_cdcs("validate", path)
    assert run.code == 1 and run.lines_at(f"{path}:3:{len(HEADER) - 2}: error: "), run


def test_doubled_quotes_in_a_name_are_one_quote_and_a_comma_stays_in_the_name(valid_results):
    run, results = graded_json(shown(FACTS / "doubled_quotes.csv"))
    assert run.code == 0, run
    assert results[BAD]["name"] == 'Công đoàn "Văn phòng" Sở Y tế, Thử nghiệm'
    assert [r["grade"] for r in results] == [r["grade"] for r in valid_results]


def test_a_json_object_giving_a_fact_twice_stops_the_file():
    path = shown(FACTS / "duplicate_key.json")
    run = run_cdcs("grade", path, "--format", "json")
    assert_stops_the_file(run)
    assert run.lines_at(f"{path}: error: unit 2 gives 'workers_total' more than once"), run
    assert run_cdcs("validate", path).code == 1


def test_yaml_facts_are_read_as_written_not_as_yaml_1_1_guesses(valid_results):
    run, results = graded_json(shown(FACTS / "yaml_1_1_words.yaml"))
    assert run.code == 0, run
    assert (results[BAD]["unit_id"], results[BAD]["name"]) == ("0123", "No")
    assert [without_names(r) for r in results] == [without_names(r) for r in valid_results]


def without_names(result: dict) -> dict:
    """What was graded, with the unit's id and name left out (a file may write them differently)."""
    result = comparable(result)
    for part in (result, result["facts"]["values"], result.get("explanation", {})):
        part.pop("unit_id", None), part.pop("name", None)
    return result


@pytest.mark.parametrize("text, expect", [("0123", "0123"), ("No", "No"), ("off", "off"), ("1:30", "1:30"),
                                          ("1.10", "1.10"), ("'quoted'", "quoted"), ("", None), ("null", None),
                                          ("'null'", "null"), ("2024-02-30", "2024-02-30")])
def test_a_yaml_facts_value_is_the_text_written(tmp_path: Path, text: str, expect):
    from engine.reading.facts import open_stream

    path = tmp_path / "units.yaml"
    path.write_text(f"units:\n  - unit_id: A\n    name: {text}\n", encoding="utf-8")
    (_, _, record, _), = list(open_stream(path).rows)
    assert record["name"] == expect


def test_an_impossible_date_in_yaml_facts_makes_its_unit_invalid_at_its_place(tmp_path: Path):
    text = (FACTS / "bad_value.yaml").read_text(encoding="utf-8").replace("ubkt_status: comittee", "ubkt_status: committee")
    second = text.index("- unit_id: T-VP01")
    text = text[:second] + text[second:].replace("budget_submitted_on: 2024-01-20", "budget_submitted_on: 2024-02-30", 1)
    assert "2024-02-30" in text
    path = tmp_path / "units.yaml"
    path.write_text(text, encoding="utf-8")
    run = run_cdcs("grade", str(path), "--format", "json")
    assert_no_traceback(run)
    assert run.code == 1, run
    line = text.splitlines().index(next(t for t in text.splitlines() if "2024-02-30" in t)) + 1
    located = run.lines_at(f"{path}:{line}:")
    assert located and "'2024-02-30'" in located[0] and "not a date" in located[0], run


def _second_unit_cell(workbook: Path, fact: str, value, number_format: Optional[str] = None) -> None:
    """The fixture's workbook with its bad cell mended and one cell of the second unit set (row 3)."""
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    sheet = book["units"]
    sheet.cell(row=3, column=column("officers_trained_pct"), value=85)
    cell = sheet.cell(row=3, column=column(fact), value=value)
    if number_format is not None:
        cell.number_format = number_format
    book.save(workbook)


def test_a_cell_shown_as_a_percentage_is_read_as_that_percentage(workbook, valid_results):
    _second_unit_cell(workbook, "members_informed_pct", 0.95, "0%")  # 95 %, as Excel stores it
    run, results = graded_json(str(workbook))
    assert run.code == 0, run
    assert [comparable(r) for r in results] == [comparable(r) for r in valid_results]


def test_a_percentage_cell_in_a_field_that_is_not_a_percentage_is_refused_at_its_cell(workbook):
    _second_unit_cell(workbook, "workers_total", 0.5, "0%")
    run, _ = graded_json(str(workbook))
    assert run.code == 1, run
    located = run.lines_at(f"{workbook}:3:{column('workers_total')}: error: ")
    assert located and "'50%'" in located[0] and "expected a whole number" in located[0], run


def test_a_formula_never_computed_is_refused_at_its_cell_not_read_as_blank(workbook):
    _second_unit_cell(workbook, "workers_total", "=100*5")  # openpyxl saves it without a value
    run, _ = graded_json(str(workbook))
    assert run.code == 1, run
    located = run.lines_at(f"{workbook}:3:{column('workers_total')}: error: ")
    assert located and "'=100*5'" in located[0] and "a formula saved without its computed value" in located[0], run


# --- hostile values and shapes: a located refusal, in bounded time, never a traceback ----------------

def _with_cell(tmp_path: Path, fact: str, value: str) -> Path:
    rows = [r.split(",") for r in VALID.read_text(encoding="utf-8").splitlines()]
    rows[1 + BAD][column(fact) - 1] = value
    path = tmp_path / "units.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name, fact, words", [
    ("number_tiny_exponent.csv", "members_informed_pct", ["between 10^-20 and 10^20"]),
    ("number_huge_exponent.csv", "members_informed_pct", ["between 10^-20 and 10^20"]),
    ("number_negative_tiny.csv", "culture_score", ["between 10^-20 and 10^20"]),
    ("number_5000_digits.csv", "workers_total", ["5000 characters", "at most 40"]),
    ("number_41_digits.csv", "kpcd_due_vnd", ["41 characters"]),
], ids=lambda v: v.removesuffix(".csv") if isinstance(v, str) and v.endswith(".csv") else None)
def test_an_absurd_number_makes_only_its_unit_invalid(name: str, fact: str, words: list[str], valid_results):
    path = shown(FACTS / name)
    run, results = graded_json(path)
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    located = run.lines_at(f"{path}:3:{column(fact)}: error: ")
    assert located and all(w in located[0] for w in words), run
    assert len(located[0]) < 300, located[0]  # a long value is cut, not printed whole


@pytest.mark.parametrize("name, words", [
    ("yaml_recursive_alias.yaml", ["1:8:", "refers to a value that contains it"]),
    ("yaml_alias_bomb.yaml", ["expand to far more values than the file holds"]),
    ("yaml_nested_100.yaml", ["nested too deeply (at most 64 levels"]),
    ("yaml_nested_5000.yaml", ["nested too deeply"]),
    ("json_nested_20000.json", ["nested too deeply"]),
    ("json_5000_digit_integer.json", ["cannot be read", "4300"]),
], ids=lambda v: v.split(".")[0] if isinstance(v, str) and "." in v else None)
def test_a_facts_file_a_reader_could_spend_for_ever_on_is_refused_at_once(name: str, words: list[str]):
    path = shown(FACTS / name)
    run = run_cdcs("grade", path)
    assert_stops_the_file(run)
    assert all(w in run.stderr for w in words), run


def test_an_impossible_date_in_a_rule_set_is_located_not_a_traceback(tmp_path: Path):
    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8")
    assert "effective_from: 2024-01-01" in text
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")  # where the rule set's catalogue path leads
    path = tmp_path / "rules" / "2024" / "ruleset-2024.1.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text.replace("effective_from: 2024-01-01", "effective_from: 2024-02-30"), encoding="utf-8")
    run = run_cdcs("validate", str(path))
    assert_no_traceback(run)
    assert run.code == 1, run
    located = run.lines_at(f"{path}:7:17: error: ")
    assert located and "cannot read this value: day is out of range for month" in located[0], run


def test_a_pipe_given_as_the_facts_file_is_refused_without_waiting(tmp_path: Path):
    fifo = tmp_path / "units.csv"
    os.mkfifo(fifo)
    run = run_cdcs("grade", str(fifo))  # would block for ever if it were opened
    assert_stops_the_file(run)
    assert run.lines_at(f"{fifo}: error: not a regular file"), run


@pytest.mark.parametrize("option", ["--out", "--db"])
def test_an_output_that_is_the_facts_file_is_refused_and_the_facts_are_kept(tmp_path: Path, option: str):
    facts = tmp_path / "units.csv"
    shutil.copy(VALID, facts)
    before = facts.read_bytes()
    extra = ["--format", "csv", "--out", str(facts)] if option == "--out" else ["--record", "--db", str(facts)]
    run = run_cdcs("grade", str(facts), *extra)
    assert_no_traceback(run)
    assert run.code == 2 and f"{option} {facts} is the facts file itself" in run.stderr, run
    assert facts.read_bytes() == before


def test_a_name_or_id_a_spreadsheet_would_run_as_a_formula_is_written_inert(tmp_path: Path):
    from openpyxl import load_workbook

    rows = list(csv.reader(VALID.open(encoding="utf-8", newline="")))
    rows[2][HEADER.index("name")] = '=HYPERLINK("http://example.invalid","Bấm vào đây")'
    rows[3][HEADER.index("unit_id")] = "@SUM(1+1)"
    rows[1][HEADER.index("name")] = "-Công đoàn"
    facts = tmp_path / "units.csv"
    with facts.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    run = run_cdcs("grade", str(facts), "--format", "csv")
    assert run.code == 0, run
    written = list(csv.reader(run.stdout.splitlines()))
    assert [written[1][1], written[2][1], written[3][0]] == [
        "'-Công đoàn", '\'=HYPERLINK("http://example.invalid","Bấm vào đây")', "'@SUM(1+1)"]
    book_path = tmp_path / "results.xlsx"
    assert run_cdcs("grade", str(facts), "--format", "xlsx", "--out", str(book_path)).code == 0
    book = load_workbook(book_path)  # not read-only: every cell's type is seen
    cell = book["results"].cell(row=3, column=2)
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://example.invalid","Bấm vào đây")', "s")
    assert not any(c.data_type == "f" for sheet in book.worksheets for r in sheet.iter_rows() for c in r)


def _valid_json_with(tmp_path: Path, **changes) -> Path:
    """The valid units as JSON (bad_value.json with its bad cell mended), the second unit's facts changed."""
    units = json.loads((FACTS / "bad_value.json").read_text(encoding="utf-8"))["units"]
    units[BAD]["workers_total"] = 500  # as its neighbours report (more members than workers would break a constraint)
    assert units[BAD]["budget_submitted_on"] == "2024-01-20"
    units[BAD].update(changes)
    path = tmp_path / "units.json"
    path.write_text(json.dumps({"units": units}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("value, graded", [(1, True), (0, True), (1.0, True), (0.0, True), (2, False), (-1, False),
                                           (0.5, False)])
def test_a_number_in_a_yes_no_fact_is_accepted_only_as_1_or_0(tmp_path: Path, value, graded: bool):
    """A workbook or JSON cell holding a number for a yes/no fact: 1 and 0 are the usual spelling, anything else
    is a mistake to be shown, not a 'yes'."""
    path = _valid_json_with(tmp_path, has_operating_rules=value)
    run, results = graded_json(str(path))
    assert (results[BAD]["status"] != "invalid") is graded, run
    if not graded:
        assert run.lines_at(f"{path}: error: unit 2, fact 'has_operating_rules': {value!r}: expected true or false"), run


@pytest.mark.parametrize("label", ["Cơ quan hành chính", "CƠ QUAN HÀNH CHÍNH", "Public administration"])
def test_a_code_may_be_written_as_its_vietnamese_or_english_label(tmp_path: Path, label: str, valid_results):
    from engine.reading.loading import load_catalogue

    catalogue, _ = load_catalogue(REPO / "criteria" / "catalogue.yaml")
    labels = catalogue.facts["workplace_type"].values["public_admin"]
    assert label.casefold() in (labels.vi.casefold(), labels.en.casefold())
    path = _with_cell(tmp_path, "workplace_type", label)
    run, results = graded_json(str(path))
    assert run.code == 0, run
    assert [comparable(r) for r in results] == [comparable(r) for r in valid_results]


# --- the readers' limits (engine/limits.py): refused with the limit named, in bounded time and memory ------------

def test_a_text_fact_one_character_over_its_limit_makes_only_its_unit_invalid(valid_results):
    from engine.limits import TEXT_CHARS
    path = shown(FACTS / "text_too_long.csv")
    run, results = graded_json(path)
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    located = run.lines_at(f"{path}:3:{column('name')}: error: ")
    assert located and f"a text of {TEXT_CHARS + 1} characters; expected at most {TEXT_CHARS}" in located[0], run
    assert len(located[0]) < 300, located[0]


def test_a_text_fact_at_its_limit_is_read_whole(tmp_path: Path, valid_results):
    from engine.limits import TEXT_CHARS
    name = "Công đoàn " + "Ư" * (TEXT_CHARS - len("Công đoàn "))
    run, results = graded_json(str(_with_cell(tmp_path, "name", name)))
    assert run.code == 0, run
    assert results[BAD]["name"] == name and results[BAD]["grade"] == valid_results[BAD]["grade"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_cell_longer_than_the_csv_modules_own_limit_is_a_located_problem(tmp_path: Path, jobs: str,
                                                                             valid_results):
    """131,072 characters stopped Python's CSV reader with a traceback."""
    path = _with_cell(tmp_path, "name", "B" * 200_000)
    run, results = graded_json(str(path), "--jobs", jobs)
    assert run.code == 1, run
    assert_only_the_bad_unit_is_invalid(results, valid_results)
    assert run.lines_at(f"{path}:3:{column('name')}: error: "), run


def test_a_quote_never_closed_stops_the_file_at_its_row():
    path = shown(FACTS / "unclosed_quote.csv")
    run = run_cdcs("grade", path, "--format", "json")
    assert_stops_the_file(run)
    assert run.lines_at(f"{path}:3: error: row 3: a quote (\") opened there is never closed"), run


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_quote_never_closed_in_a_large_file_stops_it_without_reading_the_rest_as_one_cell(tmp_path: Path,
                                                                                                 jobs: str):
    from engine.limits import ROW_CHARS
    lines = VALID.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = [lines[1]] * (ROW_CHARS // len(lines[1]) + 100)
    rows[2] = rows[2].replace(",Công đoàn", ',"Công đoàn', 1)
    path = tmp_path / "units.csv"
    path.write_text(lines[0] + "".join(rows), encoding="utf-8")
    run = run_cdcs("grade", str(path), "--format", "json", "--jobs", jobs)
    assert_stops_the_file(run)
    located = run.lines_at(f"{path}:4: error: ")
    assert located and f"past {ROW_CHARS:,} characters" in located[0] and "never closed" in located[0], run


def test_a_file_of_one_endless_line_is_refused_at_that_line(tmp_path: Path):
    from engine.limits import ROW_CHARS
    path = tmp_path / "units.csv"
    path.write_text(VALID.read_text(encoding="utf-8").splitlines()[0] + "\n" + "x" * (ROW_CHARS + 1),
                    encoding="utf-8")
    run = run_cdcs("grade", str(path))
    assert_stops_the_file(run)
    assert run.lines_at(f"{path}:2: error: line 2 is longer than {ROW_CHARS:,} characters"), run


def test_a_header_of_too_many_columns_is_one_message_naming_the_limit():
    path = shown(FACTS / "too_many_columns.csv")
    run = run_cdcs("grade", path, "--format", "json")
    assert_stops_the_file(run)
    assert run.lines_at(f"{path}:1:1001: error: the header has 1,001 columns; at most 1,000 are read"), run
    assert run.stderr.count(" error: ") == 1, run


def test_a_header_of_many_unknown_columns_shows_the_first_twenty_and_counts_the_rest(tmp_path: Path):
    lines = VALID.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "units.csv"
    path.write_text("\n".join([lines[0] + "".join(f",other_{i}" for i in range(300))]
                              + [line + "," * 300 for line in lines[1:]]) + "\n", encoding="utf-8")
    run = run_cdcs("grade", str(path))
    assert_stops_the_file(run)
    assert len([line for line in run.lines_at(f"{path}:1:") if "unknown fact 'other_" in line]) == 20, run
    assert run.lines_at(f"{path}:1: error: … and 280 more problems in the header"), run


@pytest.mark.parametrize("suffix, limit", [(".json", "JSON_FACTS_BYTES"), (".yaml", "YAML_FACTS_BYTES")])
def test_a_facts_file_read_whole_is_refused_past_its_size_before_it_is_read(tmp_path: Path, suffix: str, limit: str):
    from engine import limits
    path = tmp_path / f"units{suffix}"
    with open(path, "wb") as sparse:  # its size on paper: nothing is written, nothing need be read
        sparse.truncate(getattr(limits, limit) + 1)
    run = run_cdcs("grade", str(path))
    assert_stops_the_file(run)
    located = run.lines_at(f"{path}: error: the file is {getattr(limits, limit) + 1:,} bytes")
    assert located and "save a larger batch as CSV or XLSX" in located[0], run


def test_a_rule_set_past_its_size_or_not_a_regular_file_is_refused_without_reading_it(tmp_path: Path):
    from engine.limits import RULES_FILE_BYTES
    big = tmp_path / "ruleset.yaml"
    with open(big, "wb") as sparse:
        sparse.truncate(RULES_FILE_BYTES + 1)
    run = run_cdcs("validate", str(big))
    assert_no_traceback(run)
    assert run.code == 1 and run.lines_at(f"{big}: error: the file is {RULES_FILE_BYTES + 1:,} bytes"), run
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for args in (("validate", str(fifo)), ("grade", shown(VALID), "--rules", str(fifo))):
        run = run_cdcs(*args)  # would wait for ever if it were opened
        assert_no_traceback(run)
        assert run.code == 1 and run.lines_at(f"{fifo}: error: not a regular file"), run


@pytest.mark.parametrize("kind", ["pipe", "missing"])
def test_a_recording_of_facts_that_cannot_be_read_stops_before_a_ledger_is_made(tmp_path: Path, kind: str):
    """With --record the facts file was hashed first: a pipe waited for ever, a missing file was a traceback."""
    facts = tmp_path / "units.csv"
    if kind == "pipe":
        os.mkfifo(facts)
    db = tmp_path / "audit.sqlite"
    run = run_cdcs("grade", str(facts), "--rules", "2024", "--record", "--db", str(db))
    assert_stops_the_file(run)
    assert run.lines_at(f"{facts}: error: {'not a regular file' if kind == 'pipe' else 'no such file'}"), run
    assert not db.exists()


@pytest.mark.parametrize("written", ["2024-01-20T00:00:00", "2024-01-20T00:00:00.000", "20/01/2024"])
def test_a_date_written_as_a_date_time_or_day_first_is_that_day(tmp_path: Path, written: str, valid_results):
    """JSON written from a spreadsheet carries dates as date-times; Vietnamese forms write the day first."""
    path = _valid_json_with(tmp_path, budget_submitted_on=written)
    run, results = graded_json(str(path))
    assert run.code == 0, run
    assert results[BAD]["facts"]["values"]["budget_submitted_on"] == "2024-01-20", results[BAD]["facts"]
    assert [r["grade"] for r in results] == [r["grade"] for r in valid_results]
