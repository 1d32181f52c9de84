"""The tracing back end: evaluates a condition top-down and records every value.

This is where explanations come from.  Logic is three-valued (Kleene): a condition
that reads an unreported fact is *unknown*, never silently false, unless the other
operands settle it (``false and unknown`` is false).  Arithmetic is exact (int and
Fraction); floats never appear.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, Mapping

from engine.expr import ast


class _Unknown:
    """The value of an expression that reads a fact the unit did not report."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN = _Unknown()


@dataclass(frozen=True, slots=True)
class Trace:
    """One evaluated node: its text, its value and the traces of its parts."""

    kind: Literal["name", "literal", "compare", "and", "or", "not", "arith", "neg", "in", "call"]
    text: str
    value: Any
    children: tuple["Trace", ...] = ()
    op: str = ""

    def missing(self) -> list[str]:
        """Facts whose absence made (part of) this trace unknown, in reading order."""
        found: list[str] = []
        if self.kind == "name" and self.value is UNKNOWN:
            found.append(self.text)
        if self.kind == "call" and self.op == "present":
            return found
        for child in self.children:
            for name in child.missing():
                if name not in found:
                    found.append(name)
        return found


def outcome(trace: Trace) -> bool | None:
    return None if trace.value is UNKNOWN else bool(trace.value)


def evaluate(node: ast.Node, env: Mapping[str, Any]) -> Trace:
    """Evaluate a type-checked, folded condition against one unit's values."""
    if isinstance(node, ast.Literal):
        return Trace("literal", node.text, node.value)
    if isinstance(node, ast.Name):
        return Trace("name", node.text, env.get(node.name, UNKNOWN))
    if isinstance(node, ast.Neg):
        inner = evaluate(node.operand, env)
        return Trace("neg", node.text, UNKNOWN if inner.value is UNKNOWN else -inner.value, (inner,))
    if isinstance(node, ast.Arith):
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        value = UNKNOWN if UNKNOWN in (left.value, right.value) else _arith(node.op, left.value, right.value)
        return Trace("arith", node.text, value, (left, right), node.op)
    if isinstance(node, ast.Compare):
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        value = UNKNOWN if UNKNOWN in (left.value, right.value) else _compare(node.op, left.value, right.value)
        return Trace("compare", node.text, value, (left, right), node.op)
    if isinstance(node, ast.Member):
        needle = evaluate(node.needle, env)
        items = tuple(evaluate(i, env) for i in node.items.items)
        if needle.value is UNKNOWN:
            value: Any = UNKNOWN
        else:
            value = any(needle.value == i.value for i in items) != node.negated
        return Trace("in", node.text, value, (needle,) + items, "not in" if node.negated else "in")
    if isinstance(node, ast.Not):
        inner = evaluate(node.operand, env)
        return Trace("not", node.text, UNKNOWN if inner.value is UNKNOWN else not inner.value, (inner,), "not")
    if isinstance(node, ast.BoolOp):
        parts = tuple(evaluate(o, env) for o in node.operands)
        values = [p.value for p in parts]
        decisive, other = (False, True) if node.op == "and" else (True, False)
        if decisive in values:
            value = decisive
        elif UNKNOWN in values:
            value = UNKNOWN
        else:
            value = other
        return Trace(node.op, node.text, value, parts, node.op)
    if isinstance(node, ast.Call) and node.func == "present":
        name = node.args[0]
        arg = evaluate(name, env)
        return Trace("call", node.text, arg.value is not UNKNOWN, (arg,), "present")
    raise TypeError(f"cannot evaluate {type(node).__name__}: the plan was not type-checked")


def _arith(op: str, a, b):
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    else:
        r = Fraction(a) / b
    if isinstance(r, Fraction) and r.denominator == 1:
        return int(r)
    return r


def _compare(op: str, a, b) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if isinstance(a, datetime.date) != isinstance(b, datetime.date):
        raise TypeError("date compared with a number: the plan was not type-checked")
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b
