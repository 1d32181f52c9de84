"""`cdcs report`: the year against a programme's targets, through the real command.

Broken target files (tests/errors/targets.yaml: the bundled file with one text
replaced) are refused at their line; the arithmetic of a share — met exactly at the
target, short by the units it needs, no units at all — is checked on facts files made
from the bundled example with a known number of units meeting one target.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from cli_run import ERRORS, REPO, assert_no_traceback, run_cdcs

BUNDLED = REPO / "criteria" / "targets" / "cdytvn-2023-2028.yaml"
EXAMPLE = REPO / "examples" / "province_2025.csv"
BROKEN = yaml.safe_load((ERRORS / "targets.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", BROKEN, ids=[c["name"] for c in BROKEN])
def test_a_broken_target_file_is_refused_at_its_line(case: dict, tmp_path: Path):
    old, new = case["replace"]
    text = BUNDLED.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the replaced text must be in the bundled file once: {old!r}"
    broken = tmp_path / f"{case['name']}.yaml"
    broken.write_text(text.replace(old, new), encoding="utf-8")
    for done in (run_cdcs("report", "examples/province_2025.csv", "--targets", str(broken)),
                 run_cdcs("validate", str(broken), "--rules", "2025")):  # validate tells a targets file by its keys
        assert done.code == 1, done
        assert_no_traceback(done)
        assert done.stdout == "", done
        located = done.lines_at(f"{broken}:{case['line']}:")
        assert located, done
        for words in case["words"]:
            assert any(words in line for line in located), (words, done)


def test_the_bundled_target_file_validates_against_the_newest_bundled_catalogue():
    done = run_cdcs("validate", str(BUNDLED.relative_to(REPO)))
    assert done.code == 0 and done.stdout == "1 file valid\n", done


def test_a_missing_target_file_is_named():
    done = run_cdcs("report", "examples/province_2025.csv", "--targets", "no/such/targets.yaml")
    assert done.code == 1 and "no/such/targets.yaml: error: no such file" in done.stderr, done
    assert_no_traceback(done)


def _facts_with(tmp_path: Path, disclosed: int, units: int) -> Path:
    """The first ``units`` units of the example, of which exactly the first ``disclosed`` disclose their finances."""
    rows = list(csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))[:units]
    for i, row in enumerate(rows):
        row["disclosure_done"] = "true" if i < disclosed else "false"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "units.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _disclosure(tmp_path: Path, facts: Path, at_least: str, of: str = "all") -> dict:
    targets = tmp_path / "targets.yaml"
    targets.write_text(f"""\
id: test_targets
version: "1"
title: {{vi: "Chỉ tiêu thử", en: "Test targets"}}
source: "tests"
groups:
  fdi: {{label: {{vi: "FDI", en: "FDI"}}, condition: "workplace_type == 'fdi'"}}
  nobody: {{label: {{vi: "Không ai", en: "Nobody"}}, condition: "members_total < 0"}}
targets:
  - id: disclosure
    reference: "5"
    text: "CĐCS thực hiện công khai tài chính"
    label: {{vi: "Công khai tài chính", en: "Financial disclosure"}}
    kind: share
    at_least: {at_least}
    of: {of}
    measure: {{fact: disclosure_done}}
""", encoding="utf-8")
    done = run_cdcs("report", str(facts), "--targets", str(targets), "--format", "json")
    assert done.code == 0, done
    return json.loads(done.stdout)["results"][0]


@pytest.mark.parametrize("disclosed, at_least, met, gap", [
    (8, "80", True, 0),     # exactly at the target
    (7, "80", False, 1),    # one unit short
    (7, "70.5", False, 1),  # 70% of 10 is under 70.5%: one more unit reaches 80%
    (10, "100", True, 0),
    (0, "100", False, 10),
    (3, "25", True, 0),
])
def test_a_share_is_met_at_its_target_and_short_by_the_units_it_needs(tmp_path, disclosed, at_least, met, gap):
    result = _disclosure(tmp_path, _facts_with(tmp_path, disclosed, 10), at_least)
    overall = result["overall"]
    assert (overall["units"], overall["count"], overall["met"], overall["gap"]) == (10, disclosed, met, gap)
    assert overall["value"] == disclosed * 10
    assert [u["measure"] for u in result["blocking"]] == ["not_met"] * (10 - disclosed)


def test_a_group_with_no_units_says_so_rather_than_dividing_by_zero(tmp_path):
    result = _disclosure(tmp_path, _facts_with(tmp_path, 5, 10), "80", of="nobody")
    assert result["overall"] == {"units": 0, "count": 0, "unknown": 0, "value": None, "met": None, "gap": None,
                                 "no_units": True}
    table = run_cdcs("report", str(tmp_path / "units.csv"), "--targets", str(tmp_path / "targets.yaml"), "--lang", "en")
    assert table.code == 0 and "no units" in table.stdout, table


def test_each_breakdown_adds_up_to_the_whole(tmp_path):
    doc = json.loads(run_cdcs("report", "examples/province_2025.csv", "--format", "json").stdout)
    for result in doc["results"]:
        if not result["measurable"]:
            assert result["not_measurable"].startswith("no fact ")
            continue
        for rows in result["by"].values():
            assert sum(r["units"] for r in rows) == result["overall"]["units"], result["id"]
            assert sum(r["count"] for r in rows) == result["overall"]["count"], result["id"]


def test_the_targets_schema_is_stable_and_knows_every_key_the_bundled_file_uses():
    first, second = run_cdcs("schema", "--of", "targets"), run_cdcs("schema", "--of", "targets")
    assert first.code == 0 and first.stdout_bytes == second.stdout_bytes, first
    schema = json.loads(first.stdout)
    defs = schema["$defs"]
    assert schema["additionalProperties"] is False and defs["Target"]["additionalProperties"] is False
    bundled = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    assert set(bundled) <= set(schema["properties"])
    for target in bundled["targets"]:
        assert set(target) <= set(defs["Target"]["properties"]), target["id"]
        assert set(target["measure"]) <= set(defs["Measure"]["properties"]), target["id"]
    assert set(defs["Target"]["properties"]["kind"]["enum"]) == {"share", "count"}


@pytest.fixture(scope="module")
def two_years(tmp_path_factory) -> Path:
    """A ledger with 2024 and 2025 of the example province recorded, as a committee would."""
    ledger = tmp_path_factory.mktemp("ledger") / "audit.sqlite"
    for facts in ("examples/province_2024.csv", "examples/province_2025.csv"):
        done = run_cdcs("grade", facts, "--record", "--db", str(ledger), "--format", "csv", "--out",
                        str(ledger.parent / "out.csv"), "--by", "Ban kiểm tra")
        assert done.code == 0, done
    return ledger


def _report(*args: str) -> dict:
    done = run_cdcs("report", *args, "--format", "json")
    assert done.code == 0, done
    return json.loads(done.stdout)


def test_a_recorded_year_reports_what_grading_its_file_reports(two_years):
    for year, facts in ((2025, "examples/province_2025.csv"), (2024, "examples/province_2024.csv")):
        recorded = _report("--db", str(two_years), "--year", str(year))
        graded = _report(facts)
        assert recorded["facts"]["year"] == year
        for key in ("results", "grades", "findings", "units", "ruleset", "targets"):
            assert recorded[key] == graded[key], (year, key)


def test_the_trend_gives_each_recorded_year_its_own_values(two_years):
    doc = _report("--db", str(two_years))
    assert doc["facts"]["year"] == 2025  # the latest by default
    assert [y["year"] for y in doc["trend"]] == [2024, 2025]
    for y, facts in zip(doc["trend"], ("examples/province_2024.csv", "examples/province_2025.csv")):
        graded = {r["id"]: r for r in _report(facts)["results"]}
        for target_id, figures in y["targets"].items():
            if figures is None:
                assert not graded[target_id]["measurable"]
            else:
                assert figures == {k: graded[target_id]["overall"][k] for k in ("value", "met", "units", "count")}
    table = run_cdcs("report", "--db", str(two_years), "--lang", "en")
    assert table.code == 0 and "Year by year" in table.stdout and "2024" in table.stdout, table


def test_an_override_counts_as_the_committee_decided(two_years, tmp_path):
    ledger = tmp_path / "audit.sqlite"
    ledger.write_bytes(two_years.read_bytes())
    before = _report("--db", str(ledger))
    unit = next(u for u in before["results"][0]["blocking"] if u["state"] == "completed")["unit_id"]
    done = run_cdcs("override", unit, "--year", "2025", "--grade", "good", "--reason", "Hội đồng xét lại",
                    "--db", str(ledger), "--by", "Hội đồng thi đua")
    assert done.code == 0, done
    after = _report("--db", str(ledger))
    assert after["results"][0]["overall"]["count"] == before["results"][0]["overall"]["count"] + 1
    assert unit not in [u["unit_id"] for u in after["results"][0]["blocking"]]


@pytest.mark.parametrize("args, code, words", [
    (["examples/province_2025.csv", "--db", "x.sqlite"], 2, "not both"),
    ([], 2, "give FACTS"),
    (["examples/province_2025.csv", "--year", "2025"], 2, "--year is for --db"),
])
def test_report_usage_mistakes_are_told(args, code, words):
    done = run_cdcs("report", *args)
    assert done.code == code and words in done.stderr, done
    assert_no_traceback(done)


def test_a_year_not_recorded_is_named_with_the_years_that_are(two_years):
    done = run_cdcs("report", "--db", str(two_years), "--year", "2023")
    assert done.code == 1 and "no grading run is recorded for 2023; recorded years: 2024, 2025" in done.stderr, done
    assert_no_traceback(done)


def test_the_workbook_keeps_numbers_as_numbers_and_shares_as_percentages(tmp_path):
    from openpyxl import load_workbook

    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for out in (first, second):
        done = run_cdcs("report", "examples/province_2025.csv", "--format", "xlsx", "--out", str(out), "--lang", "en")
        assert done.code == 0 and done.stdout == "", done
    assert first.read_bytes() == second.read_bytes()  # no clock in the file
    book = load_workbook(first)
    assert book.sheetnames == ["targets", "workplace_group", "upper_union", "emulation_bloc", "grades", "findings",
                               "blocking", "about"]
    graded = {r["id"]: r for r in _report("examples/province_2025.csv")["results"]}
    rows = {row[0].value: row for row in book["targets"].iter_rows(min_row=2)}
    assert set(rows) == set(graded)
    good = rows["good_or_better"]
    assert (good[6].value, good[6].number_format) == (0.8, "0.00%")  # the goal
    assert (good[11].value, good[11].number_format) == (0.7, "0.00%")  # the share, as Excel reads a percentage
    assert (good[8].value, good[9].value, good[12].value, good[13].value) == (60, 42, False, 6)
    assert rows["upper_level_inspections"][7].value is False  # not measurable: no figures
    assert rows["upper_level_inspections"][11].value is None
    enterprises = [row for row in book["workplace_group"].iter_rows(min_row=2, values_only=True)
                   if row[0] == "enterprise_cba"]
    assert enterprises == [("enterprise_cba", "Enterprises", 21, 14, 0, pytest.approx(14 / 21, abs=1e-4), False, 4, "units")]


def test_a_workbook_or_a_page_needs_a_file_to_go_to():
    for fmt in ("xlsx", "html"):
        done = run_cdcs("report", "examples/province_2025.csv", "--format", fmt)
        assert done.code == 2 and f"give --out report.{fmt}" in done.stderr, done


def test_an_installed_engine_finds_the_bundled_targets_beside_the_rules_it_grades_with(tmp_path):
    """As `pip install .` leaves it: the engine's code elsewhere, the rules and targets in the folder a user works in."""
    import shutil

    installed = tmp_path / "site-packages"
    shutil.copytree(REPO / "engine", installed / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    for cwd, facts in ((REPO, "examples/province_2025.csv"), (REPO / "examples", "province_2025.csv")):
        done = run_cdcs("report", facts, "--format", "json", cwd=cwd, env={"PYTHONPATH": str(installed)})
        assert done.code == 0, done
        assert json.loads(done.stdout)["targets"]["id"] == "cdytvn_programme"


def test_the_page_of_a_recorded_year_shows_each_target_year_by_year(two_years, tmp_path):
    page = tmp_path / "report.html"
    done = run_cdcs("report", "--db", str(two_years), "--format", "html", "--out", str(page), "--lang", "en")
    assert done.code == 0, done
    text = page.read_text(encoding="utf-8")
    trend = text[text.index('<section id="trend">'):]
    trend = trend[:trend.index("</section>")]
    assert '<th scope="col">2024</th>' in trend and '<th scope="col">2025</th>' in trend
    assert "65% ✗" in trend and "70% ✗" in trend  # units graded good or better, 2024 then 2025
    assert '<svg role="img" aria-label="Year by year"' in trend
    assert trend.count("<rect") == 2 * sum(1 for r in _report("--db", str(two_years))["results"]
                                           if r["measurable"] and r["kind"] == "share")

