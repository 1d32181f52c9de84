"""``cdcs test --coverage`` through the real CLI: what the cases left unexercised, and its exit codes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from cli_run import REPO, assert_no_traceback, run_cdcs

BUNDLED_CASES = REPO / "rules" / "2024" / "cases" / "grading.yaml"


def _two_cases(tmp_path: Path) -> Path:
    """The 2024 rule set and catalogue in a scratch folder with only two cases: the
    excellent base unit, and the same unit vetoed for corruption."""
    (tmp_path / "rules" / "2024" / "cases").mkdir(parents=True)
    (tmp_path / "criteria").mkdir()
    shutil.copy(REPO / "criteria" / "catalogue.yaml", tmp_path / "criteria" / "catalogue.yaml")
    shutil.copy(REPO / "rules" / "2024" / "ruleset-2024.1.yaml", tmp_path / "rules" / "2024" / "ruleset-2024.1.yaml")
    base = yaml.safe_load(BUNDLED_CASES.read_text(encoding="utf-8"))["base"]
    cases = {"ruleset": "../ruleset-2024.1.yaml", "base": base, "cases": [
        {"name": "excellent", "expect": {"grade": "excellent"}},
        {"name": "corruption", "facts": {"corruption_case": True}, "expect": {"grade": "not_completed"}}]}
    (tmp_path / "rules" / "2024" / "cases" / "few.yaml").write_text(yaml.safe_dump(cases, allow_unicode=True), encoding="utf-8")
    return tmp_path / "rules" / "2024" / "ruleset-2024.1.yaml"


def _json_report(*args: str, cwd: Path = REPO) -> dict:
    run = run_cdcs("test", *args, "--coverage", "--format", "json", cwd=cwd)
    assert run.code == 0, run
    return json.loads(run.stdout)


def test_bundled_cases_exercise_every_outcome_of_2024():
    cases = yaml.safe_load(BUNDLED_CASES.read_text(encoding="utf-8"))["cases"]
    first, second = run_cdcs("test", "2024.1", "--coverage"), run_cdcs("test", "2024.1", "--coverage")
    assert first.code == 0, first
    lines = first.stdout.splitlines()
    assert lines[0] == f"{len(cases)} passed, 0 failed", first
    assert lines[-1] == "coverage: 170 of 170 outcomes exercised (100.0%)", first
    assert first.stdout_bytes == second.stdout_bytes  # the listing is stable
    assert run_cdcs("test", "2024.1", "--coverage", "--fail-under", "100").code == 0


def test_coverage_lists_rules_in_rule_set_order_with_their_lines():
    report = _json_report("2024.1")
    rules = [row["rule"] for row in report["rows"]]
    assert rules[:5] == ["status.graded", "status.not_graded", "status.invalid",
                         "eligibility.operating_12_months", "eligibility.reorganized_6_months"]
    assert rules.index("criterion.membership") + 1 == rules.index("criterion.membership.tier1")
    assert rules.index("veto.fatal_accident") < rules.index("level.excellent") < rules.index("level.excellent.band")
    assert rules[-1] == "quota"
    lines = [row["line"] for row in report["rows"] if row["line"] is not None]
    assert lines == sorted(lines)
    band = next(row for row in report["rows"] if row["rule"] == "level.excellent.band")
    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8").splitlines()
    assert text[band["line"] - 1].strip() == "min_score: 90"
    assert band["where"] == "levels[excellent].min_score"


def test_two_cases_leave_exactly_these_rules_uncovered(tmp_path):
    ruleset = _two_cases(tmp_path)
    report = _json_report("2024", cwd=tmp_path)
    assert (report["cases"], report["units"], report["passed"], report["failed"]) == (2, 2, 2, 0)
    notes = {row["rule"]: row["note"] for row in report["rows"]}
    covered = {rule for rule, note in notes.items() if not note}
    assert covered == {"status.graded", "veto.corruption", "level.excellent", "level.not_completed",
                       "title.cultural_unit", "title.cultural_unit.graded_good_or_better"}
    assert {rule: notes[rule] for rule in [
        "status.invalid", "eligibility.operating_12_months", "criterion.staff_conference",
        "criterion.membership", "criterion.membership.tier2", "criterion.workplace_dialogue",
        "criterion.collective_agreement.tier1", "veto.fatal_accident", "level.good", "level.completed.band",
        "finance", "check.disclosure", "quota"]} == {
        "status.invalid": "never reached",
        "eligibility.operating_12_months": "never failed",
        "criterion.staff_conference": "0 points never given",
        "criterion.membership": "tier 2 never awarded, 0 points never given",
        "criterion.membership.tier2": "never failed",
        # workplace dialogue does not apply to a hospital: neither a tier nor 0 points was given
        "criterion.workplace_dialogue": "tier 1 never awarded, tier 2 never awarded, 0 points never given",
        "criterion.collective_agreement.tier1": "never held",
        "veto.fatal_accident": "never held",
        "level.good": "never reached",
        "level.completed.band": "never failed",
        "finance": "never failed",
        "check.disclosure": "never failed",
        "quota": "never kept, never demoted",  # one-unit cases never reach the quota
    }

    table = run_cdcs("test", str(ruleset.relative_to(tmp_path)), "--coverage", cwd=tmp_path)
    assert table.code == 0, table
    assert table.stdout.splitlines()[-1] == "coverage: 80 of 170 outcomes exercised (47.0%)", table  # 47.06, rounded down
    veto_row = next(line for line in table.stdout.splitlines() if "veto.fatal_accident" in line)
    assert veto_row.split() == ["veto.fatal_accident", "rules/2024/ruleset-2024.1.yaml:176", "0", "2", "0", "never", "held"]


def test_a_decision_only_ever_undecided_says_so(tmp_path):
    _two_cases(tmp_path)
    few = tmp_path / "rules" / "2024" / "cases" / "few.yaml"
    data = yaml.safe_load(few.read_text(encoding="utf-8"))
    data["base"].pop("culture_score")
    data["cases"] = [{"name": "no_culture_score", "expect": {"titles": {"cultural_unit": None}}}]
    few.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows = {row["rule"]: row for row in _json_report("2024", cwd=tmp_path)["rows"]}
    score_85 = rows["title.cultural_unit.score_85"]
    assert (score_85["held"], score_85["not_held"], score_85["undecided"]) == (0, 0, 1)
    assert score_85["note"] == "only undecided" and score_85["missing"] == ["held", "not_held"]


def test_fail_under_fails_only_below_the_threshold(tmp_path):
    _two_cases(tmp_path)
    low = run_cdcs("test", "2024", "--coverage", "--fail-under", "47.06", cwd=tmp_path)
    assert low.code == 1, low
    assert "coverage 47.0% is under --fail-under 47.06%" in low.stderr, low
    assert low.stdout.splitlines()[0] == "2 passed, 0 failed", low
    assert run_cdcs("test", "2024", "--coverage", "--fail-under", "47.05", cwd=tmp_path).code == 0  # 80/170 = 47.0588…, compared exactly


def test_a_failing_case_still_fails_with_coverage(tmp_path):
    _two_cases(tmp_path)
    few = tmp_path / "rules" / "2024" / "cases" / "few.yaml"
    few.write_text(few.read_text(encoding="utf-8").replace("grade: not_completed", "grade: good"), encoding="utf-8")
    run = run_cdcs("test", "2024", "--coverage", cwd=tmp_path)
    assert run.code == 1, run
    assert "FAIL corruption" in run.stdout and run.stdout.splitlines()[-1].startswith("coverage: 80 of 170"), run


def test_coverage_options_need_coverage_and_a_percentage():
    for args in (["--fail-under", "90"], ["--format", "json"], ["--coverage", "--fail-under", "ninety"],
                 ["--coverage", "--fail-under", "101"]):
        run = run_cdcs("test", "2024", *args)
        assert run.code == 2, run
        assert_no_traceback(run)
        if "--coverage" in args:  # a value that is not a percentage is named, in the located format
            assert run.stderr.strip().startswith(f"cdcs test: error: --fail-under {args[-1]}: "), run


def test_without_coverage_the_output_is_unchanged():
    run = run_cdcs("test", "2024")
    assert run.code == 0 and len(run.stdout.splitlines()) == 1 and "coverage" not in run.stdout, run
