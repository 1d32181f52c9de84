"""Named parameters with dated values (``params:``), read by name in conditions, through the real command.

The rule set here is the bundled 2025.2 with its dues check written as the policy says
it: one parameter, the dues rate, 1% until 30 June 2025 and 0.5% from 1 July, read on
each half-year's first day, and a second for the 95% share.  It must grade every unit
of the example exactly as 2025.2 does; a parameter read wrongly is refused at its place;
the static analysis finds one never read or a value never in force; diff names them.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs

PROVINCE = str(REPO / "examples" / "province_2025.csv")
RELEASED = '      require: "dues_collected_vnd >= (dues_salary_h1_vnd * 1% + dues_salary_h2_vnd * 0.5%) * 0.95"\n'
READING = ('      require: "dues_collected_vnd >= (dues_salary_h1_vnd * value_on(dues_rate, period_start)'
           ' + dues_salary_h2_vnd * value_on(dues_rate, date(\'2025-07-01\'))) * dues_collected_share"\n')
PARAMS = """params:
  dues_rate:
    label: {vi: "Mức đóng đoàn phí", en: "Member dues rate"}
    unit: "% of salary"
    values:
      - {since: 2020-01-01, value: 1%}
      - {since: 2025-07-01, value: 0.5%}
    reference: {document: "Quyết định 1910/QĐ-TLĐ", article: "Điều 4"}
  dues_collected_share:
    label: {vi: "Tỷ lệ thu đoàn phí tối thiểu", en: "Least share of dues collected"}
    value: 95%

criteria:
"""


def _write(workspace: Path, text: str, version: str = "2025.9") -> Path:
    path = workspace / "rules" / "2025" / f"ruleset-{version}.yaml"
    path.write_text(text.replace('version: "2025.2"', f'version: "{version}"', 1), encoding="utf-8")
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    text = (REPO / "rules" / "2025" / "ruleset-2025.2.yaml").read_text(encoding="utf-8")
    assert text.count(RELEASED) == 1 and text.count("\ncriteria:\n") == 1
    _write(tmp_path, text.replace(RELEASED, READING).replace("\ncriteria:\n", "\n" + PARAMS, 1))
    return tmp_path


def _grades(workspace: Path, rules: str) -> list[dict]:
    run = run_cdcs("grade", PROVINCE, "--rules", rules, "--format", "csv", cwd=workspace)
    assert run.code in (0, 1), run
    return [{k: v for k, v in row.items() if k != "ruleset_version"} for row in csv.DictReader(io.StringIO(run.stdout))]


def test_a_rate_that_changes_during_the_year_is_one_parameter_and_grades_as_before(workspace: Path):
    valid = run_cdcs("validate", "rules/2025/ruleset-2025.9.yaml", cwd=workspace)
    assert valid.code == 0 and "[unused-param]" not in valid.stderr and "[param-date]" not in valid.stderr, valid
    assert _grades(workspace, "2025.9") == _grades(workspace, "2025.2")


def test_the_explanation_shows_the_value_in_force_where_it_was_read(workspace: Path):
    run = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2025.9", "--format", "json", cwd=workspace)
    assert run.code == 0, run
    checks = json.loads(run.stdout)["result"]["explanation"]["finance"]["checks"]
    trace = json.dumps(next(c for c in checks if c["id"] == "dues_collected")["trace"], ensure_ascii=False)
    assert '"expr": "value_on(dues_rate, period_start)", "value": 0.01' in trace
    assert '"expr": "value_on(dues_rate, date(\'2025-07-01\'))", "value": 0.005' in trace
    assert '"expr": "dues_collected_share", "value": 0.95' in trace


@pytest.mark.parametrize("lang, rate, source", [
    ("vi", "1% (từ 2025-01-01), 0,5% (từ 2025-07-01)", "Căn cứ: Quyết định 1910/QĐ-TLĐ, Điều 4"),
    ("en", "1% (from 2025-01-01), 0.5% (from 2025-07-01)", "Source: Quyết định 1910/QĐ-TLĐ, Điều 4"),
])
def test_the_explanation_names_each_parameter_a_rule_read_with_its_value_and_source(workspace: Path, lang: str,
                                                                                     rate: str, source: str):
    text = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2025.9", "--lang", lang, cwd=workspace)
    assert text.code == 0, text
    lines = text.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "dues_collected —" in line)
    word = "tham số" if lang == "vi" else "parameter"
    assert [line.strip() for line in lines[at + 2:at + 4]] == [
        f"{word} dues_collected_share = 95%", f"{word} dues_rate = {rate} ({source})"], lines[at:at + 4]
    assert sum("dues_rate =" in line for line in lines) == 1  # only where it is read
    data = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2025.9", "--format", "json", "--lang", lang,
                    cwd=workspace)
    checks = json.loads(data.stdout)["result"]["explanation"]["finance"]["checks"]
    assert next(c for c in checks if c["id"] == "dues_collected")["params"] == [
        {"name": "dues_collected_share", "value": "95%"},
        {"name": "dues_rate", "value": rate, "reference": {"document": "Quyết định 1910/QĐ-TLĐ", "article": "Điều 4"}}]
    assert all("params" not in c for c in checks if c["id"] != "dues_collected")


@pytest.mark.parametrize("old, new, words", [
    ("value_on(dues_rate, period_start)", "dues_rate",
     "parameter 'dues_rate' has more than one value this year (from 2020-01-01, 2025-07-01): read the one in force "
     "on a day: value_on(dues_rate, date('2025-07-01'))"),
    ("value_on(dues_rate, period_start)", "value_on(dues_salary_h1_vnd, period_start)",
     "value_on() reads a parameter of the rule set (params:), not 'dues_salary_h1_vnd'"),
    ("value_on(dues_rate, period_start)", "value_on(dues_rate, date('2019-12-31'))",
     "parameter 'dues_rate' has no value in force on 2019-12-31 (its first is from 2020-01-01)"),
    ("value: 95%", "value: ninety", "'dues_collected_share' is a string, expected a number"),
    ("  dues_collected_share:\n", "  dues_salary_h1_vnd:\n", "params.dues_salary_h1_vnd: the name is taken by a fact"),
    ("      - {since: 2025-07-01, value: 0.5%}\n", "      - {since: 2025-07-01, value: 2025-07-01}\n",
     "params.dues_rate: its values are of different kinds (date, number)"),
    ("      - {since: 2025-07-01, value: 0.5%}\n", "      - {since: 2019-07-01, value: 0.5%}\n",
     "'values' must be in order of 'since', each day once"),
    ("    value: 95%\n", "    value: 95%\n    values: [{since: 2025-01-01, value: 90%}]\n",
     "give 'value', or 'values' (each with 'since'), not both and not neither"),
])
def test_a_parameter_declared_or_read_wrongly_is_refused_at_its_place(workspace: Path, old: str, new: str, words: str):
    path = workspace / "rules" / "2025" / "ruleset-2025.9.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    run = run_cdcs("validate", "rules/2025/ruleset-2025.9.yaml", cwd=workspace)
    assert run.code == 1, run
    assert_no_traceback(run)
    assert any(line.startswith("rules/2025/ruleset-2025.9.yaml:") and words in line
               for line in run.stderr.splitlines()), run


def test_a_parameter_never_read_or_a_value_never_in_force_is_warned_about(workspace: Path):
    path = workspace / "rules" / "2025" / "ruleset-2025.9.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "      - {since: 2020-01-01, value: 1%}\n",
        "      - {since: 2019-01-01, value: 2%}\n      - {since: 2020-01-01, value: 1%}\n").replace(
        "      - {since: 2025-07-01, value: 0.5%}\n",
        "      - {since: 2025-07-01, value: 0.5%}\n      - {since: 2026-01-01, value: 0.4%}\n").replace(
        "\ncriteria:\n", "  unread:\n    label: {vi: \"Chưa dùng\", en: \"Not read\"}\n    value: 3\n\ncriteria:\n", 1)
    path.write_text(text, encoding="utf-8")
    run = run_cdcs("validate", "rules/2025/ruleset-2025.9.yaml", cwd=workspace)
    assert run.code == 0, run
    warned = [line for line in run.stderr.splitlines() if "[unused-param]" in line or "[param-date]" in line]
    assert [line.split(": warning: ")[1] for line in warned] == [
        "params.dues_rate.values[0] (since 2019-01-01) is never in force in 2025: 2020-01-01 replaces it before 2025 "
        "begins [param-date]",
        "params.dues_rate.values[3] (since 2026-01-01) is never in force in 2025: it starts after 2025 ends [param-date]",
        "params.unread is declared but no condition of cdcs_health 2025.9 reads it [unused-param]"], run


def test_the_diff_names_the_parameters_and_their_values(workspace: Path):
    run = run_cdcs("diff", "2025.2", "2025.9", "--format", "json", cwd=workspace)
    rows = [(c["rule"], c["change"], c["after"]) for c in json.loads(run.stdout)["changes"] if c["section"] == "params"]
    assert rows == [("params.dues_rate", "added", {"2020-01-01": "1%", "2025-07-01": "0.5%"}),
                    ("params.dues_collected_share", "added", "95%")]
    text = _write(workspace, (workspace / "rules" / "2025" / "ruleset-2025.9.yaml").read_text(encoding="utf-8")
                  .replace('version: "2025.9"', 'version: "2025.2"').replace("value: 95%", "value: 90%"), "2025.10")
    assert text.exists()
    changed = run_cdcs("diff", "2025.9", "2025.10", cwd=workspace)
    assert "params.dues_collected_share: value 95% → 90%" in changed.stdout, changed


def test_a_label_shows_the_value_in_force_of_the_parameters_it_names(workspace: Path):
    path = workspace / "rules" / "2025" / "ruleset-2025.9.yaml"
    text = path.read_text(encoding="utf-8")
    old = ('label: {vi: "Thu đoàn phí đạt 95% (1% lương đến 30/6, 0,5% từ 1/7/2025)", en: "At least 95% of member dues '
           'collected (1% of salary to 30 June, 0.5% from 1 July 2025)"}')
    assert text.count(old) == 1
    path.write_text(text.replace(old, 'label: {vi: "Thu đoàn phí đạt {dues_collected_share} (mức đóng {dues_rate})", '
                                      'en: "At least {dues_collected_share} of dues collected (rate {dues_rate})"}'),
                    encoding="utf-8")
    vi = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2025.9", cwd=workspace)
    en = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2025.9", "--lang", "en", cwd=workspace)
    assert "dues_collected — Thu đoàn phí đạt 95% (mức đóng 1% (từ 2025-01-01), 0,5% (từ 2025-07-01))" in vi.stdout, vi
    assert "dues_collected — At least 95% of dues collected (rate 1% (from 2025-01-01), 0.5% (from 2025-07-01))" \
        in en.stdout, en
    path.write_text(path.read_text(encoding="utf-8").replace("(rate {dues_rate})", "(rate {dues_rat})"), encoding="utf-8")
    run = run_cdcs("validate", "rules/2025/ruleset-2025.9.yaml", cwd=workspace)
    assert run.code == 1 and any(
        "label.en: {dues_rat} names no parameter of the rule set. Did you mean 'dues_rate'?" in line
        for line in run.lines_at("rules/2025/ruleset-2025.9.yaml:")), run


def test_impact_names_the_parameter_that_moved_a_unit(workspace: Path):
    """Only the share changes from 2025.9 to 2025.10: every unit it moves says a parameter moved it, and which."""
    text = (workspace / "rules" / "2025" / "ruleset-2025.9.yaml").read_text(encoding="utf-8")
    later = workspace / "rules" / "2025" / "ruleset-2025.10.yaml"
    later.write_text(text.replace('version: "2025.9"', 'version: "2025.10"').replace("    value: 95%\n", "    value: 99%\n"),
                     encoding="utf-8")
    run = run_cdcs("impact", PROVINCE, "--from", "2025.9", "--to", "2025.10", "--format", "json", cwd=workspace)
    assert run.code == 0, run
    doc = json.loads(run.stdout)
    assert [(c["rule"], c["before"], c["after"]) for c in doc["params"]] == [("params.dues_collected_share", "95%", "99%")]
    assert doc["units"]
    for unit in doc["units"]:  # the check reading the share names it; what follows from the check (finance_passed,
        named = [row for row in unit["rules"] if "params" in row]  # the quota, titles) reads no parameter itself
        assert [(row["rule"], row["params"]) for row in named] == [("check.dues_collected", ["dues_collected_share"])]
    table = run_cdcs("impact", PROVINCE, "--from", "2025.9", "--to", "2025.10", "--lang", "en", cwd=workspace)
    assert table.stdout.splitlines()[1] == "Parameters changed: dues_collected_share: value 95% → 99%", table
    assert "check.dues_collected: held → not held (a parameter changed: dues_collected_share)" in table.stdout
