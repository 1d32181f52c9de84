"""Decisions → durable_rules rulesets (its JSON format, registered at run time).

Each decision (or, when it is too large for one engine rule, each of its and/or/not
parts) becomes up to two rules on the unit's fact, from its negation normal form:
with negations pushed down to the comparisons, a condition is true in three-valued
logic exactly when it matches with every absent field failing its comparison, and
false exactly when its negation does.

* one rule proves the *unusual* outcome (a requirement failing, a veto holding);
* one proves the usual outcome, guarded by "some field it reads is absent".
When every field is present and neither fired, the outcome is the usual one.  Python
actions are the engine's cost, so a typical unit fires few of them.

Comparisons are linear.  One field against constants becomes ``field op bound``
with the bound rounded exactly; several fields become ``zero__ op Σ n·field + n0``
in integers (the engine compares a field against arithmetic on the same message,
and its division truncates, so nothing is ever divided).  Every number reaches the
engine as an integer (VND, a date's day number, a decimal scaled by 10^places):
durable-rules misreads some floats, and exact integers leave no rounding to argue.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

from engine.compiling.compile import Decision, Plan
from engine.compiling.integers import difference, field_name, is_condition, is_symbolic, scale_of
from engine.expr import ast
from engine.model import MAX_MAGNITUDE

CHUNK = 60  # decisions per ruleset; durable-rules fails when more than 64 rules fire on one fact
# Distinct comparisons per ruleset: every rule of a ruleset hangs under one shared node (its fact's kind), and
# durable-rules' ruleset creation hangs, in C and for ever, past about 1,020 of them as counted by rules_weight
# (measured: 1,017 registers in a second, 1,055 had not in two minutes).
NODE_BUDGET = 800
ALWAYS, NEVER = "always", "never"
ZERO = "zero__"  # a field holding 0 in every fact: the engine compares a field against an expression


@dataclass(frozen=True)
class Leaf:
    """A condition the engine decides with its own rules (a whole decision, or a part of one)."""

    index: int  # position in its ruleset's action sink
    key: str  # the decision's key, or a part's (``level.good.x#1``)
    expr: ast.Node
    reads: frozenset[str]
    usual: bool = True  # the outcome most units get: only the other one fires an action


@dataclass(frozen=True)
class Shape:
    """How a decision's outcome is assembled: one leaf, or and/or/not of shapes (Kleene)."""

    op: str  # leaf | and | or | not
    leaf: int = -1
    parts: tuple["Shape", ...] = ()


@dataclass(frozen=True)
class StageRuleset:
    name: str
    definition: dict
    decisions: tuple[Decision, ...]
    shapes: tuple[Shape, ...]  # one per decision
    leaves: tuple[Leaf, ...]


class CompileLimit(Exception):
    """A condition the rule engine cannot evaluate exactly; ``key`` names its decision."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        self.message = message


def ruleset_name(plan: Plan, stage: int, chunk: int, split: frozenset[str]) -> str:
    rs = plan.ruleset
    suffix = f"_x{zlib.crc32(','.join(sorted(split)).encode()):08x}" if split else ""
    return f"{rs.id}_{rs.version}_{plan.loaded.sha256[:12]}_s{stage}_c{chunk}{suffix}"


def compile_stage(plan: Plan, stage: int, split: frozenset[str] = frozenset()) -> list[StageRuleset]:
    """The rulesets of one stage.

    A decision whose key (or part key, ``key#0#1``) is in ``split`` is too large for
    one engine rule (durable-rules limits the expressions of a rule): its and/or/not
    operands become leaves of their own, and the back end combines their outcomes.
    Each rule's ``run`` is left as ``(leaf index, held)`` for the back end to bind.
    """
    decisions = plan.stage(stage)
    tag = f"s{stage}"
    out = []
    chunk: list[Decision] = []
    shapes: list[Shape] = []
    leaves: list[Leaf] = []
    weight = 0

    def flush() -> None:
        nonlocal weight
        if chunk:
            rules = _rules(plan, tag, leaves)
            out.append(StageRuleset(ruleset_name(plan, stage, len(out), split), rules, tuple(chunk), tuple(shapes), tuple(leaves)))
            chunk.clear(), shapes.clear(), leaves.clear()
            weight = 0

    for decision in decisions:
        parts: list[Leaf] = []
        shape = _shape(decision.key, decision.expr, split, parts)
        more = 0
        for leaf in parts:  # refuse now, with the decision's name, what the engine cannot do exactly
            try:
                more += rules_weight(leaf_rules(plan, tag, leaf))
            except OverflowError as exc:
                raise CompileLimit(decision.key, str(exc)) from None
        if len(leaves) + len(parts) > CHUNK or weight + more > NODE_BUDGET:
            flush()
        weight += more
        base = len(leaves)
        leaves.extend(Leaf(base + i, leaf.key, leaf.expr, leaf.reads, leaf.usual) for i, leaf in enumerate(parts))
        shapes.append(_offset(shape, base))
        chunk.append(decision)
    flush()
    return out


# --- checking the evaluator's answers -----------------------------------------------------
#
# In a batch the compiled evaluator decides and the engine checks every answer.  A
# leaf's *usual* answer (a requirement met, a veto not held) is given by leaving the
# fact field ``p<i>`` out; any other answer is written in it (1 true, 0 false, 2
# undecided).  The engine holds one rule per possible answer that matches only when
# the answer is wrong:
#
# * the usual answer, not proven: the relaxed opposite matches (a comparison failing,
#   or a field it reads absent), and ``p<i>`` is absent;
# * the other answer, not proven: the relaxed form of that answer's opposite matches;
# * undecided, but proven either way: the strict condition or its negation matches.
#
# When the engine agrees, no rule matches and no Python action runs: the cost of the
# engine is one call per fact, and only the leaves with an unusual answer make it walk
# further than the fact's first node.  Durable-rules walks the nodes a fact matches on a
# stack of 64 (error 303 beyond), and a leaf pushes at most its answer's node and one
# node per field it reads that is absent: a fact carries VERIFY_LEAVES leaves, and a
# unit that overflows that (many unusual answers, many facts missing) is checked again
# in facts of FINE_LEAVES.

VERIFY_LEAVES = 35
FINE_LEAVES = 10
TRUE, FALSE, UNDECIDED = 1, 0, 2


@dataclass(frozen=True)
class VerifyRuleset:
    name: str
    kind: str
    definition: dict  # each rule's ``run`` is its leaf's global index
    leaves: tuple[Leaf, ...]  # ``Leaf.index`` is global: the fact field p<index>
    fields: tuple[str, ...]  # the names (facts and outcomes) the fact carries


@dataclass(frozen=True)
class VerifyPlan:
    rulesets: tuple[VerifyRuleset, ...]
    leaves: tuple[Leaf, ...]  # every leaf, by global index
    shapes: dict[str, Shape]  # decision key → how its leaves combine (over global indices)


@dataclass(frozen=True)
class VerifyLeaves:
    """Every leaf of a plan's decisions for one set of split decisions, with its rules (under the placeholder
    kind "k") and their weights: the same for every fact size."""

    leaves: tuple[Leaf, ...]  # by global index
    rules: tuple[dict, ...]
    weights: tuple[int, ...]
    shapes: dict[str, Shape]


def verify_leaves(plan: Plan, split: frozenset[str] = frozenset()) -> VerifyLeaves:
    """Each leaf's rules are made once here (the costly part: its negation normal forms), for every size."""
    leaves: list[Leaf] = []
    made: list[dict[str, dict]] = []
    shapes: dict[str, Shape] = {}
    for decision in plan.decisions:
        parts: list[Leaf] = []
        shape = _shape(decision.key, decision.expr, split, parts)
        base = len(leaves)
        mine = [Leaf(base + i, leaf.key, leaf.expr, leaf.reads, leaf.usual) for i, leaf in enumerate(parts)]
        for leaf in mine:  # refuse now, with the decision's name, what the engine cannot do exactly
            try:
                made.append(verify_rules(plan, "k", leaf))
            except OverflowError as exc:
                raise CompileLimit(decision.key, str(exc)) from None
        leaves.extend(mine)
        shapes[decision.key] = _offset(shape, base)
    return VerifyLeaves(tuple(leaves), tuple(made), tuple(rules_weight(rules) for rules in made), shapes)


def compile_verify(plan: Plan, split: frozenset[str] = frozenset(), size: int = VERIFY_LEAVES,
                   made: VerifyLeaves | None = None) -> VerifyPlan:
    """Every decision of every stage as leaves checked by the engine, in facts of ``size`` leaves.

    ``made``: :func:`verify_leaves` of the same plan and split, when another size has them already."""
    made = made or verify_leaves(plan, split)
    rulesets = []
    suffix = f"_x{zlib.crc32(','.join(sorted(split)).encode()):08x}" if split else ""
    rs, digest = plan.ruleset, plan.loaded.sha256[:12]  # the hash is of the whole rule set: taken once
    for chunk, mine in enumerate(_by_weight(list(made.leaves), list(made.weights), size)):
        kind = f"v{chunk}"
        rules: dict[str, dict] = {}
        for leaf in mine:
            rules.update(_of_kind(made.rules[leaf.index], kind))
        fields = tuple(sorted(set().union(*(leaf.reads for leaf in mine))))
        name = f"{rs.id}_{rs.version}_{digest}_v{size}_{chunk}{suffix}"
        rulesets.append(VerifyRuleset(name, kind, rules, mine, fields))
    return VerifyPlan(tuple(rulesets), made.leaves, made.shapes)


def _of_kind(rules: dict[str, dict], kind: str) -> dict[str, dict]:
    """``verify_rules``' rules with the fact kind they test set to ``kind`` (it is always a rule's first test):
    the same rules as ``verify_rules(plan, kind, leaf)``, without making the leaf's forms again."""
    out = {}
    for name, body in rules.items():
        tests = body["all"][0]["m"]["$and"]
        if tests[0] != {"kind": "k"}:  # a rule without its kind first would lose a test here, silently
            raise AssertionError(f"rule {name}: its first test is {tests[0]!r}, not the fact's kind")
        out[name] = {"all": [{"m": {"$and": [{"kind": kind}, *tests[1:]]}}], "run": body["run"]}
    return out


def _by_weight(leaves: list[Leaf], weights: list[int], size: int) -> list[tuple[Leaf, ...]]:
    """Consecutive leaves in groups of at most ``size``, each group's rules within :data:`NODE_BUDGET`
    (``weights``: each leaf's :func:`rules_weight`, by its index)."""
    groups: list[tuple[Leaf, ...]] = []
    group: list[Leaf] = []
    weight = 0
    for leaf in leaves:
        more = weights[leaf.index]
        if group and (len(group) == size or weight + more > NODE_BUDGET):
            groups.append(tuple(group))
            group, weight = [], 0
        group.append(leaf)
        weight += more
    if group:
        groups.append(tuple(group))
    return groups


def rules_weight(rules: dict[str, dict]) -> int:
    """How many distinct comparisons the rules hang under their ruleset's shared node."""
    seen: set[str] = set()
    stack: list[Any] = [body["all"] for body in rules.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "$and" in node or "$or" in node or "m" in node:
                stack.extend(node.values())
            elif "kind" not in node:
                seen.add(json.dumps(node, sort_keys=True))
    return len(seen)


def verify_rules(plan: Plan, kind: str, leaf: Leaf) -> dict[str, dict]:
    """The rules that match when the answer given for ``leaf`` is wrong; ``run`` is the leaf's index."""
    answer = f"p{leaf.index}"
    usual, other = leaf.usual, not leaf.usual
    forms = {  # rule name: (test of the answer, the form that proves the answer wrong)
        "usual": ({"$nex": {answer: 1}}, nnf(plan, leaf.expr, negate=usual, relax=True)),
        "other": ({answer: TRUE if other else FALSE}, nnf(plan, leaf.expr, negate=other, relax=True)),
        "undecided_holds": ({answer: UNDECIDED}, nnf(plan, leaf.expr, negate=False)),
        "undecided_fails": ({answer: UNDECIDED}, nnf(plan, leaf.expr, negate=True)),
    }
    rules = {}
    for tag, (test, form) in forms.items():
        if form is NEVER:
            continue
        body = [] if form is ALWAYS else [form]
        # the answer is tested first where it is written (few facts get past it), last where it is absent
        parts = [{"kind": kind}, *body, test] if tag == "usual" else [{"kind": kind}, test, *body]
        rules[f"d{leaf.index}_{tag}"] = {"all": [{"m": {"$and": parts}}], "run": leaf.index}
    return rules


def _shape(key: str, expr: ast.Node, split: frozenset[str], leaves: list[Leaf]) -> Shape:
    if key in split and splittable(expr):
        op = expr.op if isinstance(expr, ast.BoolOp) else "not"
        return Shape(op, parts=tuple(_shape(k, part, split, leaves) for k, part in part_keys(key, expr)))
    leaves.append(Leaf(len(leaves), key, expr, frozenset(ast.names(expr)), usual_outcome(key)))
    return Shape("leaf", leaf=len(leaves) - 1)


def usual_outcome(key: str) -> bool:
    """Most units meet the requirements and trip no veto; Python actions are the engine's
    cost, so the rule that fires unguarded is the one for the unusual outcome."""
    return not key.startswith("veto.")


def splittable(expr: ast.Node) -> bool:
    return isinstance(expr, (ast.BoolOp, ast.Not))


def _offset(shape: Shape, base: int) -> Shape:
    if shape.op == "leaf":
        return Shape("leaf", leaf=shape.leaf + base)
    return Shape(shape.op, parts=tuple(_offset(p, base) for p in shape.parts))


def part_keys(key: str, expr: ast.Node) -> list[tuple[str, ast.Node]]:
    """The keys a decision's parts take when it is split one level deeper."""
    if isinstance(expr, ast.BoolOp):
        return [(f"{key}#{i}", part) for i, part in enumerate(expr.operands)]
    if isinstance(expr, ast.Not):
        return [(f"{key}#0", expr.operand)]
    return []


def leaf_rules(plan: Plan, tag: str, leaf: Leaf) -> dict[str, dict]:
    """The rules of one leaf: one proving its unusual outcome, and one proving its usual
    outcome guarded by "some field it reads is absent".  When every field is present
    and neither fired, the outcome is the usual one; otherwise it is undecided."""
    rules: dict[str, dict] = {}
    unusual = nnf(plan, leaf.expr, negate=leaf.usual)
    if unusual is not NEVER:
        rules[f"d{leaf.index}_{'fails' if leaf.usual else 'holds'}"] = _rule(tag, unusual, (leaf.index, not leaf.usual))
    usual = nnf(plan, leaf.expr, negate=not leaf.usual)
    guard = [{"$nex": {field_name(n): 1}} for n in sorted(leaf.reads)]
    if usual is not NEVER and guard:
        cond = {"$or": guard} if usual is ALWAYS else {"$and": [usual, {"$or": guard}]}
        rules[f"d{leaf.index}_{'holds' if leaf.usual else 'fails'}"] = _rule(tag, cond, (leaf.index, leaf.usual))
    return rules


def _rules(plan: Plan, tag: str, leaves: list[Leaf]) -> dict[str, dict]:
    rules: dict[str, dict] = {}
    for leaf in leaves:
        rules.update(leaf_rules(plan, tag, leaf))
    # Every fact must match some rule: an unmatched fact leaves a session behind that
    # cannot be deleted (delete_state then crashes the process) and counts against the
    # 1,024-session limit.
    rules["handled"] = _rule(tag, ALWAYS, (-1, True))
    return rules


def combine(shape: Shape, leaf_outcomes: list) -> Any:
    """A decision's outcome from its leaves' outcomes, in three-valued logic."""
    if shape.op == "leaf":
        return leaf_outcomes[shape.leaf]
    values = [combine(p, leaf_outcomes) for p in shape.parts]
    if shape.op == "not":
        return None if values[0] is None else not values[0]
    decisive = shape.op == "or"
    if decisive in values:
        return decisive
    return None if None in values else not decisive


def _rule(tag: str, cond: Any, run: tuple[int, bool]) -> dict:
    parts = [{"kind": tag}] if cond is ALWAYS else [{"kind": tag}, cond]
    return {"all": [{"m": {"$and": parts}}], "run": run}


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "==": "$eq", "!=": "$neq"}


def nnf(plan: Plan, node: ast.Node, negate: bool, relax: bool = False) -> Any:
    """The condition (or its negation) in negation normal form, as engine JSON.

    Strict (the default): it matches exactly when the condition is *proven* (true, or
    false when negated) with every absent field failing its comparison.  ``relax``
    lets each comparison also match when a field it reads is absent: the relaxed
    negation of a condition then matches exactly when the condition is *not proven*
    (De Morgan over the strict form), which is what a disagreement looks like.
    """
    if isinstance(node, ast.Literal):
        return ALWAYS if bool(node.value) != negate else NEVER
    if isinstance(node, ast.Not):
        return nnf(plan, node.operand, not negate, relax)
    if isinstance(node, ast.BoolOp):
        conj = (node.op == "and") != negate
        parts = [nnf(plan, o, negate, relax) for o in node.operands]
        absorbing, neutral = (NEVER, ALWAYS) if conj else (ALWAYS, NEVER)
        if absorbing in parts:
            return absorbing
        parts = [p for p in parts if p is not neutral]
        if not parts:
            return neutral
        return parts[0] if len(parts) == 1 else {"$and" if conj else "$or": parts}
    if isinstance(node, ast.Call) and node.func == "present":  # never undecided: nothing to relax
        return {"$nex" if negate else "$ex": {field_name(node.args[0].name): 1}}
    if isinstance(node, ast.Compare) and is_condition(plan, node.left):
        # a == b between two conditions: (a and b) or (not a and not b); != is the negation
        both = ast.BoolOp(node.text, node.column, "and", (node.left, node.right))
        neither = ast.BoolOp(node.text, node.column, "and", (ast.Not(node.text, node.column, node.left),
                                                              ast.Not(node.text, node.column, node.right)))
        same = ast.BoolOp(node.text, node.column, "or", (both, neither))
        return nnf(plan, same, negate != (node.op == "!="), relax)
    if relax:  # the guards that keep an absent field from passing are not needed: absence matches anyway
        return _or_absent(_atom(plan, node, negate, guarded=False), sorted(ast.names(node)))
    return _atom(plan, node, negate)


def _or_absent(atom: Any, names: list[str]) -> Any:
    """``atom``, or any of ``names`` absent."""
    if atom is ALWAYS:
        return ALWAYS
    absent = [{"$nex": {field_name(n): 1}} for n in names]
    if atom is not NEVER:
        absent.insert(0, atom)
    if not absent:
        return NEVER
    return absent[0] if len(absent) == 1 else {"$or": absent}


def _atom(plan: Plan, node: ast.Node, negate: bool, guarded: bool = True) -> Any:
    """A comparison, membership or bool fact (or its negation), matching only when proven.

    ``guarded=False`` leaves out the tests that every field read is present (an engine
    comparison passes when a field on its right-hand side is absent): for use only
    where absence matches on its own."""
    if isinstance(node, ast.Name):  # a bool fact or outcome: engine holds 1 / 0
        return {field_name(node.name): 0 if negate else 1}
    if isinstance(node, ast.Member):
        eq = "$neq" if (negate != node.negated) else "$eq"
        if is_symbolic(plan, node.needle):
            parts = [_equality(plan, node.needle, item, eq, guarded) for item in node.items.items]
        else:  # numbers and dates: scaled like any comparison
            parts = [_linear_compare(plan, node.needle, "==" if eq == "$eq" else "!=", item, guarded)
                     for item in node.items.items]
        parts = [p for p in parts if p is not (NEVER if eq == "$eq" else ALWAYS)]
        if any(p is (ALWAYS if eq == "$eq" else NEVER) for p in parts):
            return ALWAYS if eq == "$eq" else NEVER
        if not parts:
            return NEVER if eq == "$eq" else ALWAYS
        return parts[0] if len(parts) == 1 else {("$or" if eq == "$eq" else "$and"): parts}
    if isinstance(node, ast.Compare):
        op = _NEGATE[node.op] if negate else node.op
        if is_symbolic(plan, node.left) or is_symbolic(plan, node.right):
            return _equality(plan, node.left, node.right, _OPS[op], guarded)
        return _linear_compare(plan, node.left, op, node.right, guarded)
    raise TypeError(f"cannot compile {type(node).__name__} for the rule engine")


def _equality(plan: Plan, left: ast.Node, right: ast.Node, op: str, guarded: bool = True) -> dict:
    if isinstance(left, ast.Literal):
        left, right = right, left
    if not isinstance(left, ast.Name):
        raise TypeError("an equality needs a fact on one side")
    value = _symbol_value(plan, right)
    if op == "$eq" and not isinstance(value, dict):
        return {field_name(left.name): value}
    if isinstance(value, dict) and guarded:  # an absent field on the right would make the comparison pass
        return {"$and": [{"$ex": {value["$m"]: 1}}, {op: {field_name(left.name): value}}]}
    return {op: {field_name(left.name): value}}


def _symbol_value(plan: Plan, node: ast.Node) -> Any:
    if isinstance(node, ast.Name):
        return {"$m": field_name(node.name)}
    value = node.value
    return (1 if value else 0) if isinstance(value, bool) else value


def _linear_compare(plan: Plan, left: ast.Node, op: str, right: ast.Node, guarded: bool = True) -> Any:
    terms, const = difference(plan, left, right)
    # Every field read must be present, even one that cancels out (a + b - b): the
    # evaluator calls the comparison undecided without it.  A field on the left of the
    # engine's comparison fails when absent by itself; any other needs an explicit guard.
    read = sorted(ast.names(left) | ast.names(right))
    _check_magnitude(plan, terms, const, f"{left.text} {op} {right.text}")
    if not terms:  # the fields cancelled out: a constant comparison, if they are present
        if not _holds(op, const, Fraction(0)):
            return NEVER
        return _all_present(read) if read and guarded else ALWAYS
    if len(terms) == 1:  # field op threshold, rounded exactly to an integer bound
        (name, k), = terms.items()
        cmp = _threshold(field_name(name), _FLIP[op] if k < 0 else op, -const / k)
        others = [n for n in read if n != name]
        if cmp is NEVER or not others or not guarded:
            return cmp
        return {"$and": [_all_present(others), cmp]}
    # Several fields: ZERO op' (Σ n × field + n0), in integers; the engine's division
    # truncates, so the common denominator multiplies instead of dividing.  A field on
    # the right-hand side that is absent makes the engine's comparison pass: guard them all.
    denominator = lcm(const.denominator, *(c.denominator for c in terms.values()))
    expr: Any = None
    for name, c in terms.items():
        n = int(c * denominator)
        term: Any = {"$m": field_name(name)} if n == 1 else {"$mul": {"$l": {"$m": field_name(name)}, "$r": n}}
        expr = term if expr is None else {"$add": {"$l": expr, "$r": term}}
    n0 = int(const * denominator)
    if n0:
        expr = {"$add": {"$l": expr, "$r": n0}}
    cmp = {_OPS[_FLIP[op]]: {ZERO: expr}}
    return {"$and": [_all_present(read), cmp]} if guarded else cmp


def _check_magnitude(plan: Plan, terms: dict[str, Fraction], const: Fraction, text: str) -> None:
    """The engine computes in signed 64-bit integers: the worst case must fit."""
    denominator = lcm(const.denominator, *(c.denominator for c in terms.values()))
    worst = abs(const * denominator)
    for name, c in terms.items():
        worst += abs(c * denominator) * MAX_MAGNITUDE * 10 ** scale_of(plan, name)
    if worst >= 2 ** 62:
        raise OverflowError(f"'{text}': its constants are too precise for exact 64-bit arithmetic "
                            f"on values up to {MAX_MAGNITUDE:,}; round them to fewer decimal places")


def _all_present(names: list[str]) -> Any:
    guards = [{"$ex": {field_name(n): 1}} for n in names]
    return guards[0] if len(guards) == 1 else {"$and": guards}


def _threshold(field: str, op: str, value: Fraction) -> Any:
    """An integer field against a rational constant, rounded exactly to an integer bound."""
    if value.denominator == 1:
        bound = int(value)
        return {field: bound} if op == "==" else {_OPS[op]: {field: bound}}
    floor = value.numerator // value.denominator
    if op == "==":
        return NEVER
    if op == "!=":
        return {"$ex": {field: 1}}
    if op in (">=", ">"):
        return {"$gt": {field: floor}}
    return {"$lte": {field: floor}}


def _holds(op: str, a: Fraction, b: Fraction) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
