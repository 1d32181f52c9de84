"""``cdcs impact``: the same units under two rule sets, through the real CLI on real files."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs

PROVINCE_2024 = "examples/province_2024.csv"
PROVINCE_2025 = "examples/province_2025.csv"
NEW_FACTS = "examples/province_2024_new_facts.csv"


def _impact(*args: str) -> dict:
    run = run_cdcs("impact", *args, "--format", "json")
    assert run.code == 0, run
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def province_2025() -> dict:
    return _impact(PROVINCE_2025, "--from", "2024.1", "--to", "2025.1")


def _unit(doc: dict, unit_id: str) -> dict:
    found = [u for u in doc["units"] if u["unit_id"] == unit_id]
    assert found, f"{unit_id} is not among the changed units {[u['unit_id'] for u in doc['units']]}"
    return found[0]


def _rules(unit: dict) -> dict[str, tuple]:
    return {r["rule"]: (r["before"], r["after"]) for r in unit["rules"]}


def test_a_unit_under_30pct_tasks_exceeded_falls_to_good_because_of_the_new_condition(province_2025):
    unit = _unit(province_2025, "HL-TTYT04")
    assert unit["move"] == "down" and unit["before"]["grade"] == "excellent" and unit["after"]["grade"] == "good"
    assert _rules(unit)["level.excellent.tasks_exceeded_30pct"] == ("absent", "not held")


def test_a_unit_with_shortcomings_left_falls_to_good_and_names_the_366_condition(province_2025):
    unit = _unit(province_2025, "HL-DN12")
    assert (unit["before"]["grade"], unit["after"]["grade"]) == ("excellent", "good")
    assert _rules(unit)["level.excellent.shortcomings_all_fixed"] == ("absent", "not held")
    assert "level.excellent.tasks_exceeded_30pct" not in _rules(unit)  # it holds: not responsible


def test_a_unit_the_quota_no_longer_demotes_moves_up_because_of_the_quota(province_2025):
    unit = _unit(province_2025, "HL-TTYT03")
    assert unit["move"] == "up" and _rules(unit) == {"quota": ("demoted", "kept")}


def test_a_score_crossing_a_band_names_the_band_and_the_criteria_that_moved_it(province_2025):
    unit = _unit(province_2025, "HL-TTYT11")
    rules = _rules(unit)
    assert (unit["before"]["grade"], unit["after"]["grade"]) == ("not_completed", "completed")
    assert rules["level.completed.band"] == ("not held", "held")
    assert rules["criterion.culture_movement"] == ("0/5", "absent")  # retired
    assert rules["criterion.shortcomings_fixed"] == ("5/5", "7/7")
    assert not any(r.startswith("level.excellent") for r in rules)  # levels the change did not cross


def test_summary_and_distribution_add_up(province_2025):
    summary, dist = province_2025["summary"], province_2025["distribution"]
    assert summary["units"] == 60 == sum(v["before"] for v in dist.values()) == sum(v["after"] for v in dist.values())
    assert summary["changed"] == len(province_2025["units"])
    moves = [u["move"] for u in province_2025["units"]]
    assert (summary["grade_up"], summary["grade_down"]) == (moves.count("up"), moves.count("down"))
    assert dist["excellent"] == {"before": 7, "after": 6}
    assert province_2025["facts"]["sides"][0] == {"version": "2024.1", "year": 2024, "moved_years": -1}


def test_unchanged_units_are_not_listed(province_2025):
    listed = {u["unit_id"] for u in province_2025["units"]}
    assert "HL-BV01" not in listed  # excellent under both (it exceeds 5 of 15 tasks)
    assert all(u["changed"] for u in province_2025["units"])


def test_last_years_units_with_the_new_facts_supplied(tmp_path):
    doc = _impact(PROVINCE_2024, "--from", "2024.1", "--to", "2025.1", "--with", NEW_FACTS)
    vp01 = _unit(doc, "HL-VP01")  # 3 of 12 tasks exceeded: excellent in 2024, good under 2025
    assert (vp01["before"]["grade"], vp01["after"]["grade"]) == ("excellent", "good")
    bv03 = _unit(doc, "HL-BV03")  # dues due at the lower July rate: the finance check now passes
    assert (bv03["before"]["financial_audit"], bv03["after"]["financial_audit"]) == ("fail", "pass")
    assert _rules(bv03)["check.dues_collected"] == ("not held", "held")
    assert doc["facts"]["supplement"] == NEW_FACTS
    assert not any(u["newly_missing_facts"] for u in doc["units"])


def test_without_the_new_facts_the_table_says_which_are_missing_and_how_to_give_them():
    run = run_cdcs("impact", PROVINCE_2024, "--from", "2024.1", "--to", "2025.1", "--lang", "en")
    assert run.code == 0, run
    assert ("units lack facts that 2025.1 needs (dues_salary_h1_vnd, dues_salary_h2_vnd, members_digital_pct): "
            "give them with --with FILE") in run.stdout


def test_a_rule_set_against_itself_changes_nothing():
    doc = _impact(PROVINCE_2024, "--from", "2024.1", "--to", "rules/2024/ruleset-2024.1.yaml")
    assert doc["units"] == [] and doc["summary"]["changed"] == 0
    table = run_cdcs("impact", PROVINCE_2024, "--from", "2024", "--to", "2024", "--lang", "en")
    assert table.code == 0 and "No unit changes." in table.stdout, table


def _copy_with(tmp_path: Path, source: str, change) -> Path:
    with open(REPO / source, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows = change(rows)
    out = tmp_path / Path(source).name
    with open(out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return out


def test_facts_of_another_year_are_refused(tmp_path):
    def to_2023(rows):
        col = rows[0].index("year")
        return [rows[0]] + [r[:col] + ["2023"] + r[col + 1:] for r in rows[1:]]

    path = _copy_with(tmp_path, PROVINCE_2024, to_2023)
    run = run_cdcs("impact", str(path), "--from", "2024", "--to", "2025")
    assert run.code == 1, run
    assert "the units report the year 2023, but the rule sets compared are for 2024 and 2025" in run.stderr
    assert run.stdout == ""
    assert_no_traceback(run)


def test_a_column_neither_catalogue_knows_is_located_with_a_suggestion(tmp_path):
    path = _copy_with(tmp_path, PROVINCE_2025, lambda rows: [[("members_digtal_pct" if c == "members_digital_pct" else c)
                                                             for c in rows[0]]] + rows[1:])
    run = run_cdcs("impact", str(path), "--from", "2024", "--to", "2025")
    column = next(i for i, c in enumerate((REPO / PROVINCE_2025).read_text(encoding="utf-8").splitlines()[0].split(","))
                  if c == "members_digital_pct") + 1
    assert run.code == 1, run
    assert run.lines_at(f"{path.name}:1:{column}:") or any(f":1:{column}: error: unknown column 'members_digtal_pct'" in line
                                                          for line in run.stderr.splitlines()), run
    assert "Did you mean 'members_digital_pct'?" in run.stderr
    assert_no_traceback(run)


def test_a_supplement_naming_an_unknown_unit_is_refused_at_its_row(tmp_path):
    path = _copy_with(tmp_path, NEW_FACTS, lambda rows: rows[:3] + [["HL-XX99"] + rows[3][1:]] + rows[4:])
    run = run_cdcs("impact", PROVINCE_2024, "--from", "2024", "--to", "2025", "--with", str(path))
    assert run.code == 1, run
    assert any(line.endswith(":4:1: error: unit 'HL-XX99' is not in examples/province_2024.csv") for line in run.stderr.splitlines()), run
    assert_no_traceback(run)


def test_a_supplement_repeating_a_column_is_refused(tmp_path):
    path = _copy_with(tmp_path, NEW_FACTS, lambda rows: [rows[0] + ["tasks_exceeded"]] + [r + ["3"] for r in rows[1:]])
    run = run_cdcs("impact", PROVINCE_2024, "--from", "2024", "--to", "2025", "--with", str(path))
    assert run.code == 1 and "column 'tasks_exceeded' is in examples/province_2024.csv too" in run.stderr, run


def test_a_catalogue_given_as_a_rule_set_is_refused():
    run = run_cdcs("impact", PROVINCE_2024, "--from", "2024", "--to", "criteria/catalogue-2025.yaml")
    assert run.code == 1 and "not a rule set" in run.stderr, run
    assert_no_traceback(run)


def test_a_file_graded_in_processes_moves_its_dates_as_one_process_does(tmp_path):
    """A large file stays in chunks of text: the processes that type its records move them to the other year.
    Every unit, a quoted name among them, is compared the same whatever the number of processes."""
    with open(REPO / PROVINCE_2024, encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    ids, names = header.index("unit_id"), header.index("name")
    path = tmp_path / "many.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for copy in range(36):  # 2,160 units: more than a file graded in one process
            for row in rows:
                row = list(row)
                row[ids] = f"{row[ids]}-{copy}"
                if copy == 7:
                    row[names] = f'{row[names]}, "bản sao"\nthứ {copy}'
                out.writerow(row)
    docs = [_impact(str(path), "--from", "2024", "--to", "2025", "--jobs", jobs) for jobs in ("1", "2")]
    assert docs[0] == docs[1]
    assert docs[0]["summary"]["units"] == 2160 and docs[0]["summary"]["changed"] > 0
    assert docs[0]["facts"]["sides"][1]["moved_years"] == 1
    single = _impact(PROVINCE_2024, "--from", "2024", "--to", "2025")
    first = {u["unit_id"]: u for u in single["units"]}
    copied = {u["unit_id"].rsplit("-", 1)[0]: u for u in docs[1]["units"] if u["unit_id"].endswith("-7")}
    assert copied.keys() == first.keys()
    for unit_id, unit in first.items():
        assert copied[unit_id]["rules"] == unit["rules"] and copied[unit_id]["after"] == unit["after"]


@pytest.mark.parametrize("args", [
    ("examples/province_2024.csv", "--from", "2024.1", "--to", "2025.1"),  # many units, no parameter
    ("examples/province_2025.csv", "--from", "2025", "--to", "2026", "--with", "examples/province_2025_new_facts.csv"),
    ("examples/province_2025.csv", "--from", "2025.2", "--to", "2025.3"),  # no unit moves; parameters after the list
])
def test_the_json_written_unit_by_unit_is_the_document_json_would_write_whole(args):
    """The units are written one at a time from a spool; the bytes are those of the whole document dumped at once."""
    run = run_cdcs("impact", *args, "--format", "json")
    assert run.code == 0, run
    doc = json.loads(run.stdout)
    assert run.stdout == json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    assert list(doc) == ["from", "to", "facts", "summary", "distribution", "units", *(["params"] if "params" in doc else [])]
    assert doc["summary"]["changed"] == len(doc["units"]) and ("params" in doc) == (args[2] != "2024.1")
