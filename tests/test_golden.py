"""The bundled example's outputs, byte for byte, through the real CLI."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "golden"))
from make_golden import OUTPUTS, run  # noqa: E402


@pytest.mark.parametrize("name, args", OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_output_matches_golden_file(name: str, args: list[str]):
    expected = (ROOT / "tests" / "golden" / name).read_bytes()
    assert run(args) == expected, f"output differs from tests/golden/{name}; if intended, run tests/golden/make_golden.py and review the diff"


def _results(path: str) -> list[dict]:
    """A facts file's results, as the JSON gives them, without the file they were read from."""
    done = subprocess.run([sys.executable, "-m", "engine.cli", "grade", path, "--format", "json"], cwd=ROOT,
                          capture_output=True, check=False)
    assert done.returncode in (0, 1) and b"Traceback" not in done.stderr, done.stderr.decode()
    doc = json.loads(done.stdout.decode().replace(path, "<facts>"))  # a message names its file
    for r in doc["results"]:
        r["facts"].pop("source")
    return doc["results"]


@pytest.mark.parametrize("year", [2024, 2026])
def test_xlsx_facts_give_the_same_results_as_csv(year: int):
    assert _results(f"examples/province_{year}.xlsx") == _results(f"examples/province_{year}.csv")


def test_the_2026_example_shows_each_rule_2026_adds():
    """Each change examples/make_province_2026.py designs does what it says there, for the reason it gives."""
    doc = {r["unit_id"]: r for r in _results("examples/province_2026.csv")}
    unmet = {c["id"] for level in doc["HL-BV01"]["explanation"]["levels"] if level["id"] == "excellent"
             for c in level["conditions"] if c["outcome"] == "not_held"}
    assert (doc["HL-BV01"]["grade"], doc["HL-BV01"]["score"], unmet) == ("good", 100, {"no_subordinate_disciplined"})
    assert doc["HL-BV02"]["grade"] == "excellent" and doc["HL-BV02"]["explanation"]["quota"]["exempt_by"] == \
        "outstanding_organisation"
    for unit, veto in (("HL-TT07", "criterion_rated_poor"), ("HL-DN10", "subordinates_disciplined")):
        held = [v["id"] for v in doc[unit]["explanation"]["vetoes"] if v["outcome"] == "held"]
        assert (doc[unit]["grade"], held) == ("not_completed", [veto]), unit
    assert doc["HL-DN17"]["status"] == "invalid"
    assert "constraint 'on_time_within_done'" in " ".join(doc["HL-DN17"]["explanation"]["problems"])


def test_example_province_has_the_designed_spread():
    doc = json.loads((ROOT / "tests" / "golden" / "province_2024.json").read_text(encoding="utf-8"))
    outcome = {r["unit_id"]: (r["status"], r["grade"]) for r in doc["results"]}
    grades = {g for s, g in outcome.values() if s == "graded"}
    assert grades == {"excellent", "good", "completed", "not_completed"}
    assert {s for s, _ in outcome.values()} == {"graded", "not_graded", "invalid"}
    assert outcome["HL-TTYT03"] == ("graded", "excellent") and outcome["HL-TTYT05"] == ("graded", "good"), "unit-id tie-break"
    demoted = [r["unit_id"] for r in doc["results"] if r["quota"] and not r["quota"]["kept"]]
    assert demoted, "the quota must demote someone in the example"


PYTHON_SPELLINGS = re.compile(r"\{'|'\}|\[\]|\bNone\b|\bTrue\b|\bFalse\b|Fraction\(|Decimal\(|datetime\.")


@pytest.mark.parametrize("name", [n for n, _ in OUTPUTS if not n.endswith(".json")])
def test_text_for_people_never_shows_a_python_value(name: str):
    """What a person reads says 'none' or 'true', never Python's repr of a dict, None or a Fraction."""
    text = (ROOT / "tests" / "golden" / name).read_text(encoding="utf-8")
    found = [line for line in text.splitlines() if PYTHON_SPELLINGS.search(line)]
    assert not found, f"tests/golden/{name} shows Python values to a person:\n" + "\n".join(found[:5])


@pytest.mark.parametrize("name", [n for n, _ in OUTPUTS if not n.startswith("diff_")])
def test_a_label_never_shows_a_parameter_placeholder(name: str):
    """A label that names a parameter ({dues_rate}) is shown with its value wherever it is written for a reader
    (a diff shows the rule set's text as the designer wrote it)."""
    text = (ROOT / "tests" / "golden" / name).read_text(encoding="utf-8")
    found = [line for line in text.splitlines() if re.search(r"\{[a-z][a-z0-9_]*\}", line)]
    assert not found, f"tests/golden/{name} shows a parameter's name in braces:\n" + "\n".join(found[:5])
