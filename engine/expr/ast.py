"""The condition language's syntax tree, shared by both back ends.

Every node keeps the source text it was parsed from, so an explanation can quote
exactly what the designer wrote, and its column, so an error can point at it.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import typing
from typing import Union
import datetime

Value = Union[bool, int, Fraction, str, datetime.date]
ArithOp = typing.Literal["+", "-", "*", "/"]
CompareOp = typing.Literal["<", "<=", ">", ">=", "==", "!="]
Connective = typing.Literal["and", "or"]


@dataclass(frozen=True)
class Node:
    text: str
    column: int


@dataclass(frozen=True)
class Literal(Node):
    value: Value


@dataclass(frozen=True)
class Name(Node):
    """A fact (``tasks_assigned``) or an earlier outcome (``score``, ``check.disclosure``)."""

    name: str


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True)
class Member(Node):
    needle: Node
    items: ListLit
    negated: bool


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: Connective
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


def walk(node: Node):
    """Every node of a tree, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Arith, Compare)):
        return (node.left, node.right)
    if isinstance(node, (Neg, Not)):
        return (node.operand,)
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, Member):
        return (node.needle, node.items)
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, Call):
        return node.args
    return ()


def names(node: Node) -> set[str]:
    """The names an expression reads (facts and outcomes)."""
    return {n.name for n in walk(node) if isinstance(n, Name)}


def reading_order(node: Node) -> tuple[str, ...]:
    """The names an expression reads, in the order a reader meets them, each once, leaving out the
    argument of ``present()`` (asking whether a fact was reported never needs its value)."""
    found: dict[str, None] = {}

    def visit(n: Node) -> None:
        if isinstance(n, Call) and n.func == "present":
            return
        if isinstance(n, Name):
            found.setdefault(n.name)
        for child in children(n):
            visit(child)

    visit(node)
    return tuple(found)
