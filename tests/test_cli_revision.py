"""Starting a new year and seeing what changed, through the real CLI in a scratch copy."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_run import REPO, run_cdcs


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The catalogues and 2024 as released (2024.1 and its cases): 2025 is started from it here."""
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "rules" / "2024", tmp_path / "rules" / "2024")
    for later in [*(tmp_path / "rules/2024").glob("ruleset-2024.[!1]*.yaml"), *(tmp_path / "rules/2024/cases").glob("grading-*.yaml")]:
        later.unlink()
    return tmp_path


def _new_year(workspace: Path) -> Path:
    run = run_cdcs("new-year", "2025", "--from", "2024", cwd=workspace)
    assert run.code == 0, run
    return workspace / "rules" / "2025" / "ruleset-2025.1.yaml"


def test_new_year_copies_the_rule_set_with_its_identity_and_parent(workspace):
    before = (workspace / "rules" / "2024" / "ruleset-2024.1.yaml").read_bytes()
    path = _new_year(workspace)
    text = path.read_text(encoding="utf-8")
    assert 'version: "2025.1"' in text and "\nyear: 2025\n" in text and "effective_from: 2025-01-01" in text
    assert 'parent: "cdcs_health 2024.1 sha256:' in text
    assert "# Rule set for grading" in text  # the designer's comments survive
    assert "# Rule set for grading health-sector grassroots unions (CĐCS) for the year 2024." in text  # as written
    label = text[text.index("\nlabel:"):text.index("\ncatalogue:")]  # the title names the new year
    assert '"Bộ tiêu chí đánh giá, xếp loại CĐCS ngành Y tế năm 2025"' in label and "unions, 2025" in label, label
    assert (workspace / "rules" / "2024" / "ruleset-2024.1.yaml").read_bytes() == before  # old version untouched
    assert run_cdcs("validate", str(path), cwd=workspace).code == 0


def test_new_year_refuses_to_overwrite(workspace):
    _new_year(workspace)
    run = run_cdcs("new-year", "2025", "--from", "2024", cwd=workspace)
    assert run.code == 1 and "exists already" in run.stderr, run


@pytest.mark.parametrize("in_the_way", ["rules/2025", "rules/2025/cases"])
def test_new_year_where_a_file_stands_in_for_its_folder_is_a_one_line_error(workspace, in_the_way: str):
    """A folder that cannot be made (a file of its name, a folder not writable) is named; nothing is half-written."""
    blocker = workspace / in_the_way
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (workspace / "rules" / "2024").rglob("*") if p.is_file()}
    run = run_cdcs("new-year", "2025", "--from", "2024", cwd=workspace)
    assert run.code == 1 and "Traceback" not in run.stderr, run
    assert f"{in_the_way}: error: cannot write: a file of that name stands where a folder is needed" in run.stderr, run
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"
    assert {p: p.read_bytes() for p in (workspace / "rules" / "2024").rglob("*") if p.is_file()} == before
    assert not [p for p in workspace.rglob(".*.part")], "no temporary file is left behind"


def test_diff_of_an_unchanged_copy_lists_only_its_identity(workspace):
    _new_year(workspace)
    run = run_cdcs("diff", "2024", "2025", "--format", "json", cwd=workspace)
    assert run.code == 0, run
    assert {(c["rule"], c["what"]) for c in json.loads(run.stdout)["changes"]} == {
        ("ruleset", "year"), ("ruleset", "version"), ("ruleset", "effective_from")}


def test_diff_names_each_change_by_rule_id(workspace):
    path = _new_year(workspace)
    text = path.read_text(encoding="utf-8")
    edits = [
        ("points: {public_admin: 6, public_service: 6, default: 9}", "points: {public_admin: 8, public_service: 6, default: 9}"),
        ("    points: {public_admin: 6, public_service: 4, default: 2}", "    points: {public_admin: 4, public_service: 4, default: 2}"),
        ('require: "tasks_exceeded >= tasks_assigned * 0.2"', 'require: "tasks_exceeded >= tasks_assigned * 0.3"'),
        ("    min_score: 70\n", "    min_score: 75\n"),
        ('when: "fatal_work_accidents >= 1"\n    cap: completed', 'when: "fatal_work_accidents >= 1"\n    cap: not_completed'),
        ('require: "disclosure_done"', 'require: "(disclosure_done)"'),  # same meaning: no change
        ("share_pct: 20", "share_pct: 25"),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    run = run_cdcs("diff", "2024", str(path), "--format", "json", cwd=workspace)
    assert run.code == 0, run
    described = [c["description"] for c in json.loads(run.stdout)["changes"] if c["section"] != "ruleset"]
    assert described == [
        "criteria.membership: points public_admin 6 → 8",
        "criteria.party_referral: points public_admin 6 → 4",
        "vetoes.fatal_accident: cap completed → not_completed",
        "levels.excellent.tasks_exceeded_20pct: require tasks_exceeded >= tasks_assigned * 0.2 → tasks_exceeded >= tasks_assigned * 0.3",
        "levels.good: min_score 70 → 75",
        "quota: share_pct 20 → 25",
    ]
    table = run_cdcs("diff", "2024", str(path), cwd=workspace)
    assert table.code == 0 and "criteria.membership" in table.stdout and "9 changes" in table.stdout, table


def test_diff_refuses_a_file_that_is_not_a_rule_set(workspace):
    run = run_cdcs("diff", "2024", "criteria/catalogue.yaml", cwd=workspace)
    assert run.code == 1 and "not a rule set" in run.stderr and "Traceback" not in run.stderr, run


def test_an_unchanged_new_year_passes_every_inherited_case(workspace):
    _new_year(workspace)
    cases = workspace / "rules" / "2025" / "cases" / "grading.yaml"
    assert "from: ../../2024/cases/grading.yaml" in cases.read_text(encoding="utf-8")
    run = run_cdcs("test", "2025", cwd=workspace)
    assert run.code == 0, run
    count = sum(1 for line in (REPO / "rules/2024/cases/grading.yaml").read_text(encoding="utf-8").splitlines()
                if line.startswith("  - name: "))
    assert run.stdout.strip().endswith(f"{count} passed, 0 failed ({count} inherited from earlier versions)"), run


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """A scratch copy of the bundled rule sets, catalogues and case files as they were before 2025's first amendment."""
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.rmtree(tmp_path / "rules" / "2026")  # started from 2025.2
    for later in [*(tmp_path / "rules/2025").glob("ruleset-2025.[!1]*.yaml"), *(tmp_path / "rules/2025/cases").glob("grading-*.yaml")]:
        later.unlink()
    return tmp_path


def _amend(workspace: Path, *extra: str) -> Path:
    run = run_cdcs("amend", "2025", *extra, cwd=workspace)
    assert run.code == 0, run
    return workspace / "rules" / "2025" / "ruleset-2025.2.yaml"


def test_amend_writes_the_next_version_and_leaves_the_amended_one_alone(bundled):
    before = (bundled / "rules/2025/ruleset-2025.1.yaml").read_bytes()
    path = _amend(bundled, "--effective-from", "2025-07-01")
    text = path.read_text(encoding="utf-8")
    assert 'version: "2025.2"' in text and "effective_from: 2025-07-01" in text
    assert 'parent: "cdcs_health 2025.1 sha256:' in text
    assert (bundled / "rules/2025/ruleset-2025.1.yaml").read_bytes() == before
    assert "from: grading.yaml" in (bundled / "rules/2025/cases/grading-2025.2.yaml").read_text(encoding="utf-8")
    facts = str(REPO / "examples" / "province_2025.csv")
    newest = json.loads(run_cdcs("grade", facts, "--format", "json", cwd=bundled).stdout)
    assert newest["ruleset"]["version"] == "2025.2" and {r["ruleset_version"] for r in newest["results"]} == {"2025.2"}
    old = run_cdcs("grade", facts, "--rules", "2025.1", "--format", "csv", cwd=bundled)
    assert old.code == 0 and old.stdout.splitlines()[0].endswith(",ruleset_version"), old
    assert all(line.endswith(",2025.1") for line in old.stdout.splitlines()[1:]), old
    again = run_cdcs("amend", "2025.1", cwd=bundled)  # amending 2025.1 again takes the next free number
    assert again.code == 0 and (bundled / "rules/2025/ruleset-2025.3.yaml").exists(), again


def test_an_amendment_that_changes_a_result_fails_its_inherited_case_until_approved(bundled):
    path = _amend(bundled)
    text = path.read_text(encoding="utf-8")
    assert '{when: "members_digital_pct >= 95", award_pct: 100}' in text
    path.write_text(text.replace('{when: "members_digital_pct >= 95", award_pct: 100}',
                                 '{when: "members_digital_pct >= 90", award_pct: 100}'), encoding="utf-8")
    run = run_cdcs("test", "2025.2", cwd=bundled)
    assert run.code == 1, run
    assert "FAIL members_digital_under_95pct_half_points (inherited from rules/2025/cases/grading.yaml)" in run.stdout
    assert "FAIL quota_keeps_20pct_of_good_or_better_2025 (inherited from rules/2025/cases/grading.yaml)" in run.stdout
    assert "score: expected 97.5, got 100.0" in run.stdout
    cases = bundled / "rules/2025/cases/grading-2025.2.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("  approved: []\n", (
        "  approved:\n"
        "    - case: members_digital_under_95pct_half_points\n"
        "      reason: \"2025.2: 90% of members in the database earns the full points\"\n"
        "      expect: {grade: excellent, score: 100}\n"
        "    - case: quota_keeps_20pct_of_good_or_better_2025\n"  # Q03 reports 90%: a knock-on change
        "      reason: \"2025.2: Q03's 90% of members in the database earns the full points\"\n"
        "      expect: {Q01: {grade: excellent, quota: kept}, Q02: {grade: good, quota: demoted},\n"
        "               Q03: {grade: excellent, score: 100, quota: kept}}\n")), encoding="utf-8")
    assert run_cdcs("test", "2025.2", cwd=bundled).code == 0
    assert run_cdcs("test", "2025.1", cwd=bundled).code == 0  # the amended version keeps its own expectations


def test_an_approval_the_rules_do_not_need_fails(bundled):
    _amend(bundled)
    cases = bundled / "rules/2025/cases/grading-2025.2.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("  approved: []\n", (
        "  approved:\n"
        "    - case: social_activities_weigh_4_for_a_hospital\n"
        "      reason: \"approved by mistake\"\n"
        "      expect: {grade: excellent, score: 96}\n")), encoding="utf-8")
    run = run_cdcs("test", "2025.2", cwd=bundled)
    assert run.code == 1 and "the approved change is not needed" in run.stdout, run


def test_approving_a_case_the_parent_does_not_have_is_located_with_a_suggestion(bundled):
    _amend(bundled)
    cases = bundled / "rules/2025/cases/grading-2025.2.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("  approved: []\n", (
        "  approved:\n"
        "    - case: social_activities_weigh_4_for_hospital\n"
        "      reason: \"typo\"\n"
        "      drop: true\n")), encoding="utf-8")
    run = run_cdcs("test", "2025.2", cwd=bundled)
    assert run.code == 1, run
    assert run.lines_at("rules/2025/cases/grading-2025.2.yaml:10:13: error: inherit.approved[0].case:"), run
    assert "is not a case of rules/2025/cases/grading.yaml. Did you mean 'social_activities_weigh_4_for_a_hospital'?" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_effective_date_outside_the_year_is_refused(bundled):
    run = run_cdcs("amend", "2025", "--effective-from", "2026-01-01", cwd=bundled)
    assert run.code == 2 and "is not in 2025" in run.stderr, run
    assert not (bundled / "rules/2025/ruleset-2025.2.yaml").exists()


def test_an_unknown_version_lists_the_versions_there_are(bundled):
    run = run_cdcs("grade", str(REPO / "examples/province_2025.csv"), "--rules", "2025.9", cwd=bundled)
    assert run.code == 1 and "no bundled rule set version 2025.9; versions available for 2025: 2025.1" in run.stderr, run


def test_an_unknown_fact_in_the_inherited_base_is_located_in_the_inheriting_file(bundled):
    cases = bundled / "rules/2025/cases/grading.yaml"
    text = cases.read_text(encoding="utf-8")
    assert "    members_digital_pct: 100\n" in text
    cases.write_text(text.replace("    members_digital_pct: 100\n", "    members_digtal_pct: 100\n"), encoding="utf-8")
    line = next(n for n, row in enumerate(cases.read_text(encoding="utf-8").splitlines(), start=1) if "members_digtal_pct" in row)
    run = run_cdcs("test", "2025", cwd=bundled)
    assert run.code == 1, run
    assert run.lines_at(f"rules/2025/cases/grading.yaml:{line}:5: error: inherit.base: unknown fact 'members_digtal_pct'. "
                        "Did you mean 'members_digital_pct'?"), run


def test_a_derived_case_file_is_named_by_its_own_version_never_by_a_chain_of_them(tmp_path: Path):
    """Amending an amendment gives grading-2025.4.yaml beside grading-2025.3.yaml (not grading-2025.3-2025.4), and a
    new year started from an amendment gives its own folder a grading.yaml."""
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    amended = run_cdcs("amend", "2025", cwd=tmp_path)
    assert amended.code == 0 and "wrote rules/2025/cases/grading-2025.4.yaml (inherits the cases of "\
        "rules/2025/cases/grading-2025.3.yaml)" in amended.stdout, amended
    started = run_cdcs("new-year", "2027", "--from", "2026", cwd=tmp_path)
    assert started.code == 0 and "wrote rules/2027/cases/grading.yaml" in started.stdout, started
    assert sorted(p.name for p in (tmp_path / "rules/2025/cases").iterdir()) == [
        "grading-2025.2.yaml", "grading-2025.3.yaml", "grading-2025.4.yaml", "grading.yaml"]
    for version in ("2025.4", "2027"):
        run = run_cdcs("test", version, cwd=tmp_path)
        assert run.code == 0 and " 0 failed" in run.stdout, run
