"""Broken rule sets: each is reported by ``cdcs validate`` at the right line with the right words.

The files in tests/errors/rulesets/ are the real 2024 rule set with one defect each
(written by tests/errors/make_broken_rulesets.py); expected.yaml says, per file, the
line of the error and the words its message must contain.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from cli_run import ERRORS, REPO, assert_no_traceback, run_cdcs

RULESETS = ERRORS / "rulesets"
EXPECTED: dict[str, dict] = yaml.safe_load((RULESETS / "expected.yaml").read_text(encoding="utf-8"))

# Files whose expectation the engine does not meet yet (see the reasons); strict, so a fix is noticed.
KNOWN_BUGS: dict[str, str] = {}  # file name → reason, for a defect the engine does not yet locate


def shown(path: Path) -> str:
    """The path as a user in the repository root types it."""
    return path.relative_to(REPO).as_posix()


def problems_of(name: str) -> list[dict]:
    entry = EXPECTED[name]
    return entry["problems"] if "problems" in entry else [entry]


def cases() -> list:
    return [pytest.param(name, id=name.removesuffix(".yaml"),
                         marks=[pytest.mark.xfail(reason=KNOWN_BUGS[name], strict=True)] if name in KNOWN_BUGS else [])
            for name in sorted(EXPECTED)]


def test_every_broken_rule_set_has_an_expectation():
    on_disk = {p.name for p in RULESETS.glob("*.yaml")} - {"expected.yaml"}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 20


def test_broken_rule_sets_are_up_to_date_with_their_generator():
    sys.path.insert(0, str(ERRORS))
    try:
        from make_broken_rulesets import render_all
    finally:
        sys.path.remove(str(ERRORS))
    stale = [name for name, text in render_all().items()
             if (RULESETS / name).read_text(encoding="utf-8") != text]
    assert not stale, f"run tests/errors/make_broken_rulesets.py and review the diff; stale: {stale}"


def test_the_real_rule_set_and_catalogue_are_valid():
    run = run_cdcs("validate", "rules/2024/ruleset-2024.1.yaml", "criteria/catalogue.yaml")
    assert run.code == 0, run
    assert ": error: " not in run.stderr, run  # warnings of static analysis: tests/test_lint.py
    assert "2 files valid" in run.stdout


@pytest.mark.parametrize("name", cases())
def test_broken_rule_set_is_reported_at_its_line_with_its_words(name: str):
    path = shown(RULESETS / name)
    run = run_cdcs("validate", path)
    assert_no_traceback(run)
    assert run.code == 1, run
    assert run.stdout == "", run
    for expected in problems_of(name):
        located = run.lines_at(f"{path}:{expected['line']}:")
        assert located, f"no message on line {expected['line']}\n{run}"
        matching = [line for line in located if all(word in line for word in expected["contains"])]
        assert matching, f"line {expected['line']}: none of {located} contains all of {expected['contains']}"
        assert all(": error: " in line for line in matching)


def test_every_problem_of_a_file_is_reported_in_one_run():
    path = shown(RULESETS / "three_defects.yaml")
    run = run_cdcs("validate", path)
    assert run.code == 1, run
    reported = [line for line in run.stderr.splitlines() if line.startswith(f"{path}:")]
    assert len(reported) == 3, run
    assert [int(line.split(":")[1]) for line in reported] == sorted(p["line"] for p in problems_of("three_defects.yaml"))
    assert "3 problems found" in run.stderr


def test_validate_reports_the_problems_of_every_file_given():
    good = "rules/2024/ruleset-2024.1.yaml"
    bad = [shown(RULESETS / "unknown_group.yaml"), shown(RULESETS / "score_used_in_veto.yaml")]
    run = run_cdcs("validate", good, *bad)
    assert run.code == 1, run
    for path in bad:
        line = EXPECTED[Path(path).name]["line"]
        assert run.lines_at(f"{path}:{line}:"), run
    assert not run.lines_at(good), run


def test_a_condition_is_bounded_exactly_at_its_limits():
    """The limits refuse one more value or one more level, and never less: both stated in the message."""
    from engine.expr.parser import ExpressionSyntaxError, parse
    from engine.limits import CONDITION_DEPTH, CONDITION_VALUES

    def items(n: int) -> str:
        return "workers_total in [" + ", ".join(str(i) for i in range(n - 1)) + "]"

    parse(items(CONDITION_VALUES))
    with pytest.raises(ExpressionSyntaxError, match=f"more than {CONDITION_VALUES} fact names"):
        parse(items(CONDITION_VALUES + 1))

    def nots(n: int) -> str:
        return "not " * n + "disclosure_done"

    deepest = max(n for n in range(CONDITION_DEPTH) if _parses(nots(n)))
    assert deepest > 40, deepest  # room for any condition a person writes
    too_deep = nots(deepest + 1)
    with pytest.raises(ExpressionSyntaxError, match=f"at most {CONDITION_DEPTH} levels") as refused:
        parse(too_deep)
    assert len("not ") * 40 < refused.value.column <= len(too_deep)  # deep inside, where the limit is crossed


def _parses(text: str) -> bool:
    from engine.expr.parser import ExpressionSyntaxError, parse
    try:
        parse(text)
    except ExpressionSyntaxError:
        return False
    return True


def test_many_long_conditions_in_one_stage_are_spread_over_rulesets_the_engine_can_register(tmp_path):
    """Ten lists of 120 items in stage 1: in one ruleset the rule engine's creation hung for ever (past about
    1,020 distinct comparisons under its shared node); spread over several, the file validates and grades."""
    import re
    import shutil

    from cli_run import run_cdcs

    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8")
    lists, count = re.subn(r'when: "([a-z_]+) >= \d+"',
                           lambda m: f'when: "{m[1]} in [{", ".join(str(i) for i in range(120))}]"', text)
    assert count == 10
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    path = tmp_path / "rules" / "2024" / "ruleset-2024.1.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(lists, encoding="utf-8")
    run = run_cdcs("validate", str(path))  # run_cdcs's two-minute timeout fails a hang
    assert run.code == 0 and "1 file valid" in run.stdout, run
    run = run_cdcs("grade", "examples/province_2024.csv", "--rules", str(path), "--format", "csv")
    assert run.code == 0 and run.stdout.count("\n") == 61, run
