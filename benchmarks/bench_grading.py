#!/usr/bin/env python3
"""Throughput and peak memory of grading in one process: each back end alone, then together.

    python benchmarks/bench_grading.py --units 10000
    python benchmarks/bench_grading.py --commands --sizes 10000 100000 1000000   # the real command, end to end

The measurements, each over the same units:

- ``compiled``: the compiled evaluator alone (all three stages and the grade arithmetic);
- ``engine_check``: what a batch does for every unit — the compiled evaluator decides, the
  rule engine (durable-rules) checks every answer;
- ``tracer``: the tracing evaluator, which makes explanations;
- ``engine_alone``: the rule engine deciding by itself (how a refused answer is named);
- ``batch``: ``Grader.batch`` as cases and appeals use it (the quota included, no explanations).

``--commands`` runs ``benchmarks/bench_commands.py`` instead: the real ``cdcs grade`` on
every core at each size, each output format and ``--record``, with the memory of the
whole process tree.

Units are synthetic: drawn from ``criteria/catalogue.yaml`` with a seeded
``random.Random`` so that every run grades the same units, with the correlations the
rule set needs to give a spread of grades (see :func:`draw_facts`).  Each measurement
runs in a fresh subprocess (this script again, with a hidden ``--child`` flag), so its
peak RSS belongs to that back end alone and not to whatever ran before it.  Unit
generation is never timed; peak memory is given both absolute and above a baseline
taken after the imports, the plan and the units.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import importlib.metadata
import json
import os
import platform
import random
import resource
import shlex
import subprocess
import sys
import time
import zlib
from array import array
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, even when not installed

from engine.compiling.compile import Plan, compile_file  # noqa: E402
from engine.errors import EngineDisagreement  # noqa: E402
from engine.backends.compiled import CompiledBackend  # noqa: E402
from engine.backends.evaluate import Decided, DurableBackend, Grader, TraceBackend, decide_unit, engine_values  # noqa: E402
from engine.reading.facts import UnitFacts, parse_value  # noqa: E402
from engine.model import FactSpec  # noqa: E402
from engine.pipeline import run  # noqa: E402

DEFAULT_RULES = REPO / "rules" / "2024" / "ruleset-2024.1.yaml"
MEASUREMENTS = ("compiled", "engine_check", "tracer", "engine_alone", "batch")
SELECTIONS = {m: (m,) for m in MEASUREMENTS} | {None: MEASUREMENTS}
OUTCOMES = ("excellent", "good", "completed", "not_completed", "not_graded", "invalid")
SHORT = {"excellent": "excel.", "good": "good", "completed": "compl.", "not_completed": "not_c.",
         "not_graded": "not_gr.", "invalid": "invalid"}

INCOMPLETE_SHARE = 0.10  # units that leave facts out ...
INCOMPLETE_GAP = 0.20  # ... each 'insufficient' fact with this chance: ~2% of those cells overall
DEFAULT_GAP = 0.10  # 'default' facts left out (the catalogue's default then applies)

WORKPLACES = {"public_service": 0.60, "public_admin": 0.10, "enterprise_state": 0.10,
              "enterprise_nonstate": 0.12, "fdi": 0.08}
PROVINCES = 63


# --- synthetic units ----------------------------------------------------------------------

def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _clamp(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


def _share(rng: random.Random, quality: float, good: float, spread: float = 0.08) -> float:
    """A ratio near 1 for a good unit, falling off with lower quality; clamped to 0..1."""
    return _clamp(rng.gauss(1 - (1 - quality) * good, spread), 0.0, 1.0)


def _pct(rng: random.Random, quality: float, places: int, good: float = 0.6) -> str:
    """A percentage as the text a unit would write, with at most ``places`` decimals."""
    full = _chance(rng, 0.25 + 0.6 * quality)  # many units report exactly 100%
    value = 1.0 if full else _share(rng, quality, good, 0.12)
    steps = round(value * 100 * 10 ** places)
    return _decimal_text(steps, places)


def _decimal_text(steps: int, places: int) -> str:
    """``steps`` units of 10^-places, written as a plain decimal."""
    if places == 0:
        return str(steps)
    return f"{steps // 10 ** places}.{steps % 10 ** places:0{places}d}"


def _date_between(rng: random.Random, low: datetime.date, high: datetime.date) -> datetime.date:
    return low + datetime.timedelta(days=rng.randint(0, (high - low).days))


def _near(rng: random.Random, day: datetime.date, late_p: float, cap: datetime.date) -> datetime.date:
    """A submission date: usually some days before ``day``, late with chance ``late_p``."""
    shift = rng.randint(1, 40) if _chance(rng, late_p) else -rng.randint(0, 30)
    return min(day + datetime.timedelta(days=shift), cap)


def _vnd(x: float) -> int:
    return max(0, int(round(x, -3)))  # whole thousands of VND, as accounts report them


def draw_facts(rng: random.Random, index: int, year: int, width: int) -> dict[str, Any]:
    """One unit's raw facts, before any are left out.

    A latent ``quality`` in 0..1 drives every behaviour, so a unit that meets its
    tasks also tends to collect its dues and hold its meetings: that is what lets
    some units reach excellent while others fail, rather than every unit failing
    one of ~30 independent requirements.
    """
    start, end = datetime.date(2000, 1, 1), datetime.date(year, 12, 31)
    quality = rng.betavariate(6, 1.6)
    workplace = rng.choices(list(WORKPLACES), weights=list(WORKPLACES.values()))[0]
    enterprise = workplace.startswith("enterprise") or workplace == "fdi"
    province = rng.randint(1, PROVINCES)
    upper = (f"LĐLĐ tỉnh {province:02d}" if enterprise and _chance(rng, 0.3)
             else f"Công đoàn ngành Y tế tỉnh {province:02d}")

    workers = int(_clamp(rng.lognormvariate(4.6, 1.1), 5, 20000))
    members = min(workers, int(round(workers * _share(rng, quality, 0.5, 0.06))))
    established = (_date_between(rng, datetime.date(year, 1, 1), end) if _chance(rng, 0.03)
                   else _date_between(rng, start, datetime.date(year - 1, 12, 31)))
    reorganized = (_date_between(rng, max(established, datetime.date(year - 3, 1, 1)), end)
                   if _chance(rng, 0.06) else None)

    assigned = rng.randint(5, 40)
    done = assigned if _chance(rng, 0.5 + 0.5 * quality) else int(assigned * _share(rng, quality, 0.9, 0.2))
    on_time = done if _chance(rng, 0.1 + 0.9 * quality) else int(done * _share(rng, quality, 0.5, 0.1))
    exceeded = min(done, int(assigned * _clamp(rng.gauss(quality * 0.3, 0.08), 0, 1)))
    required = rng.choice((4, 4, 6, 12))
    held = required if _chance(rng, 0.3 + 0.7 * quality) else int(required * _share(rng, quality, 0.7, 0.15))

    kpcd_due = _vnd(workers * rng.uniform(6e6, 15e6) * 12 * 0.02)
    dues_due = _vnd(members * rng.uniform(5e6, 12e6) * 12 * 0.01)
    kpcd = _vnd(kpcd_due * _share(rng, quality, 0.12, 0.03))
    dues = _vnd(dues_due * _share(rng, quality, 0.12, 0.03))
    remit_due = _vnd(kpcd * 0.25 + dues * 0.4)
    remit = remit_due if _chance(rng, 0.4 + 0.6 * quality) else _vnd(remit_due * rng.uniform(0.5, 1))
    spending = _vnd((kpcd + dues - remit) * rng.uniform(0.7, 1.05))
    staff = _vnd(spending * _clamp(rng.gauss(0.27 - 0.08 * quality, 0.04), 0, 1))
    admin = _vnd(spending * _clamp(rng.gauss(0.10 - 0.04 * quality, 0.02), 0, 1))
    budget_deadline = datetime.date(year, 3, 31)
    settlement_deadline = datetime.date(year, 4, 30)
    findings = rng.choice((0, 0, 0, 1, 2, 3, 5))
    culture = _chance(rng, 0.3 + 0.5 * quality)

    return {
        "unit_id": f"U{index:0{width}d}",
        "name": f"CĐCS {workplace.replace('_', ' ')} số {index}",
        "year": year,
        "workplace_type": workplace,
        "upper_union": upper,
        "emulation_bloc": f"Khối thi đua {rng.randint(1, 8)}",
        "established_on": established,
        "reorganized_on": reorganized,
        "workers_total": workers,
        "members_total": members,
        "members_new": rng.randint(0, max(1, members // 10)),
        "exec_meetings_held": held,
        "exec_meetings_required": required,
        "has_operating_rules": _chance(rng, 0.75 + 0.25 * quality),
        "ubkt_status": ("none" if _chance(rng, 0.15 * (1 - quality) + 0.02)
                        else "designated_member" if members < 30 or _chance(rng, 0.05) else "committee"),
        "officers_trained_pct": _pct(rng, quality, 2),
        "staff_conference_held": _chance(rng, 0.85 + 0.15 * quality),
        "workplace_dialogues": rng.choice((0, 1, 2, 2, 3, 4)) if quality > 0.4 else rng.choice((0, 1, 2)),
        "grassroots_democracy_rules_joined": _chance(rng, 0.8 + 0.2 * quality),
        "cba_status": rng.choices(("none", "signed", "signed_more_favourable"),
                                  weights=(1.2 - quality, 1, 2 * quality))[0],
        "members_informed_pct": _pct(rng, quality, 2, 0.3),
        "members_referred_to_party": rng.choice((0, 0, 1, 1, 2, 3)),
        "social_activities_joined": _chance(rng, 0.8 + 0.2 * quality),
        "tasks_assigned": assigned,
        "tasks_on_time": on_time,
        "tasks_done": done,
        "tasks_exceeded": exceeded,
        "prior_shortcomings_fixed_pct": _pct(rng, quality, 2),
        "fatal_work_accidents": 1 if _chance(rng, 0.03 if enterprise else 0.005) else 0,
        "members_disciplined_warning_plus": 0 if _chance(rng, 0.7 + 0.25 * quality) else rng.randint(1, 3),
        "leadership_disciplined": _chance(rng, 0.005),
        "disunity_concluded": _chance(rng, 0.005),
        "corruption_case": _chance(rng, 0.01),
        "corruption_self_detected": _chance(rng, 0.3),
        "kpcd_due_vnd": kpcd_due,
        "kpcd_collected_vnd": kpcd,
        "dues_due_vnd": dues_due,
        "dues_collected_vnd": dues,
        "remit_due_vnd": remit_due,
        "remit_paid_vnd": remit,
        "spending_total_vnd": spending,
        "spending_staff_vnd": staff,
        "spending_admin_vnd": admin,
        "budget_submitted_on": _near(rng, budget_deadline, 0.25 * (1 - quality) + 0.02, end),
        "budget_deadline": budget_deadline,
        "settlement_submitted_on": _near(rng, settlement_deadline, 0.25 * (1 - quality) + 0.02, end),
        "settlement_deadline": settlement_deadline,
        "internal_spending_rules": _chance(rng, 0.8 + 0.2 * quality),
        "disclosure_done": _chance(rng, 0.8 + 0.2 * quality),
        "self_inspection_done": _chance(rng, 0.6 + 0.4 * quality),
        "inspection_findings": findings,
        "findings_remedied": findings if _chance(rng, 0.5 + 0.5 * quality) else rng.randint(0, findings),
        "culture_registered": culture,
        "culture_score": _decimal_text(rng.randint(600, 1000) if culture else rng.randint(0, 1000), 1),
        "culture_mandatory_breaches": 0 if _chance(rng, 0.8) else rng.randint(1, 3),
        "prior_year_grade": rng.choice(OUTCOMES[:5]),
    }


def draw_generic(rng: random.Random, spec: FactSpec, year: int) -> Any:
    """A value for a catalogue fact :func:`draw_facts` does not know, from its type and range."""
    low, high = spec.bounds
    if spec.type == "bool":
        return _chance(rng, 0.5)
    if spec.type == "enum":
        return rng.choice(sorted(spec.values or {}))
    if spec.type == "date":
        return _date_between(rng, datetime.date(2000, 1, 1), datetime.date(year, 12, 31))
    if spec.type == "string":
        return f"s{rng.randint(0, 10 ** 6)}"
    default_high = {"int": 100, "vnd": 10 ** 9}.get(spec.type, 100)
    low_v = 0 if low is None else low
    high_v = max(low_v, default_high if high is None else high)
    steps = rng.randint(int(low_v * 10 ** spec.scale), int(high_v * 10 ** spec.scale))
    return _decimal_text(steps, spec.scale) if spec.scale else steps


def make_units(plan: Plan, count: int, seed: int) -> tuple[list[UnitFacts], dict[str, int]]:
    """``count`` units as the facts loader would build them, and what was left out.

    Every value goes through :func:`engine.reading.facts.parse_value`, which both types it
    and rejects anything outside the fact's range, enum or decimal places.  Missing
    values follow the catalogue: 'required' never missing; 'insufficient' missing
    in a tenth of the units (clustered, as incomplete reports are; independent gaps
    in every unit would leave half of them undecidable); 'default' facts sometimes
    missing and then defaulted exactly as the loader does.
    """
    rng = random.Random(seed)
    facts = plan.catalogue.facts
    year = plan.ruleset.year
    width = max(6, len(str(count)))
    stats = {"insufficient_cells": 0, "insufficient_missing": 0, "defaulted": 0, "fingerprint": 0}
    units = []
    for i in range(1, count + 1):
        raw = draw_facts(rng, i, year, width)
        incomplete = _chance(rng, INCOMPLETE_SHARE)
        unit = UnitFacts(unit_id=raw["unit_id"], position=i, source="synthetic")
        for name, spec in facts.items():
            value = raw[name] if name in raw else draw_generic(rng, spec, year)
            if spec.on_missing == "insufficient":
                stats["insufficient_cells"] += 1
                if value is None or (incomplete and _chance(rng, INCOMPLETE_GAP)):
                    stats["insufficient_missing"] += 1
                    continue
            elif spec.on_missing == "default" and (value is None or _chance(rng, DEFAULT_GAP)):
                if spec.default is not None:
                    unit.values[name] = parse_value(spec.default, spec)
                unit.defaulted.append(name)
                stats["defaulted"] += 1
                continue
            unit.values[name] = parse_value(value, spec)
        stats["fingerprint"] = zlib.crc32(repr(sorted(unit.values.items())).encode(), stats["fingerprint"])
        units.append(unit)
    return units, stats


# --- one measurement, in a child process ------------------------------------------------

def engine_digest() -> str:
    """Checksum of the engine's sources, to tell runs of different (uncommitted) code apart."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "engine").rglob("*")):
        if path.suffix in (".py", ".lark"):
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def peak_kib() -> int:
    """Peak RSS of this process so far, in KiB (macOS reports bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def label(status: str, grade: Optional[str]) -> str:
    return grade if status == "graded" and grade else status


def run_backend(plan: Plan, units: list[UnitFacts], mode: str) -> dict[str, Any]:
    """Every unit through one back end (or the engine check); keeps only a grade code and an outcome checksum per unit.

    The checksums let the parent find units on which the back ends decide differently,
    without keeping every decision in memory (5 bytes a unit).
    """
    keys = [d.key for d in plan.decisions]
    codes, sums = array("B"), array("I")
    integers = mode in ("compiled", "engine_check")
    values = [engine_values(plan, u.values) if integers else u.values for u in units]  # read, not timed
    start = time.perf_counter()
    if mode == "engine_check":
        grader = Grader(plan, explain=False)
        decide: Callable[[Any], Decided] = grader.decide
    else:
        backend = {"compiled": CompiledBackend, "tracer": TraceBackend, "engine_alone": DurableBackend}[mode](plan)
        decide = lambda v: decide_unit(plan, backend, v)  # noqa: E731
    for value in values:
        decided = decide(value)
        codes.append(OUTCOMES.index(label(decided.choice.status, decided.choice.grade)))
        sums.append(zlib.crc32(repr([decided.outcomes.get(k) for k in keys]).encode()))
    return {"seconds": time.perf_counter() - start, "peak_kib": peak_kib(), "codes": codes, "sums": sums}


def run_batch(plan: Plan, units: list[UnitFacts]) -> dict[str, Any]:
    """A batch in memory, through the pipeline (:func:`engine.pipeline.run.evaluations`); a disagreement ends it and
    is reported, not hidden."""
    start = time.perf_counter()
    try:
        results = run.evaluations(plan, units, explain=False)
    except EngineDisagreement as exc:
        return {"seconds": time.perf_counter() - start, "peak_kib": peak_kib(), "error": f"EngineDisagreement: {exc}"}
    out = {"seconds": time.perf_counter() - start, "peak_kib": peak_kib()}
    out["codes"] = array("B", (OUTCOMES.index(label(r.status, r.grade)) for r in results))
    out["demoted"] = sum(1 for r in results if r.quota and not r.quota.kept)
    return out


def child(mode: str, rules: Path, count: int, seed: int) -> None:
    """Measure one thing and print it as one JSON line for the parent."""
    source = engine_digest()
    plan = compile_file(rules)
    units, stats = make_units(plan, count, seed)
    gc.collect()
    baseline = peak_kib()
    if mode == "batch":
        out = run_batch(plan, units)
    else:
        out = run_backend(plan, units, mode)
    out.update(mode=mode, units=len(units), baseline_kib=baseline, stats=stats, engine=source)
    if "codes" in out:  # serialised only now, so that the peak above is the grading's own
        out["codes"] = out["codes"].tobytes().hex()
    if "sums" in out:
        out["sums"] = out["sums"].tolist()
    print(json.dumps(out))


# --- the parent: run the children, print the table ---------------------------------------

def measure(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode,
           "--units", str(args.units), "--seed", str(args.seed), "--rules", str(args.rules)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)  # stderr passes through
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"mode": mode, "error": f"the measurement process exited with code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def shown(path: Path) -> str:
    """A path relative to the repository when it is inside it (no machine paths in output)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def revision() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty else "")


def command_line(args: argparse.Namespace) -> str:
    parts = ["python", shown(Path(__file__)), "--units", str(args.units), "--seed", str(args.seed),
             "--rules", shown(args.rules)]
    if args.backend:
        parts += ["--backend", args.backend]
    return shlex.join(parts)


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def distribution(codes_hex: str) -> Counter:
    return Counter(OUTCOMES[c] for c in bytes.fromhex(codes_hex))


def report(args: argparse.Namespace, results: list[dict[str, Any]], code: str, load: Optional[float]) -> None:
    first = next((r for r in results if "stats" in r), {})
    print("Grading benchmark")
    print(f"  command  : {command_line(args)}   (from the repository root)")
    busy = f", load average {load:.2f} before the run" if load is not None else ""
    print(f"  machine  : {platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs{busy}")
    print(f"  python   : {platform.python_implementation()} {platform.python_version()}, "
          f"durable_rules {importlib.metadata.version('durable_rules')}")
    sources = sorted({r["engine"] for r in results if "engine" in r})
    print(f"  code     : {code}, engine sources {'/'.join(sources) or '?'}"
          + ("  WARNING: the engine changed between measurements" if len(sources) > 1 else ""))
    if first:
        s = first["stats"]
        share = 100 * s["insufficient_missing"] / max(1, s["insufficient_cells"])
        print(f"  units    : {args.units} synthetic (seed {args.seed}), fingerprint {s['fingerprint']:08x}; "
              f"{share:.2f}% of 'insufficient' facts missing, {s['defaulted']} defaults applied")
    fingerprints = {r["stats"]["fingerprint"] for r in results if "stats" in r}
    if len(fingerprints) > 1:
        print("  WARNING  : the measurement processes generated different units")
    print()
    print(f"{'measurement':<14}{'units':>8}{'seconds':>10}{'units/s':>10}{'peak MiB':>10}{'abs MiB':>10}"
          f"{'base MiB':>10}")
    for r in results:
        if "seconds" not in r:
            print(f"{r['mode']:<14}{'FAILED':>8}")
            continue
        done = "FAILED" if r.get("error") else str(r["units"])
        rate = "-" if r.get("error") else f"{r['units'] / r['seconds']:.0f}"
        print(f"{r['mode']:<14}{done:>8}{r['seconds']:>10.2f}{rate:>10}"
              f"{mib(r['peak_kib'] - r['baseline_kib']):>10}{mib(r['peak_kib']):>10}{mib(r['baseline_kib']):>10}")
    print()
    print(f"{'grades (%)':<14}" + "".join(f"{SHORT[o]:>8}" for o in OUTCOMES))
    for r in results:
        if r.get("codes"):
            counts = distribution(r["codes"])
            print(f"{r['mode']:<14}" + "".join(f"{100 * counts[o] / r['units']:>8.1f}" for o in OUTCOMES))
    notes = []
    by_mode = {r["mode"]: r for r in results}
    decided = [r for r in results if "sums" in r]
    for a, b in zip(decided, decided[1:]):
        outcomes = sum(x != y for x, y in zip(a["sums"], b["sums"]))
        grades = sum(x != y for x, y in zip(bytes.fromhex(a["codes"]), bytes.fromhex(b["codes"])))
        notes.append(f"{a['mode']} and {b['mode']} differ on {outcomes} units' decisions, {grades} units' grades")
    if "demoted" in by_mode.get("batch", {}):
        notes.append(f"batch: the quota demoted {by_mode['batch']['demoted']} units from excellent")
    notes += [f"{r['mode']}: {r['error']}" for r in results if r.get("error")]
    print()
    print("peak MiB = peak RSS of the measurement's own process above its baseline (after imports, plan "
          "and units); abs MiB = peak RSS; times exclude unit generation")
    for note in notes:
        print(note)


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10000, help="units to grade (default 10000)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the unit generator (default 2024)")
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES,
                        help="rule set file (default rules/2024/ruleset-2024.1.yaml)")
    parser.add_argument("--backend", choices=[k for k in SELECTIONS if k], default=None,
                        help="one measurement (default: all of them, each in its own process)")
    parser.add_argument("--commands", action="store_true",
                        help="the real command end to end instead (benchmarks/bench_commands.py; its options follow)")
    parser.add_argument("--child", choices=MEASUREMENTS, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.units < 1:
        parser.error("--units must be at least 1")
    args.rules = args.rules.resolve()
    return args


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--commands" in argv:  # that benchmark in place of this one (it imports this module: no import back)
        script = Path(__file__).with_name("bench_commands.py")
        os.execv(sys.executable, [sys.executable, str(script), *[a for a in argv if a != "--commands"]])
    args = parse_args(argv)
    if args.child:
        child(args.child, args.rules, args.units, args.seed)
        return 0
    code = revision()  # before measuring: the tree may change while the children run
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = [measure(mode, args) for mode in SELECTIONS[args.backend]]
    report(args, results, code, load)
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
