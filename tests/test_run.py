"""The pipeline that grades whole files: the same bytes for any number of processes, progress on a terminal only."""
from __future__ import annotations

import os
import pty
from pathlib import Path

import pytest

from cli_run import REPO, run_cdcs
from conftest import compiled, newest
from engine.pipeline import run
from engine.errors import UserInputError

GOLDEN = REPO / "tests" / "golden"
PROVINCE = REPO / "examples" / "province_2024.csv"


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 units and no file too small for a pool: the 60 units of the example go through real processes."""
    monkeypatch.setattr(run, "CHUNK", 7)
    monkeypatch.setattr(run, "IN_PROCESS_UP_TO", 0)


@pytest.mark.parametrize("output, golden", [("csv", "province_2024.results.csv"), ("json", "province_2024.json"),
                                            ("table", "province_2024.table.vi.txt")])
def test_every_number_of_processes_writes_the_golden_bytes(small_chunks, tmp_path: Path, output: str, golden: str):
    plan, _ = compiled(newest(2024))
    expected = (GOLDEN / golden).read_bytes()
    for jobs in (1, 2, 3):
        out = tmp_path / f"{jobs}.{output}"
        outcome = run.grade_file(plan, PROVINCE, output=output, lang="vi", out=out, jobs=jobs)
        assert out.read_bytes() == expected, f"--jobs {jobs}"
        assert outcome.units == 60 and outcome.counts["excellent"] == 7


def test_every_number_of_processes_writes_the_same_workbook_and_lines(small_chunks, tmp_path: Path):
    plan, _ = compiled(newest(2024))
    for output in ("xlsx", "jsonl"):
        written = set()
        for jobs in (1, 2):
            out = tmp_path / f"{jobs}.{output}"
            run.grade_file(plan, PROVINCE, output=output, lang="en", out=out, jobs=jobs)
            written.add(out.read_bytes())
        assert len(written) == 1, output


def test_a_unit_id_given_again_in_a_later_chunk_is_invalid_whatever_the_processes(small_chunks, tmp_path: Path):
    rows = PROVINCE.read_text(encoding="utf-8").splitlines()
    facts = tmp_path / "twice.csv"
    facts.write_text("\n".join(rows + [rows[3]]) + "\n", encoding="utf-8")
    plan, _ = compiled(newest(2024))
    outputs = set()
    for jobs in (1, 2):
        out = tmp_path / f"{jobs}.csv"
        outcome = run.grade_file(plan, facts, output="csv", out=out, jobs=jobs)
        messages = list(outcome.problems.lines())
        assert any("'HL-VP03' is given twice (first on row 4)" in m and ":62:1:" in m for m in messages), messages
        assert out.read_text(encoding="utf-8").splitlines()[-1].startswith("HL-VP03,Công đoàn Chi cục An toàn")
        assert ",invalid," in out.read_text(encoding="utf-8").splitlines()[-1]
        outputs.add(out.read_bytes())
    assert len(outputs) == 1


def test_a_quota_candidate_given_again_leaves_the_ranking_as_it_was_whatever_the_processes(small_chunks,
                                                                                            tmp_path: Path):
    """Units the quota may move travel with their rows; a repeated one is graded again as invalid, in the same
    chunk or a later one, and every other candidate keeps its row and its rank."""
    rows = PROVINCE.read_text(encoding="utf-8").splitlines()
    first_vp, first_bv = rows[1], rows[4]
    assert first_vp.startswith("HL-VP01,") and first_bv.startswith("HL-BV01,")
    facts = tmp_path / "twice.csv"
    facts.write_text("\n".join(rows[:2] + [first_vp] + rows[2:] + [first_bv]) + "\n", encoding="utf-8")
    golden = (REPO / "tests" / "golden" / "province_2024.results.csv").read_text(encoding="utf-8").splitlines()
    plan, _ = compiled(newest(2024))
    outputs = set()
    for jobs in (1, 2):
        out = tmp_path / f"{jobs}.csv"
        outcome = run.grade_file(plan, facts, output="csv", out=out, jobs=jobs)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[:2] + lines[3:-1] == golden, "a repeated candidate moved another unit"
        for again in (lines[2], lines[-1]):
            assert ",invalid," in again and ",excellent," not in again
        messages = list(outcome.problems.lines())
        assert any("'HL-VP01' is given twice (first on row 2)" in m for m in messages), messages
        assert any("'HL-BV01' is given twice (first on row 6)" in m for m in messages), messages
        outputs.add(out.read_bytes())
    assert len(outputs) == 1


def test_progress_is_shown_on_a_terminal(tmp_path: Path):
    plan, _ = compiled(newest(2024))
    master, slave = pty.openpty()
    with os.fdopen(slave, "w", encoding="utf-8") as terminal:
        assert terminal.isatty()
        run.grade_file(plan, PROVINCE, output="csv", out=tmp_path / "o.csv", jobs=1,
                       progress=run.Progress(stream=terminal, after=0))
    shown = os.read(master, 65536).decode("utf-8")
    os.close(master)
    assert "units/s" in shown and ("grading: " in shown or "writing: " in shown), shown


def test_no_progress_is_written_when_stderr_is_not_a_terminal(tmp_path: Path):
    run_ = run_cdcs("grade", "examples/province_2024.csv", "--format", "csv", "--out", str(tmp_path / "o.csv"))
    assert run_.code == 0 and run_.stderr == f"60 units graded → {tmp_path / 'o.csv'}\n", run_


def test_a_workbook_too_large_for_a_worksheet_is_refused_before_anything_is_written(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(run, "XLSX_UNITS", 59)  # the example's 60 units, one too many
    plan, _ = compiled(newest(2024))
    out = tmp_path / "results.xlsx"
    with pytest.raises(UserInputError, match="more than 59 units: a worksheet holds at most 59"):
        run.grade_file(plan, PROVINCE, output="xlsx", out=out, jobs=1)
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "xlsx"])
def test_an_output_that_meets_a_full_disk_is_one_line_and_the_previous_file_is_kept(tmp_path: Path, fmt: str):
    """The disk fills while results are written (RLIMIT_FSIZE): no traceback, no half file, no temporary left."""
    out = tmp_path / f"results.{fmt}"
    out.write_bytes(b"the results of an earlier run\n")
    run = run_cdcs("grade", "examples/province_2024.csv", "--format", fmt, "--out", str(out), file_size_limit=4096)
    assert run.code == 1 and "Traceback" not in run.stderr, run
    error = [line for line in run.stderr.splitlines() if ": error: " in line]
    assert len(error) == 1 and ": error: cannot write" in error[0], run
    assert ": File too large; nothing was written" in error[0], run
    assert out.read_bytes() == b"the results of an earlier run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])  # megabytes: far more than a pipe holds, so the write must fail
def test_a_reader_that_stops_early_gets_no_traceback_and_no_message(fmt: str):
    """`cdcs grade … | head`: the pipe closes under the command, which stops quietly (exit 1, as Python does)."""
    import subprocess
    import sys
    command = subprocess.Popen([sys.executable, "-m", "engine.cli", "grade", "examples/province_2024.csv", "--format",
                                fmt], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    command.stdout.read(10)
    command.stdout.close()  # the reader has what it wanted
    stderr = command.stderr.read().decode("utf-8")
    assert command.wait(timeout=120) == 1
    assert stderr == "", stderr
