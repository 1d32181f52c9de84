"""Static analysis: rule sets that load and grade, but not as meant, get located warnings.

The files in tests/lint/rulesets/ are the real 2024 rule set with one such rule each
(written by tests/lint/make_lint_rulesets.py); expected.yaml says, per file, each
warning's file, line, check id and words.  The bundled rule set's own findings (the
``baseline``) come on top of every file's.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from cli_run import REPO, assert_no_traceback, run_cdcs
from engine.compiling.compile import compile_file, symbols_for
from engine.expr.parser import parse
from engine.expr.typecheck import check
from engine.authoring.lint import REGISTRY
from engine.authoring.lint.ranges import domain_of, formula, implies, verdict

LINT = Path(__file__).resolve().parent / "lint"
RULESETS = LINT / "rulesets"
EXPECTED: dict = yaml.safe_load((RULESETS / "expected.yaml").read_text(encoding="utf-8"))
BASELINE: list[dict] = EXPECTED.pop("baseline")
BUNDLED = "rules/2024/ruleset-2024.1.yaml"


def shown(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def where(finding: dict, path: str) -> str:
    column = f"{finding['column']}:" if "column" in finding else ""
    return f"{finding.get('file', path)}:{finding['line']}:{column}"


def matching(run, finding: dict, path: str) -> list[str]:
    located = run.lines_at(where(finding, path))
    return [line for line in located if f": {finding['severity']}: " in line and line.endswith(f"[{finding['check']}]")
            and all(word in line for word in finding["contains"])]


def test_every_lint_rule_set_has_an_expectation():
    on_disk = {p.name for p in RULESETS.glob("*.yaml")} - {"expected.yaml"}
    assert on_disk == set(EXPECTED)


def test_lint_rule_sets_are_up_to_date_with_their_generator():
    sys.path.insert(0, str(LINT))
    try:
        from make_lint_rulesets import render_all
    finally:
        sys.path.remove(str(LINT))
    stale = [name for name, text in render_all().items() if (RULESETS / name).read_text(encoding="utf-8") != text]
    assert not stale, f"run tests/lint/make_lint_rulesets.py and review the diff; stale: {stale}"


def test_every_check_has_a_case_and_a_line_in_the_designers_reference():
    covered = {f["check"] for findings in EXPECTED.values() for f in findings}
    assert covered == set(REGISTRY)
    reference = (REPO / "docs" / "designer.md").read_text(encoding="utf-8")
    section = reference[reference.index("## Static analysis"):]
    assert [c for c in REGISTRY if f"`{c}`" not in section] == []
    assert all(c.summary and c.severity in ("warning", "error") for c in REGISTRY.values())


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n.removesuffix(".yaml"))
def test_rule_set_that_loads_but_is_wrong_is_warned_at_its_line(name: str):
    path = shown(RULESETS / name)
    run = run_cdcs("validate", path)
    assert_no_traceback(run)
    assert run.code == 0, run  # warnings alone do not fail
    findings = EXPECTED[name]
    for finding in findings:
        assert matching(run, finding, path), f"no {finding} at {where(finding, path)}\n{run}"
    reported = run.stderr.splitlines()
    baseline = [line for line in reported if any(matching_line(line, f) for f in BASELINE)]
    assert len(reported) - len(baseline) == len(findings), f"unexpected findings\n{run}"
    assert run.stdout == f"1 file valid, {len(reported)} warning{'s' if len(reported) != 1 else ''}\n"


def matching_line(line: str, finding: dict) -> bool:
    return line.startswith(where(finding, "")) and all(word in line for word in finding["contains"])


@pytest.mark.parametrize("ruleset", sorted(str(p.relative_to(REPO)) for p in REPO.glob("rules/*/ruleset-*.yaml")))
def test_every_bundled_rule_set_has_no_finding_and_passes_strict(ruleset: str):
    """Their catalogues' facts that no rule reads are marked as kept for reports: nothing is left to warn about."""
    assert BASELINE == []
    for args in ([ruleset], ["--strict", ruleset]):
        run = run_cdcs("validate", *args)
        assert (run.code, run.stderr, run.stdout) == (0, "", "1 file valid\n"), run


def test_a_fact_kept_for_reports_is_not_warned_about_and_only_that_fact():
    unread = shown(RULESETS / "fact_no_longer_read.yaml")
    run = run_cdcs("validate", unread)
    warned = [line for line in run.stderr.splitlines() if line.endswith("[unused-fact]")]
    assert len(warned) == 1 and "fact 'fatal_work_accidents'" in warned[0], run
    assert "reports_only: true" in warned[0]  # the way out is said where the warning is


def test_marking_a_fact_for_reports_changes_no_rule_sets_content_or_hash(tmp_path):
    """The mark speaks to the analysis only: the rule sets released with the catalogue keep their hash."""
    import shutil
    from engine.reading.loading import load_ruleset
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    for catalogue in (tmp_path / "criteria").glob("catalogue*.yaml"):
        text = catalogue.read_text(encoding="utf-8")
        catalogue.write_text(text.replace("    reports_only: true\n", ""), encoding="utf-8")
    for ruleset in sorted((REPO / "rules").glob("*/ruleset-*.yaml")):
        marked, unmarked = load_ruleset(ruleset), load_ruleset(tmp_path / ruleset.relative_to(REPO))
        assert "reports_only" not in marked.canonical and marked.sha256 == unmarked.sha256, ruleset
        assert any(spec.reports_only for spec in marked.catalogue.facts.values())


def test_strict_fails_on_warnings_and_ignore_silences_a_check():
    unread = shown(RULESETS / "fact_no_longer_read.yaml")
    strict = run_cdcs("validate", "--strict", unread)
    assert strict.code == 1, strict
    assert strict.stdout == ""
    assert "1 warning, which --strict counts as failures" in strict.stderr
    quiet = run_cdcs("validate", "--strict", "--ignore", "unused-fact", unread)
    assert (quiet.code, quiet.stderr, quiet.stdout) == (0, "", "1 file valid\n"), quiet
    shadowed = shown(RULESETS / "tier_shadowed_by_a_weaker_tier.yaml")
    still = run_cdcs("validate", "--strict", "--ignore", "unused-fact", shadowed)
    assert still.code == 1 and "[shadowed-tier]" in still.stderr, still


def test_an_unknown_check_to_ignore_is_a_usage_error():
    run = run_cdcs("validate", "--ignore", "unused-facts", BUNDLED)
    assert run.code == 2, run
    assert "no such check 'unused-facts'. Did you mean 'unused-fact'?" in run.stderr


def test_errors_fail_even_when_other_files_only_warn():
    broken = "tests/errors/rulesets/unknown_group.yaml"
    run = run_cdcs("validate", "--ignore", "unused-fact", broken, shown(RULESETS / "tier_never_holds.yaml"))
    assert run.code == 1, run
    assert "1 problem found, 1 warning" in run.stderr


# --- the interval analysis itself, on parsed conditions --------------------------------

PLAN = compile_file(REPO / BUNDLED)
DOMAIN = domain_of(PLAN)
SYMBOLS = symbols_for(PLAN.catalogue, PLAN.ruleset.year, [c.id for c in PLAN.ruleset.finance.checks])[3]


def decide(text: str):
    return verdict(formula(check(parse(text), SYMBOLS), DOMAIN), DOMAIN)


@pytest.mark.parametrize("text, expected, why", [
    ("officers_trained_pct >= 120", False, "officers_trained_pct is at most 100"),
    ("100 < officers_trained_pct", False, "officers_trained_pct is at most 100"),
    ("members_total >= 0", True, "members_total is at least 0"),
    ("not (culture_score > 100)", True, "culture_score is at most 100"),
    ("culture_score != 150", True, "culture_score is at most 100"),
    ("workplace_dialogues == 2.5", False, "workplace_dialogues is a whole number"),
    ("members_total * 2 - members_total < 0", False, "members_total is at least 0"),
    ("tasks_done < 0 and corruption_case", False, "tasks_done is at least 0"),
    ("tasks_done >= 0 or corruption_case", True, "tasks_done is at least 0"),
    ("present(workplace_type)", True, "every unit has 'workplace_type'"),
    ("not present(corruption_self_detected)", False, "every unit has 'corruption_self_detected'"),
    ("grade not in ['excellent', 'good', 'completed', 'not_completed', 'not_graded']", False, "no other value"),
    ("score > 100", False, "score is at most 100"),
    ("1 >= 2", False, "fixed values"),
])
def test_ranges_decide_conditions_that_always_or_never_hold(text: str, expected: bool, why: str):
    value, reason = decide(text)
    assert value is expected
    assert why in reason


@pytest.mark.parametrize("text", [
    "officers_trained_pct >= 100",  # exactly 100 is possible
    "tasks_on_time >= tasks_assigned",  # two facts, both unbounded above
    "present(reorganized_on)",  # defaults to nothing
    "workplace_dialogues == 2",
    "cba_status != 'none'",
    "members_total >= workers_total * 0.95",
])
def test_ranges_leave_conditions_that_depend_on_the_unit_undecided(text: str):
    assert decide(text) == (None, "")


@pytest.mark.parametrize("a, b, expected", [
    ("workplace_dialogues >= 2", "workplace_dialogues >= 1", True),
    ("workplace_dialogues >= 1", "workplace_dialogues >= 2", False),
    ("workplace_dialogues > 1", "workplace_dialogues >= 2", True),  # whole numbers
    ("officers_trained_pct > 1", "officers_trained_pct >= 2", False),  # percentages are not
    ("tasks_on_time >= tasks_assigned", "tasks_assigned <= tasks_on_time", True),
    ("tasks_on_time * 2 >= tasks_assigned * 2 + 2", "tasks_on_time > tasks_assigned", True),
    ("members_informed_pct == 100", "members_informed_pct >= 100", True),  # 100 is the top
    ("cba_status == 'signed'", "cba_status != 'none'", True),
    ("cba_status != 'none'", "cba_status == 'signed'", False),
    ("disclosure_done and self_inspection_done", "self_inspection_done", True),
    ("disclosure_done or self_inspection_done", "self_inspection_done", False),
    ("not (disclosure_done or leadership_disciplined)", "not disclosure_done", True),
    ("officers_trained_pct >= 95", "present(officers_trained_pct)", True),
    ("members_total >= workers_total * 0.95", "members_total >= workers_total * 0.8", True),  # workers_total >= 0
    ("members_total >= workers_total * 0.8", "members_total >= workers_total * 0.95", False),
    ("tasks_done < tasks_assigned * 0.5", "tasks_done < tasks_assigned", True),  # 2024's targets_under_half
    ("tasks_done < tasks_assigned", "tasks_done < tasks_assigned * 0.5", False),
    ("tasks_done < tasks_assigned * 0.5", "tasks_done < tasks_assigned + fatal_work_accidents", False),  # may be unreported
    ("tasks_done < tasks_assigned * 0.5", "tasks_done * 3 < tasks_assigned * 3", True),
    ("spending_staff_vnd > spending_total_vnd * 0.3", "spending_staff_vnd + spending_admin_vnd > spending_total_vnd * 0.3",
     False),  # spending_admin_vnd may be unreported
])
def test_implication_is_proved_only_when_it_holds(a: str, b: str, expected: bool):
    fa, fb = (formula(check(parse(t), SYMBOLS), DOMAIN) for t in (a, b))
    assert implies(fa, fb, DOMAIN) is expected
