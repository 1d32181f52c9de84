"""Values as people and JSON read them: exact numbers, plain decimals, dates in ISO form.

The one place a value of the engine (an int, a ``Fraction``, a ``Decimal`` of a rule set,
a date) is given the form it is shown or stored in, so that a number reads the same in an
explanation, a diff, a quota's ranking and an error message.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any


def number(value: Any) -> Any:
    """Exact numbers for JSON: ints stay ints, terminating fractions become decimals, others ``"n/d"``."""
    if value.__class__ is Fraction:  # not isinstance: Fraction's abstract base makes that slow, and it is asked often
        if value.denominator == 1:
            return int(value)
        d = value.denominator
        for places in range(1, 7):
            if 10 ** places % d == 0:  # a fraction in lowest terms: value × 10^places is whole
                return round(value.numerator / d, places)
        return f"{value.numerator}/{d}"
    return value


def decimal_text(value: Decimal) -> str:
    """A rule set's or catalogue's decimal in plain notation, without trailing zeros (``95``, ``12.5``)."""
    return format(value.normalize(), "f")


def written(value: Any) -> str:
    """A value as a rule set's YAML writes it, for a message or a label: ``true``, ``12.5``, ``2025-07-01``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def data(value: Any) -> Any:
    """A value as JSON-ready data that still compares exactly: dates in ISO form, decimals as plain text, a whole
    fraction as an int (another is kept exact), tuples as lists."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, Fraction):
        return value if value.denominator != 1 else int(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def points_text(amount: str, lang: str) -> str:
    """An amount of points, already formatted, as a sentence says it: ``1 point``, ``0.5 points``, ``1 điểm``."""
    if lang == "vi":
        return f"{amount} điểm"
    return f"{amount} point" if amount == "1" else f"{amount} points"
