"""The bundled example's outputs, byte for byte, through the real CLI."""
from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "golden"))
from make_golden import OUTPUTS, run  # noqa: E402


@pytest.mark.parametrize("name, args", OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_output_matches_golden_file(name: str, args: list[str]):
    expected = (ROOT / "tests" / "golden" / name).read_bytes()
    assert run(args) == expected, f"output differs from tests/golden/{name}; if intended, run tests/golden/make_golden.py and review the diff"


def test_xlsx_facts_give_the_same_results_as_csv():
    def results(path: str) -> list[dict]:
        doc = json.loads(run(["grade", path, "--format", "json"]))
        for r in doc["results"]:
            r["facts"].pop("source")
        return doc["results"]

    assert results("examples/province_2024.xlsx") == results("examples/province_2024.csv")


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
