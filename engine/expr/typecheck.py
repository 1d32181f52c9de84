"""Type checks and constant folding of a parsed condition.

Runs once per rule set, so that both back ends receive a tree they can evaluate
without surprises: every name known, every comparison between compatible types,
every function applied to constants folded into a literal, arithmetic linear
(the rule engine compares a fact against a linear expression of facts).
"""
from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal, Optional

from engine.expr import ast


@dataclass(frozen=True)
class Type:
    kind: Literal["bool", "number", "date", "enum", "string"]
    values: Optional[frozenset[str]] = None  # enum members

    def __str__(self) -> str:
        return self.kind


BOOL = Type("bool")
NUMBER = Type("number")
DATE = Type("date")
STRING = Type("string")


@dataclass(frozen=True)
class Dated:
    """A parameter whose value changes on a date inside the year: its values from each date on, in date order.

    Read by name it is refused (which value?); ``value_on(name, date(...))`` reads the value in force that day."""

    name: str
    values: tuple[tuple[datetime.date, object], ...]

    def on(self, day: datetime.date) -> object:
        found = [value for since, value in self.values if since <= day]
        if not found:
            raise LookupError(day)
        return found[-1]


@dataclass(frozen=True)
class Symbol:
    type: Type
    value: object = None  # set for constants (period_end, ...)
    later: Optional[str] = None  # set when the name exists but is decided after this section


class TypeProblem(ValueError):
    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.message = message
        self.column = column


FUNCTIONS = {
    "present": "present(fact): true when the unit reported the fact",
    "date": "date('2024-12-31'): a fixed date",
    "months_before": "months_before(date, n): the date n months earlier",
    "months_after": "months_after(date, n): the date n months later",
    "days_before": "days_before(date, n): the date n days earlier",
    "days_after": "days_after(date, n): the date n days later",
    "value_on": "value_on(parameter, date('2025-07-01')): a parameter's value in force that day",
}


def check(node: ast.Node, symbols: dict[str, Symbol]) -> ast.Node:
    """A boolean condition, folded; raises :class:`TypeProblem` at the first wrong node."""
    folded, typ, _ = _check(node, symbols)
    if typ.kind != "bool":
        raise TypeProblem(f"a condition must be true or false, but '{node.text}' is a {typ}", node.column)
    return folded


def _check(node: ast.Node, symbols: dict[str, Symbol]) -> tuple[ast.Node, Type, bool]:
    """(folded node, its type, whether it is a constant)."""
    if isinstance(node, ast.Literal):
        v = node.value
        if isinstance(v, bool):
            return node, BOOL, True
        if isinstance(v, (int, Fraction)):
            return node, NUMBER, True
        if isinstance(v, datetime.date):
            return node, DATE, True
        return node, STRING, True
    if isinstance(node, ast.Name):
        sym = symbols.get(node.name)
        if sym is None:
            from engine.errors import did_you_mean

            known = [n for n, s in symbols.items() if s.later is None]
            raise TypeProblem(f"unknown fact '{node.name}'.{did_you_mean(node.name, known)}".rstrip("."), node.column)
        if sym.later is not None:
            raise TypeProblem(f"'{node.name}' cannot be used here: {sym.later}", node.column)
        if isinstance(sym.value, Dated):
            changes = ", ".join(since.isoformat() for since, _ in sym.value.values)
            raise TypeProblem(f"parameter '{node.name}' has more than one value this year (from {changes}): read the "
                              f"one in force on a day: value_on({node.name}, date('{sym.value.values[-1][0]}'))",
                              node.column)
        if sym.value is not None:
            return ast.Literal(node.text, node.column, sym.value), sym.type, True
        return node, sym.type, False
    if isinstance(node, ast.Neg):
        operand, typ, const = _check(node.operand, symbols)
        _expect(typ, "number", node.operand)
        if const:
            return ast.Literal(node.text, node.column, -operand.value), NUMBER, True
        return replace(node, operand=operand), NUMBER, False
    if isinstance(node, ast.Arith):
        left, lt, lc = _check(node.left, symbols)
        right, rt, rc = _check(node.right, symbols)
        _expect(lt, "number", node.left)
        _expect(rt, "number", node.right)
        if node.op == "*" and not (lc or rc):
            raise TypeProblem(f"'{node.text}' multiplies two facts; the rule engine compares linear expressions only. "
                              "Multiply a fact by a constant instead", node.column)
        if node.op == "/":
            if not rc:
                raise TypeProblem(f"'{node.text}' divides by a fact; divide only by a constant. "
                                  "Write 'a >= b * 0.95' rather than 'a / b >= 0.95'", node.right.column)
            if right.value == 0:
                raise TypeProblem(f"'{node.text}' divides by zero", node.right.column)
        if lc and rc:
            return ast.Literal(node.text, node.column, _arith(node.op, left.value, right.value)), NUMBER, True
        return replace(node, left=left, right=right), NUMBER, False
    if isinstance(node, ast.Compare):
        left, lt, lc = _check(node.left, symbols)
        right, rt, rc = _check(node.right, symbols)
        _comparable(node, lt, rt, left, right)
        if lc and rc:
            return ast.Literal(node.text, node.column, _compare(node.op, left.value, right.value)), BOOL, True
        return replace(node, left=left, right=right), BOOL, False
    if isinstance(node, ast.Member):
        needle, nt, nc = _check(node.needle, symbols)
        if nt.kind not in ("enum", "string", "number"):
            raise TypeProblem(f"'in' needs a code, text or number on its left, not a {nt}", node.column)
        if not node.items.items:
            raise TypeProblem("the list after 'in' is empty", node.items.column)
        items = []
        for item in node.items.items:
            folded, it, ic = _check(item, symbols)
            if not ic:
                raise TypeProblem(f"the list after 'in' must hold fixed values; '{item.text}' is not one", item.column)
            _comparable(node, nt, it, needle, folded)
            items.append(folded)
        if nc:  # 'fdi' in [...]: decided here, as a comparison of two constants is
            return ast.Literal(node.text, node.column, any(needle.value == i.value for i in items) != node.negated), BOOL, True
        return replace(node, needle=needle, items=replace(node.items, items=tuple(items))), BOOL, False
    if isinstance(node, ast.Not):
        operand, typ, const = _check(node.operand, symbols)
        _expect(typ, "bool", node.operand)
        if const:
            return ast.Literal(node.text, node.column, not operand.value), BOOL, True
        return replace(node, operand=operand), BOOL, False
    if isinstance(node, ast.BoolOp):
        operands = []
        for op in node.operands:
            folded, typ, _ = _check(op, symbols)
            _expect(typ, "bool", op)
            operands.append(folded)
        return replace(node, operands=tuple(operands)), BOOL, False
    if isinstance(node, ast.Call):
        return _call(node, symbols)
    if isinstance(node, ast.ListLit):
        raise TypeProblem("a list may only follow 'in'", node.column)
    raise TypeProblem(f"unsupported expression '{node.text}'", node.column)


def _call(node: ast.Call, symbols: dict[str, Symbol]) -> tuple[ast.Node, Type, bool]:
    from engine.errors import did_you_mean

    if node.func not in FUNCTIONS:
        raise TypeProblem(f"unknown function '{node.func}'.{did_you_mean(node.func, FUNCTIONS)} "
                          f"Functions are: {', '.join(sorted(FUNCTIONS))}", node.column)
    if node.func == "present":
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            raise TypeProblem("present() takes one fact name: present(reorganized_on)", node.column)
        _check(node.args[0], symbols)
        return node, BOOL, False
    if node.func == "date":
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Literal) or not isinstance(node.args[0].value, str):
            raise TypeProblem("date() takes one ISO date in quotes: date('2024-12-31')", node.column)
        try:
            value = datetime.date.fromisoformat(node.args[0].value)
        except ValueError:
            raise TypeProblem(f"'{node.args[0].value}' is not an ISO date (YYYY-MM-DD)", node.args[0].column) from None
        return ast.Literal(node.text, node.column, value), DATE, True
    if len(node.args) != 2:
        raise TypeProblem(f"{FUNCTIONS[node.func]}; it takes 2 arguments, not {len(node.args)}", node.column)
    if node.func == "value_on":
        return _value_on(node, symbols)
    base, bt, bc = _check(node.args[0], symbols)
    count, ct, cc = _check(node.args[1], symbols)
    _expect(bt, "date", node.args[0])
    _expect(ct, "number", node.args[1])
    if not (bc and cc) or not isinstance(count.value, int):
        raise TypeProblem(f"{node.func}() needs a fixed date and a whole number (such as period_end, 12)", node.column)
    sign = -1 if node.func.endswith("before") else 1
    try:
        if node.func.startswith("months"):
            value = _add_months(base.value, sign * count.value)
        else:
            value = base.value + datetime.timedelta(days=sign * count.value)
    except (ValueError, OverflowError):
        raise TypeProblem(f"'{node.text}' falls outside the calendar (years 1 to 9999)", node.column) from None
    return ast.Literal(node.text, node.column, value), DATE, True


def _value_on(node: ast.Call, symbols: dict[str, Symbol]) -> tuple[ast.Node, Type, bool]:
    """``value_on(parameter, day)``: the parameter's value in force on a fixed day, folded to a constant."""
    name, day = node.args
    sym = symbols.get(name.name) if isinstance(name, ast.Name) else None
    if sym is None or sym.value is None or sym.later is not None:
        raise TypeProblem(f"value_on() reads a parameter of the rule set (params:), not '{name.text}'", name.column)
    when, wt, constant = _check(day, symbols)
    _expect(wt, "date", day)
    if not constant:
        raise TypeProblem("value_on() needs a fixed day: date('2025-07-01'), period_start", day.column)
    if not isinstance(sym.value, Dated):
        return ast.Literal(node.text, node.column, sym.value), sym.type, True
    try:
        value = sym.value.on(when.value)
    except LookupError:
        raise TypeProblem(f"parameter '{name.name}' has no value in force on {when.value.isoformat()} (its first is "
                          f"from {sym.value.values[0][0].isoformat()})", day.column) from None
    return ast.Literal(node.text, node.column, value), sym.type, True


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def _expect(typ: Type, kind: str, node: ast.Node) -> None:
    if typ.kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        raise TypeProblem(f"'{node.text}' is a {typ}, expected {article} {kind}", node.column)


def _comparable(node: ast.Node, lt: Type, rt: Type, left: ast.Node, right: ast.Node) -> None:
    op = getattr(node, "op", "in")
    kinds = {lt.kind, rt.kind}
    if lt.kind == "enum" or rt.kind == "enum":
        if op not in ("==", "!=", "in"):
            raise TypeProblem(f"codes can only be compared with ==, != or in, not {op}", node.column)
        for enum_t, other, other_t in ((lt, right, rt), (rt, left, lt)):
            if enum_t.kind == "enum" and isinstance(other, ast.Literal):
                if not isinstance(other.value, str) or other.value not in enum_t.values:
                    from engine.errors import did_you_mean

                    hint = did_you_mean(str(other.value), enum_t.values)
                    raise TypeProblem(f"{other.text} is not one of the allowed values.{hint} Expected one of {sorted(enum_t.values)}",
                                      other.column)
            elif enum_t.kind == "enum" and other_t.kind not in ("enum", "string"):
                raise TypeProblem(f"cannot compare a code with a {other_t}", node.column)
        return
    if len(kinds) != 1:
        raise TypeProblem(f"cannot compare a {lt} with a {rt} in '{node.text}'", node.column)
    if lt.kind in ("bool", "string") and op not in ("==", "!=", "in"):
        raise TypeProblem(f"{lt} values can only be compared with == or !=, not {op}", node.column)


def _arith(op: str, a, b):
    result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: Fraction(a) / b}[op]()
    if isinstance(result, Fraction) and result.denominator == 1:
        return int(result)
    return result


def _compare(op: str, a, b) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
