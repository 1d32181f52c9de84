"""Regenerates the golden outputs from the bundled example and rule set, through the real CLI.

Run from anywhere: ``python tests/golden/make_golden.py``.  Review the diff before
committing: a changed golden file is a changed result for real units.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

OUT = "<out>"  # in an entry's arguments: the file the command writes (--out); its bytes are the output

# (golden file name, cdcs arguments)
OUTPUTS = [
    ("province_2024.json", ["grade", "examples/province_2024.csv", "--format", "json"]),
    ("province_2024.table.vi.txt", ["grade", "examples/province_2024.csv"]),
    ("province_2024.table.en.txt", ["grade", "examples/province_2024.csv", "--lang", "en"]),
    ("province_2024.results.csv", ["grade", "examples/province_2024.csv", "--format", "csv"]),
    ("explain_HL-BV06.vi.txt", ["explain", "HL-BV06", "examples/province_2024.csv"]),
    ("explain_HL-TTYT05.en.txt", ["explain", "HL-TTYT05", "examples/province_2024.csv", "--lang", "en"]),
    ("explain_HL-FDI01.vi.txt", ["explain", "HL-FDI01", "examples/province_2024.csv"]),
    ("explain_HL-TT03.en.txt", ["explain", "HL-TT03", "examples/province_2024.csv", "--lang", "en"]),
    ("province_2025.table.en.txt", ["grade", "examples/province_2025.csv", "--lang", "en"]),
    ("diff_2024_2025.txt", ["diff", "2024.1", "2025.1"]),
    ("diff_2025.1_2025.2.txt", ["diff", "2025.1", "2025.2"]),
    ("impact_2024_2025.province_2025.en.txt", ["impact", "examples/province_2025.csv", "--from", "2024.1", "--to", "2025.1",
                                               "--lang", "en"]),
    ("impact_2024_2025.province_2024.vi.txt", ["impact", "examples/province_2024.csv", "--from", "2024.1", "--to", "2025.1",
                                               "--with", "examples/province_2024_new_facts.csv"]),
    ("coverage_2024.txt", ["test", "2024.1", "--coverage"]),
    ("report_province_2025.json", ["report", "examples/province_2025.csv", "--format", "json"]),
    ("report_province_2025.vi.txt", ["report", "examples/province_2025.csv"]),
    ("report_province_2025.en.txt", ["report", "examples/province_2025.csv", "--lang", "en"]),
    ("report_province_2025.vi.html", ["report", "examples/province_2025.csv", "--format", "html", "--out", OUT]),
    ("diff_2025.2_2026.1.txt", ["diff", "2025.2", "2026.1"]),
    ("explain_HL-BV01_2026.vi.txt", ["explain", "HL-BV01", "examples/province_2026.csv"]),
    ("explain_HL-BV02_2026.en.txt", ["explain", "HL-BV02", "examples/province_2026.csv", "--lang", "en"]),
    ("impact_2025_2026.province_2025.en.txt", ["impact", "examples/province_2025.csv", "--from", "2025", "--to", "2026.1",
                                               "--with", "examples/province_2025_new_facts.csv", "--lang", "en"]),
]


def run(args: list[str]) -> bytes:
    """What ``cdcs ARGS`` writes: standard output, or the file given as ``OUT``."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "output"
        command = [str(out) if arg == OUT else arg for arg in args]
        done = subprocess.run([sys.executable, "-m", "engine.cli", *command], cwd=ROOT, capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"cdcs {' '.join(args)} failed ({done.returncode}):\n{done.stderr.decode()}")
        return out.read_bytes() if OUT in args else done.stdout


def main() -> None:
    for name, args in OUTPUTS:
        (HERE / name).write_bytes(run(args))
        print(f"wrote tests/golden/{name}")


if __name__ == "__main__":
    main()
