"""Facts that cannot all be true together: the catalogue's ``constraints`` make such a unit invalid, at its cells.

The workspace here is a clone's rules and catalogue with one more catalogue version,
extending the bundled one with two constraints, and a rule set using it; the example
province gets two impossible units (more tasks on time than assigned, more members than
workers).  Every command runs for real.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs

CATALOGUE = """id: cdcs_catalogue
version: "2024.9"
extends: catalogue.yaml
constraints:
  on_time_within_assigned:
    require: "tasks_on_time <= tasks_assigned"
    label: {vi: "Số nhiệm vụ đúng hạn không vượt số được giao", en: "Tasks done on time cannot exceed tasks assigned"}
  members_within_workers:
    require: "members_total <= workers_total"
    label: {vi: "Số đoàn viên không vượt số người lao động", en: "Members cannot exceed workers"}
"""
ON_TIME = "units.csv:4:25: error: the facts break the catalogue's constraint 'on_time_within_assigned' " \
          "(tasks_on_time <= tasks_assigned): tasks_on_time = 15 (line 4, column 25), tasks_assigned = 10 " \
          "(line 4, column 24): Tasks done on time cannot exceed tasks assigned"
MEMBERS = "units.csv:6:10: error: the facts break the catalogue's constraint 'members_within_workers' " \
          "(members_total <= workers_total): members_total = 386 (line 6, column 10), workers_total = 385 " \
          "(line 6, column 9): Members cannot exceed workers"


def _rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO((REPO / "examples" / "province_2024.csv").read_text(encoding="utf-8"))))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    (tmp_path / "criteria" / "catalogue-2024.9.yaml").write_text(CATALOGUE, encoding="utf-8")
    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8")
    text = text.replace("catalogue: ../../criteria/catalogue.yaml", "catalogue: ../../criteria/catalogue-2024.9.yaml")
    (tmp_path / "rules" / "2024" / "ruleset-2024.9.yaml").write_text(text.replace('version: "2024.1"',
                                                                               'version: "2024.9"'), encoding="utf-8")
    rows = _rows()
    head = rows[0]
    on_time, assigned = head.index("tasks_on_time"), head.index("tasks_assigned")
    members, workers = head.index("members_total"), head.index("workers_total")
    rows[3][on_time] = str(int(rows[3][assigned]) + 5)  # HL-VP03: 15 on time of 10 assigned
    rows[5][members] = str(int(rows[5][workers]) + 1)  # HL-BV02: one member more than its workers
    rows[7][on_time] = ""  # HL-BV04: not reported, so the constraint cannot be decided: not a reason to refuse
    with open(tmp_path / "units.csv", "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return tmp_path


def _states(run) -> dict[str, str]:
    return {row["unit_id"]: row["status"] for row in csv.DictReader(io.StringIO(run.stdout))}


def test_a_unit_whose_facts_break_a_constraint_is_invalid_at_its_cells_and_the_others_are_graded(workspace: Path):
    run = run_cdcs("grade", "units.csv", "--rules", "2024.9", "--format", "csv", cwd=workspace)
    assert run.code == 1, run
    assert_no_traceback(run)
    assert run.stderr.splitlines()[:2] == [ON_TIME, MEMBERS], run
    assert "2 problems in the facts; those units are marked invalid, the others were graded" in run.stderr
    states = _states(run)
    assert states["HL-VP03"] == states["HL-BV02"] == "invalid"
    same = _states(run_cdcs("grade", "units.csv", "--rules", "2024.1", "--format", "csv", cwd=workspace))
    assert same["HL-VP03"] == same["HL-BV02"] == "graded"  # without the constraints, graded as if possible
    assert {u: s for u, s in states.items() if u not in ("HL-VP03", "HL-BV02")} == \
        {u: s for u, s in same.items() if u not in ("HL-VP03", "HL-BV02")}


def test_every_number_of_processes_finds_the_same(workspace: Path):
    """Checked where the units are typed, in the worker processes as in one."""
    one = run_cdcs("grade", "units.csv", "--rules", "2024.9", "--format", "csv", "--jobs", "1", cwd=workspace)
    two = run_cdcs("grade", "units.csv", "--rules", "2024.9", "--format", "csv", "--jobs", "2", cwd=workspace)
    assert (one.stdout, one.stderr, one.code) == (two.stdout, two.stderr, two.code)


def test_validate_reports_them_in_the_order_of_the_file(workspace: Path):
    run = run_cdcs("validate", "units.csv", "--rules", "2024.9", cwd=workspace)
    assert run.code == 1, run
    assert run.stderr.splitlines() == [ON_TIME, MEMBERS, "2 problems found"], run


def test_explain_and_a_single_unit_graded_in_memory_say_the_same(workspace: Path):
    explained = run_cdcs("explain", "HL-VP03", "units.csv", "--rules", "2024.9", "--format", "json", cwd=workspace)
    assert explained.code == 1, explained
    assert json.loads(explained.stdout)["result"]["explanation"]["problems"] == [ON_TIME]
    from engine.compiling.compile import compile_file
    from engine.pipeline import run
    from engine.reading.facts import load_facts
    plan = compile_file(workspace / "rules" / "2024" / "ruleset-2024.9.yaml")
    units = [u for u in load_facts(workspace / "units.csv", plan.catalogue, 2024).units if u.unit_id == "HL-BV02"]
    (evaluation,) = run.evaluations(plan, units)
    assert evaluation.status == "invalid"
    assert [p.render() for p in evaluation.problems] == [MEMBERS.replace("units.csv", units[0].source)]


def test_a_later_catalogue_may_replace_a_constraint_by_its_id(workspace: Path):
    later = workspace / "criteria" / "catalogue-2024.10.yaml"
    later.write_text('id: cdcs_catalogue\nversion: "2024.10"\nextends: catalogue-2024.9.yaml\nconstraints:\n'
                     '  members_within_workers:\n    require: "members_total <= workers_total + 5"\n'
                     '    label: {vi: "Đoàn viên", en: "Members within workers and five retired"}\n', encoding="utf-8")
    rules = workspace / "rules" / "2024" / "ruleset-2024.9.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("catalogue-2024.9.yaml", "catalogue-2024.10.yaml"),
                     encoding="utf-8")
    run = run_cdcs("validate", "units.csv", "--rules", "2024.9", cwd=workspace)
    assert run.stderr.splitlines() == [ON_TIME, "1 problem found"], run


@pytest.mark.parametrize("require, words", [
    ('"members_total <= workers_totl"', "unknown fact 'workers_totl'. Did you mean 'workers_total'?"),
    ('"members_total <= score"', "unknown fact 'score'"),  # a constraint reads reported facts, not outcomes
    ('"members_total + workers_total"', "a condition must be true or false"),
    ('"members_total <="', "constraints.members_within_workers.require"),
])
def test_a_constraint_written_wrongly_is_refused_in_the_catalogue_at_its_place(workspace: Path, require: str,
                                                                              words: str):
    catalogue = workspace / "criteria" / "catalogue-2024.9.yaml"
    text = catalogue.read_text(encoding="utf-8").replace('"members_total <= workers_total"', require)
    catalogue.write_text(text, encoding="utf-8")
    run = run_cdcs("validate", "rules/2024/ruleset-2024.9.yaml", cwd=workspace)
    assert run.code == 1, run
    assert_no_traceback(run)
    located = run.lines_at("criteria/catalogue-2024.9.yaml:9:")
    assert located and any(words in line for line in located), run


def test_the_diff_names_the_constraints_a_catalogue_adds(workspace: Path):
    run = run_cdcs("diff", "2024.1", "2024.9", "--format", "json", cwd=workspace)
    added = [(c["rule"], c["after"]) for c in json.loads(run.stdout)["changes"] if c["section"] == "catalogue"]
    assert added == [("catalogue.constraints.on_time_within_assigned", "tasks_on_time <= tasks_assigned"),
                     ("catalogue.constraints.members_within_workers", "members_total <= workers_total")]
