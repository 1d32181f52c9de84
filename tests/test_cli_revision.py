"""Starting a new year and seeing what changed, through the real CLI in a scratch copy."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_run import REPO, run_cdcs


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "rules" / "2024", tmp_path / "rules" / "2024")
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
    assert (workspace / "rules" / "2024" / "ruleset-2024.1.yaml").read_bytes() == before  # old version untouched
    assert run_cdcs("validate", str(path), cwd=workspace).code == 0


def test_new_year_refuses_to_overwrite(workspace):
    _new_year(workspace)
    run = run_cdcs("new-year", "2025", "--from", "2024", cwd=workspace)
    assert run.code == 1 and "exists already" in run.stderr, run


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
