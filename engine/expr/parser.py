"""Text of a condition → syntax tree.  A real grammar (lark), never ``eval``."""
from __future__ import annotations

import hashlib
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule
from lark.lexer import TerminalDef

from engine.expr import ast
from engine.limits import CONDITION_DEPTH, CONDITION_VALUES, NUMBER_CHARS

_TOKEN_WORDS = {
    "COMP_OP": "a comparison (<, <=, >, >=, ==, !=)",
    "ADD_OP": "+ or -",
    "MUL_OP": "* or /",
    "DOTTED_NAME": "a fact name",
    "NUMBER": "a number",
    "STRING": "a quoted text",
    "LPAR": "(",
    "RPAR": ")",
    "LSQB": "[",
    "RSQB": "]",
    "COMMA": ",",
    "MINUS": "-",
    "AND": "and",
    "OR": "or",
    "NOT": "not",
    "IN": "in",
    "$END": "the end of the condition",
}


class ExpressionSyntaxError(ValueError):
    """A condition that does not parse; ``column`` is 1-based within the text."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.message = message
        self.column = column


OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": False}


def _grammar() -> str:
    return resources.files("engine.expr").joinpath("grammar.lark").read_text(encoding="utf-8")


def table_key(grammar: str) -> str:
    """What a parse table is made from: the grammar, the parser's options and lark's version (another version
    may make another table)."""
    return hashlib.sha256(f"lark {lark.__version__}\n{OPTIONS!r}\n{grammar}".encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """The parser, from the parse table made from the grammar in advance (:mod:`engine.expr.grammar_table`):
    making it from the grammar takes longer than compiling a rule set.  A table made from another grammar, other
    options or another lark is not used: the parser is then made from the grammar, as the table was."""
    from engine.expr import grammar_table

    grammar = _grammar()
    if grammar_table.KEY == table_key(grammar):
        return Lark._load_from_dict(grammar_table.DATA, grammar_table.MEMO)  # as lark's own standalone parsers load
    return Lark(grammar, **OPTIONS)


def table_text() -> str:
    """The text of :mod:`engine.expr.grammar_table` for the grammar as it is: Python literals only, read as
    data by the import of the module."""
    import pprint

    grammar = _grammar()
    data, memo = Lark(grammar, **OPTIONS).memo_serialize([TerminalDef, Rule])
    return ('"""The parse table of grammar.lark, made by lark: ``python -m engine.expr.parser`` writes it again after an\n'
            'edit of the grammar or another version of lark (until then the parser is made from the grammar)."""\n'
            f"KEY = {table_key(grammar)!r}\n"
            f"DATA = {pprint.pformat(data, width=120, sort_dicts=False)}\n"
            f"MEMO = {pprint.pformat(memo, width=120, sort_dicts=False)}\n")


def parse(text: str) -> ast.Node:
    """Parse one condition; raises :class:`ExpressionSyntaxError` with the column."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    _within_limits(tree)
    return _ToAst(text).transform(tree)


_VALUE_TOKENS = frozenset({"DOTTED_NAME", "NUMBER", "STRING"})


def _within_limits(tree: Tree) -> None:
    """Refuse a condition too deep or too large to compile, before anything walks it recursively."""
    values = 0
    stack: list[tuple[Tree | Token, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Token):
            if node.type == "NUMBER" and len(node) > NUMBER_CHARS:  # int() of 4,301 digits is refused by Python
                raise ExpressionSyntaxError(f"a number of {len(node):,} characters; at most {NUMBER_CHARS} are read",
                                            node.column or 1)
            if node.type in _VALUE_TOKENS:
                values += 1
                if values > CONDITION_VALUES:
                    raise ExpressionSyntaxError(f"this condition holds more than {CONDITION_VALUES} fact names, numbers "
                                                "and texts; split it into several conditions", node.column or 1)
            continue
        if depth > CONDITION_DEPTH:
            raise ExpressionSyntaxError(f"this condition is nested too deeply (parentheses, not, arithmetic: at most "
                                        f"{CONDITION_DEPTH} levels); write it flatter", _column(node))
        stack.extend((child, depth + 1) for child in node.children)


def _column(node: Tree) -> int:
    return 1 if node.meta.empty else (getattr(node.meta, "column", None) or 1)


def _syntax_error(text: str, exc: UnexpectedInput) -> ExpressionSyntaxError:
    column = getattr(exc, "column", None) or len(text) + 1
    if isinstance(exc, UnexpectedEOF):
        return ExpressionSyntaxError("the condition ends too early", len(text) + 1)
    expected = sorted({_TOKEN_WORDS.get(t, t.lower()) for t in (getattr(exc, "expected", None) or ())})
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        hint = f"; expected {', '.join(expected)}" if expected else ""
        return ExpressionSyntaxError(f"the condition ends too early{hint}", len(text) + 1)
    if isinstance(exc, UnexpectedToken):
        found = repr(str(exc.token))
    elif isinstance(exc, UnexpectedCharacters):
        found = repr(text[exc.pos_in_stream]) if exc.pos_in_stream < len(text) else "the end"
        allowed = sorted({_TOKEN_WORDS.get(t, t.lower()) for t in (exc.allowed or ())})
        expected = allowed or expected
    else:
        found = "something unexpected"
    hint = f"; expected {', '.join(expected)}" if expected else ""
    if found in ("'='",):
        hint = "; use == to compare"
    if found in ("'&'", "'|'", "'!'"):
        hint = "; use and, or, not"
    return ExpressionSyntaxError(f"unexpected {found}{hint}", column)


def _number(token: str) -> int | Fraction:
    percent = token.endswith("%")
    digits = token.rstrip("%")
    value: int | Fraction = Fraction(digits) if "." in digits else int(digits)
    if percent:
        value = Fraction(value) / 100
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


class _ToAst(Transformer):
    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def _span(self, meta) -> tuple[str, int]:
        if getattr(meta, "empty", True):
            return "", 1
        return self._text[meta.start_pos:meta.end_pos], meta.column

    def _tok(self, token: Token) -> tuple[str, int]:
        return str(token), token.column or 1

    @v_args(meta=True)
    def or_(self, meta, items):
        return self._boolop("or", meta, items)

    @v_args(meta=True)
    def and_(self, meta, items):
        return self._boolop("and", meta, items)

    def _boolop(self, op, meta, items):
        if len(items) == 1:
            return items[0]
        text, col = self._span(meta)
        flat: list[ast.Node] = []
        for item in items:  # a or b or c → one node with three operands
            if isinstance(item, ast.BoolOp) and item.op == op and not item.text.startswith("("):
                flat.extend(item.operands)
            else:
                flat.append(item)
        return ast.BoolOp(text, col, op, tuple(flat))

    @v_args(meta=True)
    def not_(self, meta, items):
        text, col = self._span(meta)
        return ast.Not(text, col, items[0])

    @v_args(meta=True)
    def compare(self, meta, items):
        left, op, right = items
        text, col = self._span(meta)
        return ast.Compare(text, col, str(op), left, right)

    @v_args(meta=True)
    def in_(self, meta, items):
        text, col = self._span(meta)
        return ast.Member(text, col, items[0], items[1], False)

    @v_args(meta=True)
    def not_in(self, meta, items):
        text, col = self._span(meta)
        return ast.Member(text, col, items[0], items[1], True)

    @v_args(meta=True)
    def arith(self, meta, items):
        left, op, right = items
        text, col = self._span(meta)
        return ast.Arith(text, col, str(op), left, right)

    @v_args(meta=True)
    def neg(self, meta, items):
        text, col = self._span(meta)
        operand = items[0]
        if isinstance(operand, ast.Literal) and not isinstance(operand.value, (bool, str)):
            return ast.Literal(text, col, -operand.value)
        return ast.Neg(text, col, operand)

    def number(self, items):
        text, col = self._tok(items[0])
        return ast.Literal(text, col, _number(text))

    def string(self, items):
        text, col = self._tok(items[0])
        return ast.Literal(text, col, text[1:-1])

    @v_args(meta=True)
    def true(self, meta, items):
        text, col = self._span(meta)
        return ast.Literal(text or "true", col, True)

    @v_args(meta=True)
    def false(self, meta, items):
        text, col = self._span(meta)
        return ast.Literal(text or "false", col, False)

    def name(self, items):
        text, col = self._tok(items[0])
        return ast.Name(text, col, text)

    @v_args(meta=True)
    def call(self, meta, items):
        text, col = self._span(meta)
        func = str(items[0])
        args = tuple(i for i in items[1:] if i is not None)
        return ast.Call(text, col, func, args)

    @v_args(meta=True)
    def list(self, meta, items):
        text, col = self._span(meta)
        return ast.ListLit(text, col, tuple(i for i in items if i is not None))


__all__ = ["parse", "ExpressionSyntaxError", "Tree"]


if __name__ == "__main__":
    Path(__file__).with_name("grammar_table.py").write_text(table_text(), encoding="utf-8")
