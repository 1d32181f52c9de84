"""A recorded unit's text and packing: the quick spelling is the canonical one, and every packing reads back."""
from __future__ import annotations

import zlib

import pytest

from engine.reading.facts import Cell, GridCells
from engine.ledger.record import unit_data, unit_text
from engine.ledger.store import canonical_json, canonical_texts, pack_unit, packing, unpack_unit

COLUMNS = ["unit_id", "name", "year", "Ä_name", "z", "a b", 'quo"te', "back\\slash", "ctl\x01", "emoji😀", "per%cent", "%s"]
TEXTS = ["", "U1", "Công đoàn Đã Sửa", 'say "hi"', "back\\slash", "line\nbreak\ttab\r", "\x00\x1f\x7f", "😀", "\u2028"]


def _record(values: list) -> dict:
    return dict(zip(COLUMNS, values))


RECORDS = [
    _record([TEXTS[i % len(TEXTS)] for i in range(n, n + len(COLUMNS))]) for n in range(len(TEXTS))
] + [
    {},  # no facts at all
    {"b": "1", "a": "2"},  # names out of order
    {"only": "one"},
    {"a": 1, "b": "x"},  # a number (JSON facts)
    {"a": None, "b": True, "c": 1.5, "d": [1, "x"], "e": {"y": "1", "x": 2}},  # any JSON value
    {"a": "x", 1: "y"},  # a name that is not a text: left to the encoder, which refuses it as before
]
DECISIONS = [{}, {"status": "invalid", "problems": ["x: bad"]},
             {"status": "graded", "grade": "good", "score": 8950, "titles": {"b": None, "a": True}, "verdict": "pass",
              "outcomes": "TF?", "quota": None, "defaulted": ["z", "a"]}]


def _both(source, raw, cells, history, decided):
    try:
        expected = canonical_json(unit_data(source, raw, cells, history, decided))
    except TypeError as exc:
        with pytest.raises(TypeError):
            unit_text(source, raw, cells, history, decided)
        return str(exc)
    return expected, unit_text(source, raw, cells, history, decided)


@pytest.mark.parametrize("raw", RECORDS, ids=range(len(RECORDS)))
@pytest.mark.parametrize("decided", DECISIONS, ids=range(len(DECISIONS)))
@pytest.mark.parametrize("history", [{}, {"b": "run 3", "a": "run 1"}], ids=["no history", "history"])
def test_a_units_text_is_its_canonical_json(raw, decided, history):
    for cells in (GridCells(7, list(raw)), GridCells(None, COLUMNS), {k: Cell(3, i) for i, k in enumerate(raw)},
                  {"elsewhere": Cell(1, 1)}):
        for source in ("facts.csv", "tệp \"đơn vị\".csv"):
            result = _both(source, raw, cells, history, decided)
            if isinstance(result, tuple):
                assert result[1] == result[0]


@pytest.mark.parametrize("raw", RECORDS[:-1], ids=range(len(RECORDS) - 1))
def test_a_record_of_texts_is_spelled_as_the_encoder_spells_it(raw):
    assert canonical_texts(raw) == canonical_json(raw)
    assert canonical_texts(dict(reversed(raw.items()))) == canonical_json(raw)  # same names, another order


def test_a_grid_spells_its_columns_afresh_when_they_change():
    columns = ["b", "a"]
    first = unit_text("f", {"a": "1", "b": "2"}, GridCells(2, columns), {}, {})
    columns.append("c")
    assert unit_text("f", {"a": "1", "b": "2"}, GridCells(2, columns), {}, {}) == \
        canonical_json(unit_data("f", {"a": "1", "b": "2"}, GridCells(2, columns), {}, {}))
    assert first != unit_text("f", {"a": "1", "b": "2"}, GridCells(2, columns), {}, {})


TEXTS_TO_PACK = [canonical_json(unit_data("facts.csv", raw, GridCells(n, list(raw)), {}, decided))
                 for n, raw in enumerate(RECORDS[:-1]) for decided in DECISIONS]


@pytest.mark.parametrize("names", [[], ["unit_id", "name"], COLUMNS, [f"fact_{i}" for i in range(400)]],
                         ids=["none", "two", "odd names", "a dictionary larger than the window"])
def test_a_packed_unit_reads_back_and_packs_the_same_every_time(names):
    dictionary = packing(names)
    for text in TEXTS_TO_PACK:
        blob = pack_unit(text, dictionary)
        assert unpack_unit(blob, dictionary) == text
        assert pack_unit(text, dictionary) == blob  # deterministic: a copy of the same primed compressor
        fresh = zlib.compressobj(3, zlib.DEFLATED, 13, 5, zlib.Z_DEFAULT_STRATEGY, dictionary)
        assert blob == b"\x02" + fresh.compress(text.encode("utf-8")) + fresh.flush()


@pytest.mark.parametrize("level, window, memory", [(6, 15, 8), (9, 15, 9), (1, 9, 1)])
def test_units_packed_as_earlier_versions_packed_them_still_read(level, window, memory):
    dictionary = packing(COLUMNS)
    for text in TEXTS_TO_PACK:
        packer = zlib.compressobj(level, zlib.DEFLATED, window, memory, zlib.Z_DEFAULT_STRATEGY, dictionary)
        assert unpack_unit(b"\x02" + packer.compress(text.encode("utf-8")) + packer.flush(), dictionary) == text
