#!/usr/bin/env python3
"""How fast ``cdcs why`` and ``cdcs audit replay`` answer on a ledger holding years of a province.

    python benchmarks/bench_audit.py --units 1000 --years 5

Builds, in a temporary folder, a ledger the way a province would over ``--years`` years:
rule sets for the earlier years are started from 2024 with ``cdcs new-year`` (as a
designer would), each year's ``--units`` synthetic reports (drawn as in
``bench_grading.py``) are graded and recorded with ``cdcs grade --record``, and each year
gets ``--appeals`` appeals.  Then it times, each as the real command in a subprocess:
``why`` for a unit with history in the newest year (median of 5), ``audit replay`` of the
newest run, and ``audit verify`` of the whole chain; the newest year's appeals are timed as
they are recorded.  Building the ledger is not timed.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "examples"))

from bench_grading import cpu_model, draw_facts, revision  # noqa: E402
from make_province import csv_cell  # noqa: E402


def cdcs(workspace: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=workspace, env=env, capture_output=True)
    return time.perf_counter() - start, done


def checked(workspace: Path, *args: str) -> float:
    seconds, done = cdcs(workspace, *args)
    if done.returncode not in (0, 1):  # 1: some synthetic rows are incomplete on purpose
        raise SystemExit(f"cdcs {' '.join(args)} failed ({done.returncode}):\n{done.stderr.decode()}")
    return seconds


def write_year(path: Path, year: int, count: int, seed: int, columns: list[str]) -> None:
    """One year's reports of the same province (unit ids stable across years)."""
    rng = random.Random(seed * 1000 + year)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for i in range(1, count + 1):
            raw = draw_facts(rng, i, year, 6)
            base = raw["dues_due_vnd"] * 100
            raw.update(dues_salary_h1_vnd=base // 2, dues_salary_h2_vnd=base - base // 2, members_digital_pct="100",
                       prior_year_grade=None)
            writer.writerow([csv_cell(raw.get(c)) for c in columns])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--years", type=int, default=5, help="years recorded, ending with 2025")
    parser.add_argument("--appeals", type=int, default=10, help="appeals recorded per year")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from engine.compiling.compile import compile_file

    with tempfile.TemporaryDirectory() as folder:
        ws = Path(folder)
        shutil.copytree(REPO / "criteria", ws / "criteria")
        for year in ("2024", "2025"):
            shutil.copytree(REPO / "rules" / year, ws / "rules" / year)
        years = list(range(2026 - args.years, 2026))
        for year in years:
            if year < 2024:
                checked(ws, "new-year", str(year), "--from", "2024")
        columns = list(compile_file(ws / "rules" / "2025" / "ruleset-2025.2.yaml").catalogue.facts)
        db = ws / "audit.sqlite"
        build = time.perf_counter()
        appeals: list[float] = []  # the newest year's, timed: each reads the run it appeals against
        for year in years:
            facts = ws / f"province_{year}.csv"
            catalogue = compile_file(sorted((ws / "rules" / str(year)).glob("ruleset-*.yaml"))[-1]).catalogue
            write_year(facts, year, args.units, args.seed, [c for c in columns if c in catalogue.facts])
            checked(ws, "grade", str(facts), "--record", "--db", str(db), "--format", "csv", "--out", str(ws / "out.csv"))
            for n in range(1, args.appeals + 1):
                unit = f"U{n * 7:06d}"
                fix = ws / "appeal.csv"
                fix.write_text(f"unit_id,members_informed_pct\n{unit},{100 - n % 3}\n", encoding="utf-8")
                seconds, _ = cdcs(ws, "appeal", unit, "--year", str(year), "--facts", str(fix), "--reason",
                                  "benchmark appeal", "--db", str(db), "--apply-to-cohort")
                if year == years[-1]:
                    appeals.append(seconds)
        build = time.perf_counter() - build
        _, log = cdcs(ws, "audit", "log", "--db", str(db))
        records = len(log.stdout.decode().splitlines()) - 2
        newest = max(int(line.split()[0]) for line in log.stdout.decode().splitlines()[2:] if " run " in line)
        size = sum(p.stat().st_size for p in ws.glob("audit.sqlite*"))
        why = [checked(ws, "why", "U000007", "--year", str(years[-1]), "--db", str(db)) for _ in range(5)]
        replay = checked(ws, "audit", "replay", str(newest), "--db", str(db))
        verify = checked(ws, "audit", "verify", "--db", str(db))
    print(f"cdcs audit benchmark — python benchmarks/bench_audit.py --units {args.units} --years {args.years} "
          f"--appeals {args.appeals} --seed {args.seed}")
    print(f"revision {revision()}; Python {sys.version.split()[0]}; {cpu_model()}")
    print(f"ledger: {records} records ({args.years} runs of {args.units} units, {years[0]}–{years[-1]}, and appeals), "
          f"{size / 2 ** 20:,.1f} MiB; built in {build:,.0f} s (not timed below)")
    print(f"why (a unit with {args.years} years of history): median {statistics.median(why):.2f} s "
          f"(min {min(why):.2f}, max {max(why):.2f}) for the whole command")
    if appeals:
        print(f"appeal with --apply-to-cohort in the newest year ({len(appeals)} appeals, each against a run of "
              f"{args.units} units): median {statistics.median(appeals):.2f} s (max {max(appeals):.2f}) for the whole command")
    print(f"audit replay of the newest run ({args.units} units, decided, checked, each decision compared): {replay:.1f} s")
    print(f"audit verify of the whole chain (every stored unit re-hashed): {verify:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
