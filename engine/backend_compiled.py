"""The compiled evaluator: each condition compiled once into Python closures over integers.

This is the back end that decides every unit of a batch, with the rule engine checking
each of its answers (:mod:`engine.backend_durable`).  It reads the integer forms of
:mod:`engine.integers` (a unit's *engine values*: scaled numbers, day numbers, 1/0),
never parses or evaluates rule text at run time, and builds no object per node: a
comparison of numbers is one linear form in integers.  Logic is three-valued (Kleene),
exactly as in the tracing evaluator; ``None`` is "undecided".
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from engine.compile import Plan
from engine.expr import ast
from engine.integers import difference, in_integers, is_condition, is_symbolic, to_engine

Outcome = Optional[bool]
Test = Callable[[Mapping[str, Any]], Outcome]


class CompiledBackend:
    """Decides a plan's decisions (and any sub-condition) with compiled closures."""

    name = "compiled"
    integers = True  # reads engine values

    def __init__(self, plan: Plan):
        self.plan = plan
        self.stages: dict[int, tuple[tuple[str, Test], ...]] = {
            stage: tuple((d.key, compile_condition(plan, d.expr)) for d in plan.stage(stage)) for stage in (1, 2, 3)}

    def decide(self, stage: int, env: Mapping[str, Any]) -> dict[str, Outcome]:
        """Outcome of every decision of the stage, from engine values (see :mod:`engine.integers`)."""
        return {key: test(env) for key, test in self.stages[stage]}

    def decide_native(self, stage: int, env: Mapping[str, Any]) -> dict[str, Outcome]:
        """The same from native values (exact numbers, dates), for callers that hold those."""
        return self.decide(stage, {k: to_engine(self.plan, k, v) for k, v in env.items()})


def compile_condition(plan: Plan, node: ast.Node) -> Test:
    """A type-checked, folded condition → a function of engine values giving True, False or None."""
    if isinstance(node, ast.Literal):
        constant = bool(node.value)
        return lambda env: constant
    if isinstance(node, ast.Name):  # a bool fact or outcome, held as 1/0 (or True/False)
        name = node.name

        def flag(env):
            value = env.get(name)
            return None if value is None else value == 1
        return flag
    if isinstance(node, ast.Call) and node.func == "present":
        name = node.args[0].name
        return lambda env: name in env
    if isinstance(node, ast.Not):
        inner = compile_condition(plan, node.operand)

        def negation(env):
            value = inner(env)
            return None if value is None else not value
        return negation
    if isinstance(node, ast.BoolOp):
        return _logic(node.op, tuple(compile_condition(plan, o) for o in node.operands))
    if isinstance(node, ast.Member):
        return _member(plan, node)
    if isinstance(node, ast.Compare):
        if is_condition(plan, node.left):
            return _same(node.op, compile_condition(plan, node.left), compile_condition(plan, node.right))
        if is_symbolic(plan, node.left) or is_symbolic(plan, node.right):
            return _equality(plan, node.left, node.op, node.right)
        return _linear(plan, node.left, node.op, node.right)
    raise TypeError(f"cannot compile {type(node).__name__}: the plan was not type-checked")


def _logic(op: str, parts: tuple[Test, ...]) -> Test:
    decisive = op == "or"  # the value that settles the whole, whatever the others are

    def combine(env):
        unknown = False
        for part in parts:
            value = part(env)
            if value is decisive:
                return decisive
            if value is None:
                unknown = True
        return None if unknown else not decisive
    return combine


def _same(op: str, left: Test, right: Test) -> Test:
    """``a == b`` (or ``!=``) between two conditions."""
    equal = op == "=="

    def same(env):
        a, b = left(env), right(env)
        if a is None or b is None:
            return None
        return (a == b) == equal
    return same


def _symbol(plan: Plan, node: ast.Node) -> tuple[Optional[str], Any]:
    """(name, None) for a fact or outcome; (None, engine value) for a literal."""
    if isinstance(node, ast.Name):
        return node.name, None
    value = node.value
    return None, ((1 if value else 0) if isinstance(value, bool) else value)


def _equality(plan: Plan, left: ast.Node, op: str, right: ast.Node) -> Test:
    (name_a, value_a), (name_b, value_b) = _symbol(plan, left), _symbol(plan, right)
    equal = op == "=="
    if name_a is None:
        name_a, value_a, name_b, value_b = name_b, value_b, name_a, value_a
    if name_b is None:
        constant = value_b

        def against_constant(env):
            value = env.get(name_a)
            return None if value is None else (value == constant) == equal
        return against_constant

    def against_name(env):
        a, b = env.get(name_a), env.get(name_b)
        if a is None or b is None:
            return None
        return (a == b) == equal
    return against_name


_HOLDS = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__, "==": int.__eq__, "!=": int.__ne__}


def _linear(plan: Plan, left: ast.Node, op: str, right: ast.Node) -> Test:
    """``left op right`` over numbers or dates as ``Σ n·field + n0 op 0`` in integers.

    Every field the comparison reads must be reported, even one that cancels out
    (``a + b - b``): the tracing evaluator calls such a comparison undecided too.
    """
    terms, const = difference(plan, left, right)
    coefficients, constant, _ = in_integers(terms, const)
    holds = _HOLDS[op]
    reads = tuple(sorted(ast.names(left) | ast.names(right)))
    others = tuple(n for n in reads if n not in coefficients)
    if not coefficients:
        result = holds(constant, 0)

        def constant_form(env):
            for name in reads:
                if name not in env:
                    return None
            return result
        return constant_form
    if len(coefficients) == 1 and not others:
        (name, k), = coefficients.items()

        def one_field(env):
            value = env.get(name)
            return None if value is None else holds(k * value + constant, 0)
        return one_field
    if len(coefficients) == 2 and not others:
        (name_a, k_a), (name_b, k_b) = coefficients.items()

        def two_fields(env):
            a, b = env.get(name_a), env.get(name_b)
            if a is None or b is None:
                return None
            return holds(k_a * a + k_b * b + constant, 0)
        return two_fields
    pairs = tuple(coefficients.items())

    def many_fields(env):
        for name in others:
            if name not in env:
                return None
        total = constant
        for name, k in pairs:
            value = env.get(name)
            if value is None:
                return None
            total += k * value
        return holds(total, 0)
    return many_fields


def _member(plan: Plan, node: ast.Member) -> Test:
    """``x in [a, b]`` is ``x == a or x == b`` (``not in``: ``x != a and x != b``), each exact."""
    if is_symbolic(plan, node.needle) and isinstance(node.needle, ast.Name) and \
            all(isinstance(i, ast.Literal) for i in node.items.items):
        name, negated = node.needle.name, node.negated
        allowed = frozenset(_symbol(plan, i)[1] for i in node.items.items)

        def among(env):
            value = env.get(name)
            return None if value is None else (value in allowed) != negated
        return among
    op = "!=" if node.negated else "=="
    compare = _equality if is_symbolic(plan, node.needle) else _linear
    parts = tuple(compare(plan, node.needle, op, item) for item in node.items.items)
    return _logic("and" if node.negated else "or", parts)
