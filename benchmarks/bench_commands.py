#!/usr/bin/env python3
"""The real ``cdcs grade`` command end to end, at 10^4, 10^5 and 10^6 units: time, rate and memory.

    python benchmarks/bench_commands.py                       # 10^4 and 10^5 units, every output
    python benchmarks/bench_commands.py --sizes 1000000 --outputs csv record jsonl

Writes each size's synthetic 2025 reports to a CSV in a temporary folder (drawn as in
``bench_impact.py``: ``bench_grading.py``'s seeded generator plus the facts the 2025
catalogue adds; not timed), then runs, each in a subprocess from the repository root,

    cdcs grade units.csv --rules 2025 --format F --out … [--record --db …]

and reports its wall time, units per second, the peak memory of the whole command (the
sum of the resident memory of the command and its worker processes, sampled five times
a second; and the largest single process, from the kernel's own count), and for
``--record`` the ledger's bytes per unit.  JSON, JSONL and the table go to /dev/null
(a million explanations are tens of gigabytes); CSV and XLSX to a file.  Memory that does
not grow with the number of units shows as the same figure at every size.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_grading import cpu_model, revision  # noqa: E402
from bench_impact import write_units  # noqa: E402

OUTPUTS = ("csv", "record", "jsonl", "json", "xlsx", "table")
XLSX_ROWS = 1_048_575  # a worksheet's rows, less the header


class TreeMemory(threading.Thread):
    """The largest sum of resident memory of a process and its descendants, sampled from /proc."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _tree(self.pid)))
            time.sleep(0.2)


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(units: Path, output: str, folder: Path, jobs: Optional[int]) -> dict:
    out = folder / f"out.{output}"
    args = [sys.executable, "-m", "engine.cli", "grade", str(units), "--rules", "2025"]
    if output == "record":
        db = folder / "audit.sqlite"
        args += ["--format", "csv", "--out", str(folder / "out.csv"), "--record", "--db", str(db), "--by", "benchmark"]
    elif output in ("csv", "xlsx"):
        args += ["--format", output, "--out", str(out)]
    else:
        args += ["--format", output]
    if jobs:
        args += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(args, cwd=REPO, stdout=sink, stderr=subprocess.PIPE,
                                   env=dict(os.environ, PYTHONPATH=str(REPO)))
        memory = TreeMemory(process.pid)
        memory.start()
        _, error = process.communicate()
        memory.running = False
    seconds = time.perf_counter() - start
    single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {"output": output, "seconds": seconds, "tree_kib": memory.peak_kib,
              "single_kib": single if single > before else None, "code": process.returncode,
              "error": error.decode("utf-8", "replace")[-500:] if process.returncode not in (0, 1) else ""}
    if output == "record":
        result["ledger_bytes"] = sum(p.stat().st_size for p in folder.glob("audit.sqlite*"))
    for path in folder.glob("out.*"):
        path.unlink()
    for path in folder.glob("audit.sqlite*"):
        path.unlink()
    return result


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--outputs", nargs="+", choices=OUTPUTS, default=list(OUTPUTS))
    parser.add_argument("--jobs", type=int, help="processes (default: the command's own, one per core)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    print(f"cdcs grade end to end — python benchmarks/bench_commands.py --sizes {' '.join(map(str, args.sizes))} "
          f"--outputs {' '.join(args.outputs)}" + (f" --jobs {args.jobs}" if args.jobs else ""))
    print(f"revision {revision()}; Python {sys.version.split()[0]}; {cpu_model()}, {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f} before the run")
    print()
    print(f"{'units':>9}  {'output':<7}{'seconds':>9}{'units/s':>9}{'peak MiB':>10}{'largest':>9}{'ledger B/unit':>15}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="cdcs-bench-") as tmp:
        folder = Path(tmp)
        for size in args.sizes:
            units = folder / f"units-{size}.csv"
            write_units(units, size, args.seed)
            for output in args.outputs:
                if output == "xlsx" and size > XLSX_ROWS:
                    continue
                r = measure(units, output, folder, args.jobs)
                if r["error"]:
                    failed = True
                    print(f"{size:>9,}  {output:<7}FAILED (exit {r['code']}): {r['error']}")
                    continue
                ledger = f"{r['ledger_bytes'] / size:,.0f}" if "ledger_bytes" in r else ""
                largest = f"{r['single_kib'] / 1024:,.0f}" if r["single_kib"] else "?"
                print(f"{size:>9,}  {output:<7}{r['seconds']:>9.1f}{size / r['seconds']:>9,.0f}"
                      f"{r['tree_kib'] / 1024:>10,.0f}{largest:>9}{ledger:>15}", flush=True)
            units.unlink()
    print()
    print("peak MiB: the command and its worker processes together; largest: the largest one of them (kernel's "
          "count; '?' when an earlier one was larger). record: --format csv with --record into a new ledger.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
