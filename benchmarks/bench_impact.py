#!/usr/bin/env python3
"""Wall time and peak memory of ``cdcs impact`` on a synthetic province, end to end.

    python benchmarks/bench_impact.py --units 10000

Writes ``--units`` synthetic 2025 reports to a CSV in a temporary folder (drawn as in
``bench_grading.py``, with the facts the 2025 catalogue adds), then runs the real
command a committee would run, in a subprocess:

    cdcs impact units.csv --from 2024 --to 2025 --format json

and reports its wall time (reading the facts, compiling both rule sets, grading every
unit under each — the compiled evaluator deciding, the rule engine checking every
answer — and the quota, comparing, writing the JSON), the peak memory of its largest
process, and what moved.  Writing the CSV is not timed.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "examples"))

from bench_grading import INCOMPLETE_GAP, INCOMPLETE_SHARE, _pct, cpu_model, draw_facts, revision  # noqa: E402
from engine.compiling.compile import compile_file  # noqa: E402
from make_province import csv_cell  # noqa: E402  (how the example writes a cell)

RULES = {"from": REPO / "rules" / "2024" / "ruleset-2024.1.yaml", "to": REPO / "rules" / "2025" / "ruleset-2025.1.yaml"}


def write_units(path: Path, count: int, seed: int) -> None:
    """The 2025 reports: bench_grading's draw, plus dues per half-year and the membership database."""
    catalogue = compile_file(RULES["to"]).catalogue
    rng = random.Random(seed)
    width = max(6, len(str(count)))
    columns = list(catalogue.facts)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for i in range(1, count + 1):
            raw = draw_facts(rng, i, 2025, width)
            base = raw["dues_due_vnd"] * 100  # draw_facts' dues are 1% of this salary base
            raw["dues_salary_h1_vnd"] = base // 2
            raw["dues_salary_h2_vnd"] = base - base // 2
            for name in ("dues_due_vnd", "dues_collected_vnd"):  # 1% to June, 0.5% from July: 3/4 of a year at 1%
                raw[name] = raw[name] * 3 // 4
            raw["members_digital_pct"] = _pct(rng, 0.8, 2)
            incomplete = rng.random() < INCOMPLETE_SHARE
            row = []
            for name in columns:
                value = raw.get(name)
                if incomplete and catalogue.facts[name].on_missing == "insufficient" and rng.random() < INCOMPLETE_GAP:
                    value = None
                row.append(csv_cell(value))
            writer.writerow(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        facts = Path(folder) / "units.csv"
        write_units(facts, args.units, args.seed)
        command = [sys.executable, "-m", "engine.cli", "impact", str(facts), "--from", str(RULES["from"]),
                   "--to", str(RULES["to"]), "--format", "json"]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True)
        seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode not in (0, 1):  # 1: some synthetic rows are incomplete on purpose
        sys.stderr.write(done.stderr.decode("utf-8"))
        return done.returncode
    doc = json.loads(done.stdout)
    summary = doc["summary"]
    print(f"cdcs impact benchmark — python benchmarks/bench_impact.py --units {args.units} --seed {args.seed}")
    print(f"revision {revision()}; Python {sys.version.split()[0]}; {cpu_model()}")
    print(f"units: {summary['units']} (seed {args.seed}), rule sets 2024.1 → 2025.1")
    print(f"wall time: {seconds:.1f} s for the whole command ({summary['units'] * 2 / seconds:,.0f} unit gradings/s, "
          f"each decided and checked by the rule engine)")
    print(f"peak memory of the command's largest process: {peak_mib:,.0f} MiB")
    print(f"changed: {summary['changed']} (up {summary['grade_up']}, down {summary['grade_down']}, "
          f"status {summary['status_changed']}, titles +{summary['titles_gained']}/-{summary['titles_lost']}, "
          f"verdicts {summary['verdict_changed']})")
    print("distribution: " + ", ".join(f"{k} {v['before']}→{v['after']}" for k, v in doc["distribution"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
