"""The condition parser is loaded from a parse table made in advance (``engine/expr/grammar_table.py``): it must be
the table of the grammar as it is, and parse, and refuse, every condition as the parser made from the grammar does."""
from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark

from conftest import ROOT
from engine.expr import grammar_table, parser
from engine.expr.parser import ExpressionSyntaxError

STALE = "engine/expr/grammar_table.py is not the table of grammar.lark with this lark: run python -m engine.expr.parser"

# Conditions as written, near misses and junk: every kind of token, misplaced, and every end too early.
TEXTS = ["members_joined >= 0.9 * members_eligible and not (finance.passed == false)",
         "workplace_type in ['hospital', 'clinic'] or score >= 85.5", "date_reported <= 2024-12-31",
         "a.b.c != 'x' and (1 + 2 * 3 - 4 / 5 > -6)", "not not a", "x in []", "a = 1", "a & b", "a | b", "!a",
         "a <", "(a", "a)", "a ==", "", "   ", "1 2", "'open", "a in [1,", "a and or b", "a @ b", "１２ > a",
         "a.b. > 1", "a >= 1e3", "[1, 2] in a", "a in ['x' 'y']", "- - 1 < a", "a < b < c", "((((a))))"]


def _conditions() -> list[str]:
    """Every condition of the bundled rule sets, as written."""
    import yaml

    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("when", "require") and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(ROOT.glob("rules/*/ruleset-*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def _outcome(made: Lark, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setattr(parser, "_parser", lambda: made)
    try:
        return "parsed", repr(parser.parse(text))
    except ExpressionSyntaxError as exc:
        return "refused", exc.message, exc.column


def test_the_table_is_made_from_the_grammar_as_it_is():
    assert grammar_table.KEY == parser.table_key(parser._grammar()), STALE


def test_the_parser_is_loaded_from_the_table():
    assert parser._parser().source_path == "<deserialized>", STALE  # lark's name for a parser it loaded


@pytest.mark.parametrize("texts", ["bundled", "made up"])
def test_the_table_parses_and_refuses_as_the_grammar_does(texts: str, monkeypatch: pytest.MonkeyPatch):
    conditions = _conditions() if texts == "bundled" else TEXTS
    assert len(conditions) > (50 if texts == "bundled" else 20)
    loaded, made = parser._parser(), Lark(parser._grammar(), **parser.OPTIONS)
    for text in conditions:
        assert _outcome(loaded, text, monkeypatch) == _outcome(made, text, monkeypatch), text


def test_the_table_is_written_by_the_module_it_documents():
    assert "python -m engine.expr.parser" in Path(grammar_table.__file__).read_text(encoding="utf-8").split("\n")[0]


def test_a_table_of_another_grammar_is_not_used(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(grammar_table, "KEY", "0" * 64)
    made = parser._parser.__wrapped__()  # past the cache: made again, as in a new process
    assert made.source_path != "<deserialized>"
    assert _outcome(made, TEXTS[0], monkeypatch) == _outcome(parser._parser(), TEXTS[0], monkeypatch)
