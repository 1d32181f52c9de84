"""The project's own small mutation tester: do the tests notice when the deciding code is wrong?

Each *mutant* is the code with one small change a slip of the hand could make: a
comparison turned around or made inclusive, ``and`` for ``or``, a ``not`` dropped, a
number off by one, a rule-engine operator swapped (``$gte`` for ``$gt``), a call or a
``return`` value dropped, a branch negated.  For each mutant, the tests that guard its
module run against a copy of the checkout holding the mutant; a failing test *kills* it.
A mutant that survives is either a gap in the tests or a change that makes no
difference (an *equivalent* mutant): ``KNOWN_EQUIVALENT`` lists the ones reviewed and
why they change nothing.

    python tests/mutation/mutate.py                      # every module, report on stdout
    python tests/mutation/mutate.py --module quota --jobs 2
    python tests/mutation/mutate.py --list               # the mutants, without running them

Each mutant meets its module's quick tests first (``QUICK``) and the module's other tests only if it
survives them.  It is a report, not part of CI: a full run takes hours on two cores.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]

# The tests that guard the deciding modules, fastest first (a run stops at its first failure).  The property
# tests are left out: too slow to run a thousand times.
FAST = ["tests/test_engine_checks.py", "tests/test_aggregate.py", "tests/test_quota.py", "tests/test_boundaries.py", "tests/test_rule_cases.py"]
MODULES: dict[str, list[str]] = {
    "engine/compile_durable.py": FAST + ["tests/test_properties.py::test_constants_too_precise_for_exact_arithmetic_"
                                         "are_refused_with_their_place"],
    "engine/backend_compiled.py": FAST,
    "engine/integers.py": FAST,
    "engine/backend_durable.py": ["tests/test_engine_checks.py", "tests/test_engine_faults.py", "tests/test_cli_faults.py"],
    "engine/backend_trace.py": FAST,
    "engine/evaluate.py": ["tests/test_engine_checks.py", "tests/test_quota.py", "tests/test_cli_faults.py",
                           "tests/test_rule_cases.py"],
    "engine/aggregate.py": FAST,
    "engine/quota.py": FAST,
    "engine/facts.py": ["tests/test_boundaries.py", "tests/test_typist.py", "tests/test_facts_errors.py",
                        "tests/test_rule_cases.py"],
    "engine/store.py": ["tests/test_ledger_tamper.py", "tests/test_audit.py"],
}
# The quick tests that kill most of a module's mutants: run first, and the module's full list only on what
# survives them (a mutant killed by any test is killed; this only saves time).
QUICK: dict[str, list[str]] = {
    "engine/compile_durable.py": ["tests/test_engine_checks.py"],
    "engine/backend_compiled.py": ["tests/test_engine_checks.py"],
    "engine/integers.py": ["tests/test_engine_checks.py"],
    "engine/backend_durable.py": ["tests/test_engine_checks.py"],
    "engine/backend_trace.py": ["tests/test_engine_checks.py"],
    "engine/evaluate.py": ["tests/test_engine_checks.py"],
    "engine/aggregate.py": ["tests/test_aggregate.py", "tests/test_rule_cases.py"],
    "engine/quota.py": ["tests/test_quota.py"],
    "engine/facts.py": ["tests/test_boundaries.py"],
    "engine/store.py": ["tests/test_ledger_tamper.py"],
}
# Where a module also holds code that decides nothing (readers, queries, registration), only these functions are
# mutated.
FUNCTIONS: dict[str, set[str]] = {
    "engine/compile_durable.py": {"nnf", "_or_absent", "_atom", "_equality", "_symbol_value", "_linear_compare",
                                  "_check_magnitude", "_all_present", "_threshold", "_holds", "combine", "leaf_rules",
                                  "verify_rules", "usual_outcome", "_shape", "_offset", "part_keys", "splittable"},
    "engine/backend_durable.py": {"decide", "decide_engine", "refused", "_check", "_fired", "_combinations", "_writer",
                                  "_json", "_appender", "_assert", "run"},
    "engine/facts.py": {"unit_from_record", "parse_value", "_bool", "_enum", "_date", "_integer", "_decimal",
                        "_blank", "to_integer", "from_integer", "_fast", "_fast_reader", "unit"},
    "engine/store.py": {"canonical_json", "sha256", "digest", "content_hash", "legacy_content_hash", "entry_hash",
                        "add", "add_packed", "finish", "append", "verify", "content_sha", "_ruleset_problem",
                        "pack_unit", "unpack_unit", "packing"},
    "engine/evaluate.py": {"decide_unit", "decide", "trace", "unit", "batch", "_cohort", "_diagnose",
                           "quota_candidate", "_agree"},
}

OPERATOR_SWAPS = {"$gt": "$gte", "$gte": "$gt", "$lt": "$lte", "$lte": "$lt", "$eq": "$neq", "$neq": "$eq",
                  "$and": "$or", "$or": "$and", "$ex": "$nex", "$nex": "$ex"}
COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Div, ast.Div: ast.Mult}

# Reviewed survivors that cannot change a grade, a title, a verdict or a hash, keyed by
# (module, line, description): why each is equivalent.  Lines are those of the code as it is now: an edit
# above one moves it, and the mutant then shows as NOT REVIEWED until its line is updated here.
_SIGN = "a comparison function is read only for its sign"
_SLOTS = "frozen and slots only forbid assigning to a field or adding one, and nothing does"
_ENGINE_INTS = "engine values are already 1 and 0 (engine/integers.py): a bool never reaches this branch"
_SESSIONS = "session ids only need to differ from one fact to the next"
_SINK = "the sink is emptied both before and after each use: dropping one of the two changes nothing"
_SENTINEL = "only the identity of the one 'unknown' value matters; made once at import, any object (None too) serves"
_FLAG_LITERAL = "a flag compared with true or false is folded to the flag or its negation before it is compiled"
_MESSAGE_HASH = "how many characters of a hash a message shows"
_EXISTS = "the engine's $ex and $nex read only the field's name; the value beside it is ignored"
_FIXED_ITEMS = "the items after 'in' are fixed values (the type checker refuses a field there): none always equals"
_FOLDED = "constant comparisons are folded before this point: a comparison here always reads a field"
_ONE_TYPE = "the type checker gives both sides of a comparison one type: one side symbolic means both are"
_TEMPORARIES = "how the generated code's temporaries are numbered: they only need distinct names"
_NEVER_EMPTY = "an and/or has two parts at least and 'in' refuses an empty list: never reached"
_NO_FLAG_EQUALITY = "a yes/no value is compared as a condition: the equality of codes and texts never meets true or false"
_NO_FLAG_MEMBER = "'in' refuses a yes/no value on its left and items of another type: no item is true or false"
_FALSY = "False and None are alike where it is read: only as a test (if, and, or)"
_FAST_PATH = ("the typist's fast branches only spare the slow path's work: a cell they do not take goes to parse_value, "
              "which reads it the same (tests/test_typist.py compares both on every spelling)")
KNOWN_EQUIVALENT: dict[tuple[str, int, str], str] = {
    ("engine/aggregate.py", 39, "True → False"): _SLOTS,
    ("engine/aggregate.py", 52, "True → False"): _SLOTS,
    ("engine/aggregate.py", 160, "True → False"): _SLOTS,
    ("engine/store.py", 237, "6 → 7"): "the compression level changes the packed bytes, never the text unpacked, "
                                        "and the hashes are of the text",
    ("engine/store.py", 307, "1 → 2"): "where the tests' fault hook pauses a recording (to kill it midway): "
                                        "the second unit is as much midway as the first",
    ("engine/store.py", 597, "12 → 13"): _MESSAGE_HASH,
    ("engine/store.py", 603, "12 → 13"): _MESSAGE_HASH,
    ("engine/store.py", 606, "12 → 13"): _MESSAGE_HASH,
    ("engine/backend_durable.py", 116, "1 → 2"): _ENGINE_INTS,
    ("engine/backend_durable.py", 116, "0 → 1"): _ENGINE_INTS,
    ("engine/backend_durable.py", 132, "2 → 3"): "a third try after the engine twice cut a fact's actions short",
    ("engine/backend_durable.py", 133, "1 → 2"): _SESSIONS,
    ("engine/backend_durable.py", 133, "+= → -="): _SESSIONS,
    ("engine/backend_durable.py", 135, "drop the call clear()"): _SINK,
    ("engine/backend_durable.py", 142, "drop the call clear()"): _SINK,
    ("engine/backend_durable.py", 267, "0 → 1"): "the code quoted in a fault's message",
    ("engine/backend_durable.py", 268, "drop the call clear()"): _SINK,
    ("engine/backend_durable.py", 271, "drop the call delete_state()"): "a session left after a refused answer, which "
                                                                          "ends the run (exit 3)",
    ("engine/backend_durable.py", 275, "drop the call clear()"): _SINK,
    ("engine/backend_durable.py", 289, "True → False"): _ENGINE_INTS,
    ("engine/backend_durable.py", 289, "False → True"): _ENGINE_INTS,
    ("engine/backend_durable.py", 289, "or → and"): _ENGINE_INTS,
    ("engine/backend_durable.py", 290, "return x → return None"): _ENGINE_INTS,
    ("engine/backend_trace.py", 24, "is → is not"): _SENTINEL,
    ("engine/backend_trace.py", 24, "if c → if not c"): _SENTINEL,
    ("engine/backend_trace.py", 26, "return x → return None"): _SENTINEL,
    ("engine/backend_trace.py", 35, "True → False"): _SLOTS,
    ("engine/backend_trace.py", 50, "and → or"): "present() is the language's only function: a call is present()",
    ("engine/backend_trace.py", 102, "and → or"): "present() is the language's only function, and every other "
                                                 "node is handled above",
    ("engine/compile_durable.py", 241, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 299, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 427, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 484, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 497, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 493, "// → /"): "the engine compares an integer with the quotient as with its floor; "
                                                 "values up to 10^13 are exact in a double",
    ("engine/compile_durable.py", 364, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 381, "1 → 2"): _EXISTS,
    ("engine/compile_durable.py", 252, "== → !="): "the order of a rule's tests: which one the engine tries first",
    ("engine/compile_durable.py", 383, "0 → 1"): "the order of the alternatives of an $or",
    ("engine/compile_durable.py", 287, "return x → return None"): "only splittable conditions are split: never reached",
    ("engine/compile_durable.py", 373, "False → True"): "presence guards inside 'proven, or a field absent': the "
                                                       "absence alternative already covers what they exclude",
    ("engine/compile_durable.py", 380, "return x → return None"): _FOLDED,
    ("engine/compile_durable.py", 385, "return x → return None"): _FOLDED,
    ("engine/compile_durable.py", 405, "'$eq' → '$neq'"): _FIXED_ITEMS,
    ("engine/compile_durable.py", 405, "== → !="): _FIXED_ITEMS,
    ("engine/compile_durable.py", 406, "'$eq' → '$neq'"): _FIXED_ITEMS,
    ("engine/compile_durable.py", 406, "== → !="): _FIXED_ITEMS,
    ("engine/compile_durable.py", 406, "return x → return None"): _FIXED_ITEMS,
    ("engine/compile_durable.py", 435, "1 → 2"): _FLAG_LITERAL,
    ("engine/compile_durable.py", 435, "0 → 1"): _FLAG_LITERAL,
    ("engine/compile_durable.py", 451, "< → <="): "a field whose coefficient is 0 has cancelled out and is not a term",
    ("engine/compile_durable.py", 438, "True → False"): "a default every caller overrides",
    ("engine/compile_durable.py", 448, "and → or"): "unguarded only inside 'proven, or a field absent', where "
                                                   "'all present' or 'any absent' is everything",
    ("engine/compile_durable.py", 412, "or → and"): _ONE_TYPE,
    ("engine/compile_durable.py", 418, "True → False"): "a default every caller overrides",
    ("engine/compile_durable.py", 424, "not x → x"): "{field: v} and {'$eq': {field: v}} are the same test in the engine",
    ("engine/backend_compiled.py", 73, "0 → 1"): _TEMPORARIES,
    ("engine/backend_compiled.py", 81, "1 → 2"): _TEMPORARIES,
    ("engine/backend_compiled.py", 111, "or → and"): _ONE_TYPE,
    ("engine/backend_compiled.py", 119, "== → !="): _NEVER_EMPTY,
    ("engine/backend_compiled.py", 119, "return x → return None"): _NEVER_EMPTY,
    ("engine/backend_compiled.py", 129, "1 → 2"): _NO_FLAG_EQUALITY,
    ("engine/backend_compiled.py", 129, "0 → 1"): _NO_FLAG_EQUALITY,
    ("engine/backend_compiled.py", 157, "1 → 2"): _NO_FLAG_MEMBER,
    ("engine/backend_compiled.py", 157, "0 → 1"): _NO_FLAG_MEMBER,
    ("engine/integers.py", 30, "0 → 1"): "the default scale: only facts and points are numbers, and every other name "
                                         "is a yes/no outcome or the grade, never scaled",
    ("engine/integers.py", 61, "return x → return None"): _FALSY,
    ("engine/integers.py", 67, "return x → return None"): "a fixed value meets a field of its type, which decides "
                                                         "alone (two fixed values are folded); a fixed text before "
                                                         "'in' fails to compile either way",
    ("engine/integers.py", 73, "return x → return None"): _FALSY,
    ("engine/facts.py", 839, "0 → 1"): "a number 0 not taken as a number is taken as the word '0': false either way",
    ("engine/facts.py", 968, "and → or"): "only decimal and percentage facts have a scale (the catalogue refuses "
                                         "places elsewhere): for every other kind it is 0 either way",
    ("engine/facts.py", 1044, "== → !="): _FAST_PATH,
    ("engine/facts.py", 1044, "if c → if not c"): _FAST_PATH,
    ("engine/facts.py", 1045, "or → and"): _FAST_PATH,
    ("engine/quota.py", 19, "True → False"): _SLOTS,
    ("engine/quota.py", 27, "True → False"): _SLOTS,
    ("engine/quota.py", 61, "0 → 1"): "every candidate is graded in a base level, so its cohort always has a count",
    ("engine/quota.py", 79, "1 → 2"): _SIGN,
    ("engine/quota.py", 81, "1 → 2"): _SIGN,
    ("engine/quota.py", 82, "< → <="): "equal values never reach it: they are skipped a line above",
    ("engine/quota.py", 83, "1 → 2"): _SIGN,
    ("engine/quota.py", 84, "> → >="): "two candidates never share a unit id (a repeated id makes the unit invalid)",
    ("engine/quota.py", 84, "< → <="): "two candidates never share a unit id (a repeated id makes the unit invalid)",
}


@dataclass
class Mutant:
    module: str
    index: int  # the n-th mutation site of the module, in the order of the walk
    line: int
    description: str


class _Sites(ast.NodeTransformer):
    """Walks a module; counts mutation sites and applies the one numbered ``target``."""

    def __init__(self, target: Optional[int] = None, functions: Optional[set[str]] = None):
        self.target = target
        self.functions = functions
        self._inside = 0  # > 0 while walking a function that may be mutated
        self.count = 0
        self.found: list[tuple[int, str]] = []
        self._docstrings: set[int] = set()

    def _site(self, node: ast.AST, description: str) -> bool:
        """Registers a site; True when it is the one to mutate."""
        if self.functions is not None and not self._inside:
            return False
        self.found.append((getattr(node, "lineno", 0), description))
        self.count += 1
        return self.count - 1 == self.target

    def visit_Module(self, node):
        self._mark_docstrings(node)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self._mark_docstrings(node)
        if node.name == "__repr__":
            return node
        chosen = self.functions is not None and node.name in self.functions
        self._inside += chosen
        try:
            return self.generic_visit(node)
        finally:
            self._inside -= chosen

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._mark_docstrings(node)
        return self.generic_visit(node)

    def _mark_docstrings(self, node) -> None:
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._docstrings.add(id(body[0].value))

    def visit_Compare(self, node):
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap and self._site(node, f"{_op(op)} → {_op(swap())}"):
                node.ops[i] = swap()
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        if self._site(node, f"{_op(node.op)} → {_op(other)}"):
            node.op = other
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._site(node, "not x → x"):
            return node.operand
        if isinstance(node.op, ast.USub) and self._site(node, "-x → x"):
            return node.operand
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._site(node, f"{_op(node.op)} → {_op(swap())}"):
            node.op = swap()
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._site(node, f"{_op(node.op)}= → {_op(swap())}="):
            node.op = swap()
        return node

    def visit_Constant(self, node):
        if id(node) in self._docstrings:
            return node
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"{value} → {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int):
            if self._site(node, f"{value} → {value + 1}"):
                return ast.copy_location(ast.Constant(value + 1), node)
        elif isinstance(value, str) and value in OPERATOR_SWAPS:
            if self._site(node, f"'{value}' → '{OPERATOR_SWAPS[value]}'"):
                return ast.copy_location(ast.Constant(OPERATOR_SWAPS[value]), node)
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if self._site(node, "if c → if not c"):
            node.test = ast.UnaryOp(ast.Not(), node.test)
        return node

    def visit_Return(self, node):
        self.generic_visit(node)
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            if self._site(node, "return x → return None"):
                node.value = None
        return node

    def visit_Expr(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Call) and self._site(node, f"drop the call {_call_name(node.value)}()"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_Break(self, node):
        if self._site(node, "break → continue"):
            return ast.copy_location(ast.Continue(), node)
        return node

    def visit_Continue(self, node):
        if self._site(node, "continue → break"):
            return ast.copy_location(ast.Break(), node)
        return node


def _op(op: ast.AST) -> str:
    return {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
            ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.And: "and", ast.Or: "or", ast.Add: "+",
            ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}[type(op)]


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "?")


def mutants(module: str) -> list[Mutant]:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    sites = _Sites(functions=FUNCTIONS.get(module))
    sites.visit(tree)
    return [Mutant(module, i, line, description) for i, (line, description) in enumerate(sites.found)]


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / mutant.module).read_text(encoding="utf-8"))
    _Sites(mutant.index, FUNCTIONS.get(mutant.module)).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | broken (the mutant does not even import)
    seconds: float
    killed_by: str = ""


def run_mutant(mutant: Mutant, workdir: Path, timeout: float) -> Outcome:
    target = workdir / mutant.module
    original = target.read_text(encoding="utf-8")
    target.write_text(mutated_source(mutant), encoding="utf-8")
    start = time.monotonic()
    try:
        quick = QUICK.get(mutant.module, [])
        rest = [t for t in MODULES[mutant.module] if t not in quick]
        for tests in (quick, rest):
            if not tests:
                continue
            done = _pytest(tests, workdir, timeout - (time.monotonic() - start))
            if done.returncode != 0:
                status = "broken" if done.returncode in (2, 3, 4) else "killed"
                failed = next((line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))), "")
                return Outcome(mutant, status, time.monotonic() - start, failed[:160])
        return Outcome(mutant, "survived", time.monotonic() - start)
    except subprocess.TimeoutExpired:
        return Outcome(mutant, "timeout", time.monotonic() - start)
    finally:
        target.write_text(original, encoding="utf-8")


def _pytest(tests: list[str], workdir: Path, timeout: float) -> subprocess.CompletedProcess:
    """The tests in one process, stopping at the first failure; plugins these tests do not use are not loaded."""
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-o", "addopts=",
                           "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest", *tests],
                          cwd=workdir, capture_output=True, text=True, timeout=max(timeout, 1),
                          env=dict(os.environ, PYTHONPATH=str(workdir)))


def _copy_checkout(into: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", "*.egg-info",
                                    "build", "out")
    shutil.copytree(ROOT, into / "checkout", ignore=ignore)
    return into / "checkout"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="a module's file stem (quota) or path; repeatable")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=180, help="seconds a mutant's tests may run (a loop: killed)")
    parser.add_argument("--line", type=int, action="append", help="only the mutants on this line; repeatable")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--json", type=Path, help="also write every outcome here")
    args = parser.parse_args(argv)
    chosen = [m for m in MODULES if not args.module or any(m == s or Path(m).stem == s for s in args.module)]
    if not chosen:
        parser.error(f"no such module; choose from {', '.join(Path(m).stem for m in MODULES)}")
    todo = [m for module in chosen for m in mutants(module) if not args.line or m.line in args.line]
    if args.list:
        for m in todo:
            print(f"{m.module}:{m.line}: #{m.index} {m.description}")
        print(f"{len(todo)} mutants")
        return 0
    with tempfile.TemporaryDirectory(prefix="cdcs-mutants-") as tmp:
        workdirs = [_copy_checkout(Path(tmp) / f"w{i}") for i in range(args.jobs)]
        for tests in {tuple(MODULES[m]) for m in chosen}:  # the unmutated code must pass, or nothing is learnt
            done = _pytest(list(tests), workdirs[0], timeout=3600)
            if done.returncode != 0:
                print(f"the tests fail on the unmutated code: {' '.join(tests)}\n{done.stdout[-2000:]}", file=sys.stderr)
                return 2
        free = list(workdirs)
        outcomes: list[Outcome] = []

        def work(mutant: Mutant) -> Outcome:
            workdir = free.pop()
            try:
                return run_mutant(mutant, workdir, args.timeout)
            finally:
                free.append(workdir)

        with ThreadPoolExecutor(args.jobs) as pool:
            for n, outcome in enumerate(pool.map(work, todo), start=1):
                outcomes.append(outcome)
                m = outcome.mutant
                print(f"[{n}/{len(todo)}] {outcome.status:8} {m.module}:{m.line} {m.description} "
                      f"({outcome.seconds:.0f} s)", file=sys.stderr, flush=True)
    print(report(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def report(outcomes: list[Outcome]) -> str:
    lines = ["| module | mutants | killed | survived (equivalent) | timeout | broken |", "|---|---:|---:|---:|---:|---:|"]
    for module in dict.fromkeys(o.mutant.module for o in outcomes):
        mine = [o for o in outcomes if o.mutant.module == module]
        count = {s: sum(1 for o in mine if o.status == s) for s in ("killed", "survived", "timeout", "broken")}
        equivalent = sum(1 for o in mine if o.status == "survived" and _known(o.mutant))
        lines.append(f"| `{module}` | {len(mine)} | {count['killed']} | {count['survived']} ({equivalent}) | "
                     f"{count['timeout']} | {count['broken']} |")
    survivors = [o for o in outcomes if o.status == "survived"]
    if survivors:
        lines += ["", "Surviving mutants:", ""]
        for o in survivors:
            why = _known(o.mutant)
            lines.append(f"- `{o.mutant.module}:{o.mutant.line}` {o.mutant.description}"
                         + (f" — equivalent: {why}" if why else " — NOT REVIEWED"))
    return "\n".join(lines)


def _known(m: Mutant) -> str:
    return KNOWN_EQUIVALENT.get((m.module, m.line, m.description), "")


if __name__ == "__main__":
    sys.exit(main())
