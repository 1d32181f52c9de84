"""How values and comparisons are written in integers, for the rule engine and the compiled evaluator.

Both decide on the same representation: money in VND, a date as its day number, a
boolean as 1 or 0, a decimal or a percentage scaled by 10^places, points in hundredths,
codes and text as they are.  A comparison of numbers is a linear form over those
integers, multiplied out so that nothing is ever divided: exact, and what the rule
engine (whose division truncates and whose floats are unsafe) can compute too.
"""
from __future__ import annotations

import datetime
from fractions import Fraction
from math import lcm
from typing import Any

from engine.compiling.compile import Plan
from engine.expr import ast

OUTCOME_SCALES = {"score": 2, "group_score": 2}  # points are kept in hundredths


def field_name(name: str) -> str:
    """Outcome names are dotted (``check.disclosure``); engine field names are not."""
    return name.replace(".", "__")


def scale_of(plan: Plan, name: str) -> int:
    if name in plan.fact_types:
        return plan.fact_types[name].scale
    return OUTCOME_SCALES.get(name.split(".")[0], 0)


def to_engine(plan: Plan, name: str, value: Any) -> Any:
    """A native value → its integer (or code) form."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, datetime.date):
        return value.toordinal()
    if isinstance(value, int):
        scale = scale_of(plan, name)
        return value * 10 ** scale if scale else value
    if isinstance(value, Fraction):
        scaled = value * 10 ** scale_of(plan, name)
        if scaled.denominator != 1:
            raise ValueError(f"{name}={value} has more decimal places than its scale")
        return int(scaled)
    return value


def is_condition(plan: Plan, node: ast.Node) -> bool:
    """True for boolean-valued nodes: comparisons, logic, membership, present(), bool facts."""
    if isinstance(node, (ast.Compare, ast.BoolOp, ast.Not, ast.Member)):
        return True
    if isinstance(node, ast.Call):
        return node.func == "present"
    if isinstance(node, ast.Literal):
        return isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        spec = plan.fact_types.get(node.name)
        return spec.type == "bool" if spec is not None else (node.name.startswith("check.") or node.name == "finance_passed")
    return False


def is_symbolic(plan: Plan, node: ast.Node) -> bool:
    """Codes, text and booleans are compared by equality, not arithmetic."""
    if isinstance(node, ast.Literal):
        return isinstance(node.value, (str, bool))
    if isinstance(node, ast.Name):
        spec = plan.fact_types.get(node.name)
        if spec is not None:
            return spec.type in ("enum", "string", "bool")
        return node.name == "grade" or node.name.startswith("check.") or node.name == "finance_passed"
    return False


Linear = tuple[dict[str, Fraction], Fraction]


def linear(plan: Plan, node: ast.Node) -> Linear:
    """``node`` as Σ coefficient × integer field + constant."""
    if isinstance(node, ast.Literal):
        value = node.value
        return {}, Fraction(value.toordinal() if isinstance(value, datetime.date) else value)
    if isinstance(node, ast.Name):
        return {node.name: Fraction(1, 10 ** scale_of(plan, node.name))}, Fraction(0)
    if isinstance(node, ast.Neg):
        terms, const = linear(plan, node.operand)
        return {k: -v for k, v in terms.items()}, -const
    if isinstance(node, ast.Arith):
        lt, lc = linear(plan, node.left)
        rt, rc = linear(plan, node.right)
        if node.op in "+-":
            sign = 1 if node.op == "+" else -1
            terms = dict(lt)
            for k, v in rt.items():
                terms[k] = terms.get(k, Fraction(0)) + sign * v
            return {k: v for k, v in terms.items() if v}, lc + sign * rc
        if node.op == "*":
            if lt and rt:
                raise TypeError("product of two fields is not linear")
            factor, (terms, const) = (rc, (lt, lc)) if not rt else (lc, (rt, rc))
            return {k: v * factor for k, v in terms.items() if v * factor}, const * factor
        if rt:
            raise TypeError("division by a field is not linear")
        return {k: v / rc for k, v in lt.items()}, lc / rc
    raise TypeError(f"{type(node).__name__} is not arithmetic")


def difference(plan: Plan, left: ast.Node, right: ast.Node) -> Linear:
    """``left - right`` as a linear form (fields that cancel out are dropped)."""
    lt, lc = linear(plan, left)
    rt, rc = linear(plan, right)
    terms = dict(lt)
    for k, v in rt.items():
        terms[k] = terms.get(k, Fraction(0)) - v
    return {k: v for k, v in terms.items() if v}, lc - rc


def in_integers(terms: dict[str, Fraction], const: Fraction) -> tuple[dict[str, int], int, int]:
    """The same form times its common denominator: integer coefficients, integer constant, and that denominator."""
    denominator = lcm(const.denominator, *(c.denominator for c in terms.values()))
    return {k: int(c * denominator) for k, c in terms.items()}, int(const * denominator), denominator
