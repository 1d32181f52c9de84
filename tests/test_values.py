"""Values as a reader reads them: a number of points in a sentence, a value as a rule set writes it."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from engine.values import points_text, written


@pytest.mark.parametrize("amount, lang, text", [
    ("1", "en", "1 point"), ("0.5", "en", "0.5 points"), ("2", "en", "2 points"), ("10", "en", "10 points"),
    ("1", "vi", "1 điểm"), ("0,5", "vi", "0,5 điểm"),
])
def test_an_amount_of_points_reads_as_a_sentence_says_it(amount: str, lang: str, text: str):
    assert points_text(amount, lang) == text


@pytest.mark.parametrize("value, text", [
    (True, "true"), (False, "false"), (Decimal("12.50"), "12.5"), (Decimal("1E+2"), "100"),
    (datetime.date(2025, 7, 1), "2025-07-01"), ("signed", "signed"), (95, "95"),
])
def test_a_value_is_written_as_a_rule_sets_yaml_writes_it(value, text: str):
    assert written(value) == text
