"""The quota as a rule set says it, through the real command: units ranked within the cohort of several facts
(upper union and workplace type), a unit that does not say its upper union graded invalid at its cell, the share
rounded down with at least one place from a cohort of three, and the explanation saying how each
cohort's places were counted.  Released rule sets, which say none of it, grade as before (the golden files)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs

POLICY = ("  cohort_by: upper_union\n",
          "  cohort_by: [upper_union, workplace_type]\n  missing_cohort: invalid\n  rounding: floor\n"
          "  at_least_one_from: 3\n")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8")
    assert text.count(POLICY[0]) == 1
    text = text.replace(POLICY[0], POLICY[1]).replace('version: "2024.1"', 'version: "2024.9"')
    (tmp_path / "rules" / "2024" / "ruleset-2024.9.yaml").write_text(text, encoding="utf-8")
    rows = list(csv.reader(io.StringIO((REPO / "examples" / "province_2024.csv").read_text(encoding="utf-8"))))
    rows[2][rows[0].index("upper_union")] = ""  # HL-VP02 does not say its upper union
    with open(tmp_path / "units.csv", "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return tmp_path


def test_a_unit_without_its_cohort_fact_is_invalid_where_the_rule_set_says_so(workspace: Path):
    run = run_cdcs("grade", "units.csv", "--rules", "2024.9", "--format", "csv", cwd=workspace)
    assert run.code == 1, run
    assert_no_traceback(run)
    assert run.stderr.splitlines()[0] == (
        "units.csv:3:5: error: column 'upper_union': not reported; the quota ranks a unit among those of the same "
        "upper_union and workplace_type, and rule set cdcs_health 2024.9 grades a unit that does not say which "
        "invalid (quota.missing_cohort)"), run
    states = {r["unit_id"]: r["status"] for r in csv.DictReader(io.StringIO(run.stdout))}
    assert states["HL-VP02"] == "invalid"
    released = run_cdcs("grade", "units.csv", "--rules", "2024.1", "--format", "csv", cwd=workspace)
    assert {r["unit_id"]: r["status"] for r in csv.DictReader(io.StringIO(released.stdout))}["HL-VP02"] == "graded"


def test_each_cohort_of_several_facts_has_its_places_counted_and_said(workspace: Path):
    run = run_cdcs("grade", "units.csv", "--rules", "2024.9", "--format", "json", cwd=workspace)
    results = {u["unit_id"]: u for u in json.loads(run.stdout)["results"]}
    quotas = [u["explanation"]["quota"] for u in results.values() if u["explanation"].get("quota")]
    assert quotas, "the example has candidates for excellent"
    for q in quotas:
        union, kind = q["cohort"].split(" / ")
        members = [u for u in results.values() if u["status"] == "graded" and u["workplace_type"] == kind
                   and u["explanation"]["quota"] is not None]
        assert q["cohort_by"] == ["upper_union", "workplace_type"] and q["rounding"] == "floor"
        share = q["share_pct"] * q["base_count"] / 100
        expected = max(int(share), 1 if q["base_count"] >= 3 else 0)
        assert q["allowed"] == expected and q["share"] == pytest.approx(share), q
        assert q["raised_to_one"] == (expected > int(share)), q
        assert members and union


def test_the_explanation_says_how_the_places_were_counted(workspace: Path):
    run = run_cdcs("grade", "units.csv", "--rules", "2024.9", "--format", "json", cwd=workspace)
    quota_units = [u for u in json.loads(run.stdout)["results"] if u["explanation"].get("quota")]
    raised = [u for u in quota_units if u["explanation"]["quota"]["raised_to_one"]]
    rounded = [u for u in quota_units if not u["explanation"]["quota"]["raised_to_one"]
               and u["explanation"]["quota"]["share"] != u["explanation"]["quota"]["allowed"]]
    for unit, words in ([(u, "at least 1 place (a cohort of 3 or more)") for u in raised[:1]]
                        + [(u, ", rounded down: ") for u in rounded[:1]]):
        text = run_cdcs("explain", unit["unit_id"], "units.csv", "--rules", "2024.9", "--lang", "en", cwd=workspace)
        line = next(line for line in text.stdout.splitlines() if line.startswith(("7. Quota", "8. Quota", "6. Quota")))
        assert "(cohort upper_union / workplace_type = '" in line and words in line, text
    assert raised and rounded  # the example has a cohort of 3 with 0.6 places, and one of 21 with 4.2


def test_an_unknown_cohort_fact_is_refused_at_its_place_in_the_list(workspace: Path):
    path = workspace / "rules" / "2024" / "ruleset-2024.9.yaml"
    text = path.read_text(encoding="utf-8").replace("[upper_union, workplace_type]", "[upper_union, workplace_typ]")
    path.write_text(text, encoding="utf-8")
    run = run_cdcs("validate", "rules/2024/ruleset-2024.9.yaml", cwd=workspace)
    assert run.code == 1, run
    line = text[:text.index("workplace_typ]")].count("\n") + 1
    assert any(entry.startswith(f"rules/2024/ruleset-2024.9.yaml:{line}:") and
               "quota.cohort_by: unknown fact 'workplace_typ'. Did you mean 'workplace_type'?" in entry
               for entry in run.stderr.splitlines()), run


def test_an_outstanding_organisation_is_outside_the_quota_and_its_explanation_says_so(tmp_path: Path):
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    (tmp_path / "criteria" / "catalogue-2024.9.yaml").write_text(
        'id: cdcs_catalogue\nversion: "2024.9"\nextends: catalogue.yaml\nfacts:\n  outstanding_organisation:\n'
        '    type: bool\n    on_missing: default\n    default: false\n'
        '    label: {vi: "Tổ chức có thành tích xuất sắc, nổi trội", en: "Outstanding organisation"}\n', encoding="utf-8")
    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8")
    text = text.replace("catalogue: ../../criteria/catalogue.yaml", "catalogue: ../../criteria/catalogue-2024.9.yaml")
    text = text.replace(POLICY[0], POLICY[0] + "  exempt_if: outstanding_organisation\n")
    (tmp_path / "rules" / "2024" / "ruleset-2024.9.yaml").write_text(text.replace('version: "2024.1"', 'version: "2024.9"'),
                                                                     encoding="utf-8")
    rows = list(csv.reader(io.StringIO((REPO / "examples" / "province_2024.csv").read_text(encoding="utf-8"))))
    rows[0].append("outstanding_organisation")
    for row in rows[1:]:
        row.append("true" if row[0] == "HL-BV05" else "")
    with open(tmp_path / "units.csv", "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)

    def grades(rules: str, *extra: str, facts: str = "units.csv") -> dict[str, str]:
        run = run_cdcs("grade", facts, "--rules", rules, "--format", "csv", *extra, cwd=tmp_path)
        return {r["unit_id"]: r["grade"] for r in csv.DictReader(io.StringIO(run.stdout))}

    before = grades("2024.1", facts=str(REPO / "examples" / "province_2024.csv"))
    after = grades("2024.9")
    assert before["HL-BV05"] == "good" and after["HL-BV05"] == "excellent"  # demoted by the quota, unless outstanding
    assert grades("2024.9", "--jobs", "2") == after
    explained = run_cdcs("explain", "HL-BV05", "units.csv", "--rules", "2024.9", "--lang", "en", cwd=tmp_path)
    assert ("Quota for Excellent: outside it (outstanding_organisation = true), keeps the grade it earns and takes no "
            "place") in explained.stdout, explained
    from engine.compiling.compile import compile_file
    from engine.pipeline import run
    from engine.reading.facts import load_facts
    plan = compile_file(tmp_path / "rules" / "2024" / "ruleset-2024.9.yaml")
    in_memory = {ev.unit.unit_id: ev.grade or "" for ev in run.evaluations(plan, load_facts(tmp_path / "units.csv",
                                                                                     plan.catalogue, 2024).units)}
    assert in_memory == after  # a batch graded in memory (test cases, appeals) places the same
