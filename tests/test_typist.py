"""The fast reader of a batch reads every cell exactly as the reader of a single unit does.

A batch types cells with code written per catalogue (``engine.reading.facts.Typist``); a single
unit, a test case or an appeal goes through ``unit_from_row``.  Whatever a cell holds
— a usual spelling, a near miss, junk, a value out of range, nothing — both must give the
same value, the same defaults and the same problems, word for word.
"""
from __future__ import annotations

import datetime
from functools import lru_cache
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BUNDLED_RULESETS, compiled
from engine.reading.facts import Cell, GridCells, Typist, to_integer, unit_from_row
from strategies import fact_value, raw

SETTINGS = dict(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _spelling(name: str, spec) -> st.SearchStrategy:
    """Cells as a spreadsheet might hold them: usual, unusual, wrong, empty."""
    usual = fact_value(name, spec).map(raw).map(lambda v: v if isinstance(v, str) else str(v).lower()
                                               if isinstance(v, bool) else str(v))
    odd = st.sampled_from(["", " ", "  12 ", "+5", "-1", "1e3", "12,5", "95%", "１２", "²", "1_000", "0x10", "true ",
                           "Có", "KHÔNG", "x", "2024-02-30", "31/12/2024", "2024-1-5", "nan", "∞", "1.234.000",
                           "100.001", "99.999", "0.005", "committee ", "Committee", "signed_more_favourable", "ÿ"])
    text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    native = st.one_of(st.integers(-10, 10 ** 14), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                       st.dates(datetime.date(1990, 1, 1), datetime.date(2030, 12, 31)), st.none())
    return st.one_of(usual, usual, odd, text, native)


@lru_cache(maxsize=None)
def _spellings(ruleset: str) -> dict[str, st.SearchStrategy]:
    """Each fact's cells, as a strategy made once per rule set: making (and validating) a strategy costs hypothesis
    far more than drawing from it, and the draws are the same either way."""
    plan, _ = compiled(ruleset)
    return {name: _spelling(name, spec) for name, spec in plan.catalogue.facts.items()}


@st.composite
def records(draw, ruleset: str) -> dict:
    return {name: draw(spelling) for name, spelling in _spellings(ruleset).items() if draw(st.integers(0, 9))}


_TYPISTS: dict[tuple[int, Optional[int], bool], tuple[object, Typist]] = {}


def _typist(catalogue, year: Optional[int], text_only: bool) -> Typist:
    """One typist per catalogue, as a batch has one: it keeps nothing of the units it types.  (Kept with its
    catalogue, whose id is the key.)"""
    key = (id(catalogue), year, text_only)
    if key not in _TYPISTS:
        _TYPISTS[key] = (catalogue, Typist(catalogue, year, text_only))
    return _TYPISTS[key][1]


def _same(catalogue, year, record: dict, text_only: bool) -> None:
    columns = list(record)
    cells = GridCells(7, columns)
    fast = _typist(catalogue, year, text_only).unit(3, record, cells, "units.csv")
    slow = unit_from_row(3, record, {k: Cell(7, i + 1) for i, k in enumerate(columns)}, catalogue, "units.csv", year)
    assert fast.unit_id == slow.unit_id
    assert fast.engine == {k: to_integer(catalogue.facts[k], v) for k, v in slow.values.items()}
    assert fast.defaulted == slow.defaulted
    assert [p.render() for p in fast.problems] == [p.render() for p in slow.problems]
    assert fast.raw == slow.raw


@pytest.mark.parametrize("ruleset", BUNDLED_RULESETS)
def test_typist_reads_the_bundled_examples_as_a_single_unit_is_read(ruleset: str):
    from engine.reading.facts import read_table

    plan, _ = compiled(ruleset)
    for example in sorted(Path(__file__).resolve().parent.parent.glob("examples/province_*.csv")):
        for rec, _ in read_table(example).rows:
            _same(plan.catalogue, plan.ruleset.year, rec, True)


@settings(max_examples=150, **SETTINGS)
@given(data=st.data(), which=st.sampled_from(BUNDLED_RULESETS))
def test_typist_reads_any_cell_as_a_single_unit_is_read(data, which):
    plan, _ = compiled(which)
    record = data.draw(records(which))
    text_only = all(isinstance(v, str) for v in record.values())
    _same(plan.catalogue, plan.ruleset.year, record, text_only)


def _around_bounds(spec) -> list[str]:
    """A number fact's cells at, just inside and just outside its range, and with one decimal place too many."""
    from decimal import Decimal

    low, high = spec.bounds
    step = Decimal(1).scaleb(-spec.scale)
    cells = [str(v) for v in (low - step, low, low + step, high - step, high, high + step)]
    return cells + [str(low + step / 10), str(high - step / 10)]


@pytest.mark.parametrize("ruleset", BUNDLED_RULESETS)
def test_typist_reads_the_edges_of_every_range_as_a_single_unit_is_read(ruleset: str):
    """The typist's fast readers check a range on scaled integers of their own: the edges, written as a CSV cell
    holds them, are read or refused exactly as the single-unit reader reads or refuses them."""
    plan, _ = compiled(ruleset)
    year = plan.ruleset.year
    for name, spec in plan.catalogue.facts.items():
        if spec.type in ("int", "vnd", "decimal", "percentage"):
            spellings = _around_bounds(spec)
        elif spec.type == "date":  # the usual ten characters, and ISO forms of other lengths
            spellings = [f"{year}-01-31", f"{year}0131", f"{year}-W05-1", f" {year}-01-31", f"{year}-01-31T00:00"]
        else:
            continue
        for cell in spellings:
            _same(plan.catalogue, year, {"unit_id": "U1", name: cell}, True)


def test_typist_reads_the_edges_of_a_range_that_starts_above_zero_as_a_single_unit_is_read():
    """The bundled catalogues' decimal facts all start at 0: a designer's may not (a ratio from 1.5)."""
    from engine.model import FactSpec

    plan, _ = compiled(BUNDLED_RULESETS[-1])
    for kind, places in (("decimal", 1), ("percentage", 2), ("int", None)):
        spec = FactSpec(type=kind, label={"vi": "Tỷ lệ", "en": "Ratio"}, min="1.5" if places else "2", max="12",
                        places=places)
        catalogue = plan.catalogue.model_copy(update={"facts": {**plan.catalogue.facts, "ratio": spec}})
        for cell in _around_bounds(spec):
            _same(catalogue, plan.ruleset.year, {"unit_id": "U1", "ratio": cell}, True)
