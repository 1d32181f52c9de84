#!/usr/bin/env python3
"""This project's evaluator against two peer rule engines, on the same units and the same conditions.

    pip install -e '.[bench]'      # zen-engine and rule-engine: benchmark-only extras
    python benchmarks/bench_peers.py --units 10000

The 2024 rule set's stage-1 conditions are translated from their syntax trees (never their
text) into one zen-engine JDM graph and one ``rule_engine.Rule`` each.  The peers read the
units' engine values (:mod:`engine.compiling.integers`), so a comparison of numbers is the same exact
``Σ k·field + c op 0`` in integers the compiled evaluator decides.  An unreported fact is
absent; the peers have no "undecided", so a comparison is guarded (``x != null and …``).
Every outcome this project decides must be the peers' too (a decided three-valued outcome
holds whatever the unknowns are); the undecided ones are counted and left out.

Measured one after the other in this process, pinned to one CPU where the OS allows: the
two peers, the compiled evaluator and ``Grader.decide`` (three stages, grade arithmetic,
durable_rules checking each answer); then ``cdcs grade`` in a subprocess on a CSV of the
same units.  Unit generation, the CSV and compiling or translating rules are not timed.
"""
from __future__ import annotations

import argparse
import csv
import gc
import importlib.metadata
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "examples"))

try:
    import rule_engine
    import zen
except ImportError as missing:  # benchmark-only extras, never needed to grade
    sys.exit(f"{missing.name} is not installed: pip install -e '.[bench]'")

from bench_grading import _decimal_text, cpu_model, make_units, revision, shown  # noqa: E402
from engine.backends.compiled import CompiledBackend  # noqa: E402
from engine.compiling.compile import Plan, compile_file  # noqa: E402
from engine.backends.evaluate import Grader, engine_values  # noqa: E402
from engine.expr import ast  # noqa: E402
from engine.reading.facts import UnitFacts  # noqa: E402
from engine.compiling.integers import difference, in_integers, is_condition, is_symbolic, to_engine  # noqa: E402
from make_province import csv_cell  # noqa: E402

RULES = REPO / "rules" / "2024" / "ruleset-2024.1.yaml"
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*\Z")
MemberTest = Callable[[str, list[str], bool], str]  # (fact, codes, negated) → the peer's membership test


# --- the conditions in each peer's language, from the syntax tree ----------------------------

def _name(name: str) -> str:
    if not IDENTIFIER.match(name):  # stage 1 reads facts only: an outcome's dotted name would need mapping
        raise ValueError(f"'{name}' is not a plain identifier")
    return name


def _symbol(node: ast.Node) -> str:
    """A code, or a bool held as 1/0, as both peers write it."""
    if isinstance(node, ast.Name):
        return _name(node.name)
    if isinstance(node.value, bool):
        return "1" if node.value else "0"
    if not isinstance(node.value, str) or set(node.value) & set("'\"\\\n"):
        raise ValueError(f"cannot write {node.value!r} as a code")
    return f"'{node.value}'"


def _linear(plan: Plan, node: ast.Compare) -> str:
    """``left op right`` as ``Σ k·field + c op 0`` in integers, false when a fact it reads is absent."""
    coefficients, constant, _ = in_integers(*difference(plan, node.left, node.right))
    terms = [("-" if k < 0 else "") + _name(n) if abs(k) == 1 else f"{k}*{_name(n)}" for n, k in coefficients.items()]
    total = " + ".join(terms + [str(constant)] if constant or not terms else terms).replace("+ -", "- ")
    guard = "".join(f"{n} != null and " for n in sorted(ast.names(node.left) | ast.names(node.right)))
    return f"({guard}{total} {node.op} 0)"


def _translate(plan: Plan, node: ast.Node, member: MemberTest) -> str:
    """The forms both peers' languages share; ``member`` is where they differ."""
    def again(n: ast.Node) -> str:
        return _translate(plan, n, member)

    if isinstance(node, ast.Literal):
        return "true" if node.value else "false"
    if isinstance(node, ast.Name):  # a bool fact, held as 1/0: an absent one is simply not 1
        return f"({_name(node.name)} == 1)"
    if isinstance(node, ast.Call) and node.func == "present":
        return f"({_name(node.args[0].name)} != null)"
    if isinstance(node, ast.Not):
        return f"(not {again(node.operand)})"
    if isinstance(node, ast.BoolOp):
        joint = f" {node.op} "
        return f"({joint.join(again(o) for o in node.operands)})" if node.operands else str(node.op == "and").lower()
    if isinstance(node, ast.Member):
        items = node.items.items
        if is_symbolic(plan, node.needle) and isinstance(node.needle, ast.Name) and \
                all(isinstance(i, ast.Literal) for i in items):
            return member(_name(node.needle.name), [_symbol(i) for i in items], node.negated)
        op, joint = ("!=", " and ") if node.negated else ("==", " or ")
        return f"({joint.join(again(ast.Compare(node.text, node.column, op, node.needle, i)) for i in items)})"
    if isinstance(node, ast.Compare):
        if is_condition(plan, node.left):
            return f"({again(node.left)} {node.op} {again(node.right)})"
        if is_symbolic(plan, node.left) or is_symbolic(plan, node.right):
            return f"({_symbol(node.left)} {node.op} {_symbol(node.right)})"
        return _linear(plan, node)
    raise TypeError(f"cannot translate {type(node).__name__}")


def to_zen(plan: Plan, node: ast.Node) -> str:
    """A condition in the ZEN expression language (which has ``not in``)."""
    return _translate(plan, node, lambda x, codes, no: f"({x} {'not in' if no else 'in'} [{', '.join(codes)}])")


def to_rule_engine(plan: Plan, node: ast.Node) -> str:
    """A condition in rule-engine's language (no ``not in``: ``not (x in [...])``)."""
    return _translate(plan, node, lambda x, codes, no: f"({'not ' if no else ''}({x} in [{', '.join(codes)}]))")


def zen_graph(plan: Plan) -> dict:
    """Input → one expression node computing every stage-1 condition → output (JDM)."""
    expressions = [{"id": f"e{i}", "key": d.key.replace(".", "__"), "value": to_zen(plan, d.expr)}
                   for i, d in enumerate(plan.stage(1))]
    nodes = [{"id": kind, "type": f"{kind}Node", "name": kind, "position": {"x": 300 * i, "y": 0}}
             for i, kind in enumerate(("input", "expression", "output"))]
    nodes[1]["content"] = {"expressions": expressions}
    return {"nodes": nodes, "edges": [{"id": f"{a}-{b}", "type": "edge", "sourceId": a, "targetId": b}
                                      for a, b in (("input", "expression"), ("expression", "output"))]}


# --- measurements ---------------------------------------------------------------------------

def timed(run: Callable[[dict], Any], envs: list[dict]) -> tuple[float, float, list]:
    """Every unit through ``run``: wall and CPU seconds, and each answer (checked after the clock stops)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    answers = [run(env) for env in envs]
    return time.perf_counter() - start, time.process_time() - cpu, answers


def write_csv(plan: Plan, units: list[UnitFacts], path: Path) -> None:
    """The same units as the CLI reads them: absent and defaulted facts blank, decimals with their places."""
    columns = list(plan.catalogue.facts)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for unit in units:
            row = []
            for name in columns:
                value = None if name in unit.defaulted else unit.values.get(name)
                scale = plan.fact_types[name].scale
                if scale and isinstance(value, (int, Fraction)) and not isinstance(value, bool):
                    value = _decimal_text(to_engine(plan, name, value), scale)
                row.append(csv_cell(value))
            writer.writerow(row)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipeline(facts: Path, units: int, jobs: int) -> tuple[float, float, Optional[str]]:
    """``cdcs grade`` as a committee runs it: wall and CPU seconds (all its processes), and any failure."""
    out = facts.with_name(f"out-{jobs}.csv")
    command = [sys.executable, "-m", "engine.cli", "grade", str(facts), "--rules", str(RULES),
               "--format", "csv", "--out", str(out), "--jobs", str(jobs)]
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    if done.returncode:
        return seconds, cpu, f"exit code {done.returncode}: {done.stderr.strip()[-300:]}"
    rows = len(out.read_text(encoding="utf-8").splitlines()) - 1  # no cell of these units holds a line break
    return seconds, cpu, None if rows == units else f"{rows} rows written for {units} units"


def compare(plan: Plan, units: list[UnitFacts], peers: dict[str, list], mine: list[dict]) -> tuple[int, int, list]:
    """Decided outcomes compared, undecided ones left out, and every peer answer that differs."""
    compared, undecided, found = 0, 0, []
    for i, unit in enumerate(units):
        for j, d in enumerate(plan.stage(1)):
            outcome = mine[i][d.key]
            if outcome is None:
                undecided += 1
                continue
            compared += 1
            found += [f"{unit.unit_id} {d.key} ({d.source}): this project {outcome}, {peer} {answers[i][j]!r}"
                      for peer, answers in peers.items() if answers[i][j] is not outcome]
    return compared, undecided, found


def pin() -> Optional[set[int]]:
    """Pin this process (and the children it starts) to one CPU; the CPUs to restore, or None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    return allowed


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10000, help="units to decide (default 10000)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the unit generator (default 2024)")
    parser.add_argument("--pipeline-jobs", type=int, nargs="*", default=[1, 2], metavar="N",
                        help="--jobs of each full-pipeline run (default: 1 2; give none to skip)")
    args = parser.parse_args(argv)
    if args.units < 1 or any(j < 1 for j in args.pipeline_jobs):
        parser.error("--units and --pipeline-jobs must be at least 1")
    code = revision()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    plan = compile_file(RULES)
    stage1 = plan.stage(1)
    units, stats = make_units(plan, args.units, args.seed)
    envs = [engine_values(plan, u.values) for u in units]

    decision = zen.ZenEngine().create_decision(json.dumps(zen_graph(plan)))
    outputs = [d.key.replace(".", "__") for d in stage1]
    context = rule_engine.Context(default_value=None)  # an absent fact reads as null, not an error
    rules = [rule_engine.Rule(to_rule_engine(plan, d.expr), context=context) for d in stage1]
    compiled = CompiledBackend(plan)
    grader = Grader(plan, explain=False)
    ids = iter([u.unit_id for u in units])
    measurements = [
        ("zen-engine (JDM expression node)", len(stage1), lambda env: decision.evaluate(env)["result"]),
        ("rule-engine (one Rule each)", len(stage1), lambda env: [r.evaluate(env) for r in rules]),
        ("compiled evaluator (stage 1)", len(stage1), lambda env: compiled.decide(1, env)),
        ("evaluator + engine check", len(plan.decisions), lambda env: grader.decide(env, None, next(ids)))]

    restore = pin()
    rows, answers, failures = [], [], []
    for label, conditions, run in measurements:
        seconds, cpu, out = timed(run, envs)
        rows.append((label, conditions, seconds, cpu))
        answers.append(out)
    with tempfile.TemporaryDirectory() as folder:
        facts = Path(folder) / "units.csv"
        write_csv(plan, units, facts)
        for jobs in sorted(args.pipeline_jobs):
            if jobs > 1 and restore is not None:  # several processes: give them the machine
                os.sched_setaffinity(0, restore)
            seconds, cpu, error = pipeline(facts, len(units), jobs)
            rows.append((f"full pipeline, --jobs {jobs}", len(plan.decisions), seconds, cpu))
            failures += [f"full pipeline, --jobs {jobs}: {error}"] if error else []
    if restore is not None:
        os.sched_setaffinity(0, restore)
    peers = {"zen-engine": [[z.get(k) for k in outputs] for z in answers[0]], "rule-engine": answers[1]}
    compared, undecided, found = compare(plan, units, peers, answers[2])

    versions = {p: importlib.metadata.version(p) for p in ("zen-engine", "rule-engine", "durable_rules")}
    print("Peer rule engines benchmark")
    print(f"  command  : python {shown(Path(__file__))} --units {args.units} --seed {args.seed} --pipeline-jobs"
          f" {' '.join(map(str, args.pipeline_jobs))}   (from the repository root)")
    print(f"  machine  : {platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs"
          + (f", load average {load:.2f} before the run" if load is not None else "")
          + ("; in-process runs and --jobs 1 pinned to one CPU" if restore is not None else "; not pinned"))
    print(f"  software : Python {platform.python_version()}, " + ", ".join(f"{k} {v}" for k, v in versions.items())
          + f"; code {code}; rules {shown(RULES)}")
    missing = 100 * stats["insufficient_missing"] / max(1, stats["insufficient_cells"])
    print(f"  units    : {len(units)} synthetic (seed {args.seed}), fingerprint {stats['fingerprint']:08x}; "
          f"{missing:.2f}% of 'insufficient' facts missing")
    print()
    print(f"{'measurement':<36}{'conds/unit':>11}{'seconds':>10}{'units/s':>11}{'time ÷ zen':>12}{'CPU s':>9}")
    for label, conditions, seconds, cpu in rows:
        print(f"{label:<36}{conditions:>11}{seconds:>10.3f}{len(units) / seconds:>11,.0f}"
              f"{seconds / rows[0][2]:>12.2f}{cpu:>9.3f}")
    print()
    print(f"conds/unit: {len(stage1)} = the stage-1 conditions; {len(plan.decisions)} = every decision of the three "
          "stages, with the grade arithmetic and durable_rules checking each answer")
    print("full pipeline: wall time of the command, with start-up, compiling the rules, reading the CSV, the quota "
          "and writing the output; CPU s: of this process, or of the command's processes (a wall time well above "
          "it means the machine was busy)")
    print(f"correctness: {compared} decided outcomes compared with each peer, {len(found)} differences; "
          f"{undecided} undecided by this project (a fact missing) left out")
    for line in found[:10] + failures:
        print(f"  {line}")
    return 1 if found or failures else 0


if __name__ == "__main__":
    sys.exit(main())
