"""`cdcs report`: the year against a programme's targets, through the real command.

Broken target files (tests/errors/targets.yaml: the bundled file with one text
replaced) are refused at their line; the arithmetic of a share — met exactly at the
target, short by the units it needs, no units at all — is checked on facts files made
from the bundled example with a known number of units meeting one target.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from cli_run import ERRORS, REPO, assert_no_traceback, run_cdcs

BUNDLED = REPO / "criteria" / "targets" / "cdytvn-2023-2028.yaml"
EXAMPLE = REPO / "examples" / "province_2025.csv"
BROKEN = yaml.safe_load((ERRORS / "targets.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", BROKEN, ids=[c["name"] for c in BROKEN])
def test_a_broken_target_file_is_refused_at_its_line(case: dict, tmp_path: Path):
    old, new = case["replace"]
    text = BUNDLED.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the replaced text must be in the bundled file once: {old!r}"
    broken = tmp_path / f"{case['name']}.yaml"
    broken.write_text(text.replace(old, new), encoding="utf-8")
    done = run_cdcs("report", "examples/province_2025.csv", "--targets", str(broken))
    assert done.code == 1, done
    assert_no_traceback(done)
    assert done.stdout == "", done
    located = done.lines_at(f"{broken}:{case['line']}:")
    assert located, done
    for words in case["words"]:
        assert any(words in line for line in located), (words, done)


def test_a_missing_target_file_is_named():
    done = run_cdcs("report", "examples/province_2025.csv", "--targets", "no/such/targets.yaml")
    assert done.code == 1 and "no/such/targets.yaml: error: no such file" in done.stderr, done
    assert_no_traceback(done)


def _facts_with(tmp_path: Path, disclosed: int, units: int) -> Path:
    """The first ``units`` units of the example, of which exactly the first ``disclosed`` disclose their finances."""
    rows = list(csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))[:units]
    for i, row in enumerate(rows):
        row["disclosure_done"] = "true" if i < disclosed else "false"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "units.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _disclosure(tmp_path: Path, facts: Path, at_least: str, of: str = "all") -> dict:
    targets = tmp_path / "targets.yaml"
    targets.write_text(f"""\
id: test_targets
version: "1"
title: {{vi: "Chỉ tiêu thử", en: "Test targets"}}
source: "tests"
groups:
  fdi: {{label: {{vi: "FDI", en: "FDI"}}, condition: "workplace_type == 'fdi'"}}
  nobody: {{label: {{vi: "Không ai", en: "Nobody"}}, condition: "members_total < 0"}}
targets:
  - id: disclosure
    reference: "5"
    text: "CĐCS thực hiện công khai tài chính"
    label: {{vi: "Công khai tài chính", en: "Financial disclosure"}}
    kind: share
    at_least: {at_least}
    of: {of}
    measure: {{fact: disclosure_done}}
""", encoding="utf-8")
    done = run_cdcs("report", str(facts), "--targets", str(targets), "--format", "json")
    assert done.code == 0, done
    return json.loads(done.stdout)["results"][0]


@pytest.mark.parametrize("disclosed, at_least, met, gap", [
    (8, "80", True, 0),     # exactly at the target
    (7, "80", False, 1),    # one unit short
    (7, "70.5", False, 1),  # 70% of 10 is under 70.5%: one more unit reaches 80%
    (10, "100", True, 0),
    (0, "100", False, 10),
    (3, "25", True, 0),
])
def test_a_share_is_met_at_its_target_and_short_by_the_units_it_needs(tmp_path, disclosed, at_least, met, gap):
    result = _disclosure(tmp_path, _facts_with(tmp_path, disclosed, 10), at_least)
    overall = result["overall"]
    assert (overall["units"], overall["count"], overall["met"], overall["gap"]) == (10, disclosed, met, gap)
    assert overall["value"] == disclosed * 10
    assert [u["measure"] for u in result["blocking"]] == ["not_met"] * (10 - disclosed)


def test_a_group_with_no_units_says_so_rather_than_dividing_by_zero(tmp_path):
    result = _disclosure(tmp_path, _facts_with(tmp_path, 5, 10), "80", of="nobody")
    assert result["overall"] == {"units": 0, "count": 0, "unknown": 0, "value": None, "met": None, "gap": None,
                                 "no_units": True}
    table = run_cdcs("report", str(tmp_path / "units.csv"), "--targets", str(tmp_path / "targets.yaml"), "--lang", "en")
    assert table.code == 0 and "no units" in table.stdout, table


def test_each_breakdown_adds_up_to_the_whole(tmp_path):
    doc = json.loads(run_cdcs("report", "examples/province_2025.csv", "--format", "json").stdout)
    for result in doc["results"]:
        if not result["measurable"]:
            assert result["not_measurable"].startswith("no fact ")
            continue
        for rows in result["by"].values():
            assert sum(r["units"] for r in rows) == result["overall"]["units"], result["id"]
            assert sum(r["count"] for r in rows) == result["overall"]["count"], result["id"]


def test_the_targets_schema_is_stable_and_knows_every_key_the_bundled_file_uses():
    first, second = run_cdcs("schema", "--of", "targets"), run_cdcs("schema", "--of", "targets")
    assert first.code == 0 and first.stdout_bytes == second.stdout_bytes, first
    schema = json.loads(first.stdout)
    defs = schema["$defs"]
    assert schema["additionalProperties"] is False and defs["Target"]["additionalProperties"] is False
    bundled = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    assert set(bundled) <= set(schema["properties"])
    for target in bundled["targets"]:
        assert set(target) <= set(defs["Target"]["properties"]), target["id"]
        assert set(target["measure"]) <= set(defs["Measure"]["properties"]), target["id"]
    assert set(defs["Target"]["properties"]["kind"]["enum"]) == {"share", "count"}
