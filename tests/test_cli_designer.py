"""Designer commands through the real CLI: running a rule set's cases, the JSON Schema."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from cli_run import REPO, run_cdcs


def _copy_ruleset(tmp_path: Path) -> Path:
    """The 2024 rule set and its cases in a scratch folder, with the catalogue beside them."""
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "rules" / "2024", tmp_path / "rules" / "2024")
    for later in [*(tmp_path / "rules/2024").glob("ruleset-2024.[!1]*.yaml"), *(tmp_path / "rules/2024/cases").glob("grading-*.yaml")]:
        later.unlink()  # 2024 as released: the amendments read the cases these tests change
    return tmp_path / "rules" / "2024" / "ruleset-2024.1.yaml"


def test_bundled_cases_all_pass():
    cases = yaml.safe_load((REPO / "rules" / "2024" / "cases" / "grading.yaml").read_text(encoding="utf-8"))["cases"]
    run = run_cdcs("test", "2024.1")
    assert run.code == 0, run
    assert run.stdout.strip().splitlines()[-1] == f"{len(cases)} passed, 0 failed", run


def test_a_wrong_expectation_fails_with_expected_and_actual(tmp_path):
    ruleset = _copy_ruleset(tmp_path)
    case_file = ruleset.parent / "cases" / "grading.yaml"
    text = case_file.read_text(encoding="utf-8")
    wrong = text.replace("facts: {tasks_exceeded: 3}\n    expect: {grade: good, score: 100}",
                         "facts: {tasks_exceeded: 3}\n    expect: {grade: excellent, score: 100}")
    assert wrong != text
    case_file.write_text(wrong, encoding="utf-8")
    run = run_cdcs("test", str(ruleset))
    assert run.code == 1, run
    fail_lines = [line for line in run.stdout.splitlines() if "FAIL" in line]
    assert len(fail_lines) == 1 and fail_lines[0].endswith("FAIL excellent_needs_20pct_tasks_exceeded"), run
    assert fail_lines[0].startswith(f"{case_file}:"), run  # file:line of the failing case
    assert "grade: expected 'excellent', got 'good'" in run.stdout, run
    assert "next_grade_missed" in run.stdout, run  # the explanation of the actual result
    assert run.stdout.strip().splitlines()[-1].endswith("1 failed"), run


def test_a_case_naming_an_unknown_fact_is_a_located_error(tmp_path):
    ruleset = _copy_ruleset(tmp_path)
    case_file = ruleset.parent / "cases" / "grading.yaml"
    text = case_file.read_text(encoding="utf-8").replace("facts: {tasks_exceeded: 4}", "facts: {tasks_exceded: 4}")
    case_file.write_text(text, encoding="utf-8")
    run = run_cdcs("test", str(ruleset))
    assert run.code == 1, run
    assert "unknown fact 'tasks_exceded'. Did you mean 'tasks_exceeded'?" in run.stderr, run
    assert "Traceback" not in run.stderr


def test_a_rule_set_without_cases_is_refused(tmp_path):
    ruleset = _copy_ruleset(tmp_path)
    shutil.rmtree(ruleset.parent / "cases")
    run = run_cdcs("test", str(ruleset))
    assert run.code == 1 and "no test cases" in run.stderr, run


def test_schema_describes_the_rule_set_format_and_is_stable():
    first, second = run_cdcs("schema"), run_cdcs("schema")
    assert first.code == 0 and first.stdout_bytes == second.stdout_bytes
    schema = json.loads(first.stdout)
    assert {"id", "year", "version", "criteria", "levels", "finance", "quota"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"id", "year", "version", "criteria", "levels", "finance"}
    assert schema["additionalProperties"] is False  # unknown keys are errors in editors too
    tier = schema["$defs"]["Tier"]
    assert tier["additionalProperties"] is False and tier["properties"]["award_pct"]["maximum"] == 100


def test_schema_of_the_catalogue_knows_its_constraints_and_the_mark_for_reports():
    run = run_cdcs("schema", "--of", "catalogue")
    assert run.code == 0, run
    schema = json.loads(run.stdout)
    assert schema["title"] == "CĐCS catalogue of facts" and schema["additionalProperties"] is False
    assert {"facts", "groups", "extends", "constraints"} <= set(schema["properties"])
    assert "reports_only" in schema["$defs"]["FactSpec"]["properties"]
    assert set(schema["$defs"]["Constraint"]["required"]) == {"require", "label"}


def _broken_cases(tmp_path: Path, old: str, new: str) -> tuple[Path, Path, int]:
    ruleset = _copy_ruleset(tmp_path)
    case_file = ruleset.parent / "cases" / "grading.yaml"
    text = case_file.read_text(encoding="utf-8")
    assert old in text
    case_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if old in t)
    return ruleset, case_file, line


def test_a_misspelt_expectation_key_is_a_located_error_before_any_case_runs(tmp_path):
    ruleset, case_file, line = _broken_cases(tmp_path, "expect: {status: graded, grade: excellent, score: 100",
                                             "expect: {status: graded, grdae: excellent, score: 100")
    for command in (["test", str(ruleset)], ["validate", str(case_file)]):
        run = run_cdcs(*command)
        assert "Traceback" not in run.stderr and run.code == 1, run
        located = [t for t in run.stderr.splitlines() if t.startswith(f"{case_file}:{line}:")]
        assert located and "unexpected key 'grdae'. Did you mean 'grade'?" in located[0], run
        assert run.stdout == "", run


def test_a_case_file_that_cannot_be_read_is_reported_not_skipped(tmp_path):
    ruleset, case_file, _ = _broken_cases(tmp_path, "ruleset: ../ruleset-2024.1.yaml", "ruleset: [../ruleset-2024.1.yaml")
    run = run_cdcs("test", str(ruleset))
    assert "Traceback" not in run.stderr and run.code == 1, run
    assert f"{case_file}:" in run.stderr and "passed" not in run.stdout, run


def test_validate_knows_a_case_file_and_a_rule_set_written_by_a_program(tmp_path):
    ruleset = _copy_ruleset(tmp_path)
    run = run_cdcs("validate", str(ruleset.parent / "cases" / "grading.yaml"))
    assert (run.code, run.stdout) == (0, "1 file valid\n"), run
    dumped = ruleset.parent / "ruleset-dumped.yaml"
    dumped.write_text(yaml.safe_dump(yaml.safe_load(ruleset.read_text(encoding="utf-8")), allow_unicode=True),
                      encoding="utf-8")
    assert "\n- " in dumped.read_text(encoding="utf-8")  # top-level lists unindented, as PyYAML writes them
    run = run_cdcs("validate", str(dumped))
    assert run.code == 0 and run.stdout.startswith("1 file valid"), run
