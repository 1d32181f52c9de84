"""Values as a reader reads them: a number of points in a sentence."""
from __future__ import annotations

import pytest

from engine.values import points_text


@pytest.mark.parametrize("amount, lang, text", [
    ("1", "en", "1 point"), ("0.5", "en", "0.5 points"), ("2", "en", "2 points"), ("10", "en", "10 points"),
    ("1", "vi", "1 điểm"), ("0,5", "vi", "0,5 điểm"),
])
def test_an_amount_of_points_reads_as_a_sentence_says_it(amount: str, lang: str, text: str):
    assert points_text(amount, lang) == text
