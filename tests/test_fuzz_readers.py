"""Fuzzing every reader: whatever a file or a condition holds, the answer is a result or the project's own error.

Facts files (CSV, XLSX, YAML, JSON), YAML text (facts, catalogues and rule sets) and
conditions come from other people.  Each reader here gets random and broken input and
must either return (units, valid or invalid with located problems; a located YAML
tree; a syntax tree) or raise the error the CLI prints as ``file:line:col: error:``
(FactsError, RuleSetError, ExpressionSyntaxError, TypeProblem).  Any other exception
is a traceback in front of a user; a reader that runs past its bound is a hang.

A facts file is read both ways the CLI reads one: whole, as ``validate``, ``explain``
and ``impact`` do (:func:`engine.reading.facts.load_facts`), and as ``grade`` does (the stream,
its header checked, a CSV file's text cut in chunks and typed by the
:class:`engine.reading.facts.Typist`); the two must refuse the same files and read the same
units, problems word for word.

The crashes this file found are fixed; each keeps its smallest input as a test below
(``test_found_*``).  A crash found later and not fixed at once goes in ``KNOWN``, with its
reproducer marked ``xfail(strict=True)``: the properties then let exactly that failure
through (and count it as an event), so that they keep looking for others; when the fix
lands, strict xfail fails the run until the entry and the marker go.

Every property runs derandomized without an example database (the same examples on
every run, as in test_properties.py), with a deadline per example and an alarm that
turns a hang into a failure.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import re
import signal
import threading
import traceback
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from engine import yamlpos
from engine.compiling.compile import compile_file, symbols_for
from engine.errors import FactsError, Problem, RuleSetError
from engine.expr.parser import ExpressionSyntaxError, parse
from engine.expr.typecheck import TypeProblem, check
from engine.reading.facts import GridCells, Typist, check_columns, load_facts, open_stream, parse_chunk, to_integer
from engine.reading.loading import load_catalogue
from strategies import VIETNAMESE_TEXT, fact_value, nfc, unit_values

RULESET = ROOT / "rules/2024/ruleset-2024.1.yaml"
PLAN = compile_file(RULESET)
CATALOGUE = PLAN.catalogue
YEAR = PLAN.ruleset.year
SYMBOLS = symbols_for(CATALOGUE, YEAR, [c.id for c in PLAN.ruleset.finance.checks])
TYPISTS = {text_only: Typist(CATALOGUE, YEAR, text_only) for text_only in (True, False)}
VALID = ROOT / "tests/errors/facts/valid.csv"
FACT_NAMES = tuple(CATALOGUE.facts)
REQUIRED = tuple(n for n, s in CATALOGUE.facts.items() if s.on_missing == "required")

DEADLINE = datetime.timedelta(seconds=5)  # every reader answers in milliseconds; five seconds is a stuck one
HANG_SECONDS = 30  # the deadline is measured once an example ends; this alarm ends one that never would
FUZZ = dict(derandomize=True, database=None, print_blob=False, deadline=DEADLINE)
# Examples that are files of a few thousand characters, or whole units of every catalogue fact: generating
# them is slow and large by design, and the health checks would stop the test before it starts.
BIG = [HealthCheck.too_slow, HealthCheck.data_too_large]


# --- bounds --------------------------------------------------------------------------------

class Hang(Exception):
    """A reader still running after HANG_SECONDS."""


@contextmanager
def bounded(seconds: float = HANG_SECONDS):
    """Raise :class:`Hang` in the reader if it runs longer than ``seconds`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Hang(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- crashes found by this file and not fixed yet ------------------------------------------

@dataclass(frozen=True)
class Known:
    """One crash: its exception, the engine function it escapes from, and its message."""

    name: str
    types: tuple[type[BaseException], ...]
    functions: frozenset[str]  # the innermost engine function of the traceback is one of these
    message: str  # a regular expression the exception's text matches

    def matches(self, exc: BaseException) -> bool:
        frames = [f.name for f in traceback.extract_tb(exc.__traceback__) if "/engine/" in f.filename.replace("\\", "/")]
        return (isinstance(exc, self.types) and bool(frames) and frames[-1] in self.functions
                and re.search(self.message, str(exc)) is not None)


KNOWN: tuple[Known, ...] = ()  # none open


def known(exc: BaseException) -> Optional[str]:
    return next((k.name for k in KNOWN if k.matches(exc)), None)


@dataclass
class Outcome:
    """What a reader did: returned ``value``, refused with the project's ``error``, or hit a ``known`` crash."""

    value: Any = None
    error: Optional[Exception] = None
    known: Optional[str] = None

    @property
    def refused(self) -> bool:
        return self.error is not None


def attempt(read: Callable[[], Any], *refusals: type[Exception]) -> Outcome:
    """Run one reader within its bound; any exception but ``refusals`` and the known crashes fails the test."""
    try:
        with bounded():
            return Outcome(value=read())
    except refusals as exc:
        return Outcome(error=exc)
    except Hang:
        raise
    except Exception as exc:
        name = known(exc)
        if name is None:
            raise
        event(f"known crash: {name}")
        return Outcome(known=name)


class EngineCrash(Exception):
    """An exception that is not the project's own, raised by a reproducer below."""


def crash_of(read: Callable[[], Any], *refusals: type[Exception]) -> Any:
    """``read()``; a project error passes through, anything else becomes :class:`EngineCrash`."""
    try:
        return read()
    except refusals:
        raise
    except Exception as exc:
        raise EngineCrash(f"{type(exc).__name__}: {exc}") from exc


# --- the two ways the CLI reads a facts file ------------------------------------------------

def read_whole(path: Path) -> list:
    """As ``validate``, ``explain`` and ``impact`` read a file: every unit typed by :func:`unit_from_row`."""
    return load_facts(path, CATALOGUE, YEAR).units


def read_streamed(path: Path, chunk: int = 2) -> list:
    """As ``grade`` reads a file: header checked, a CSV file's text in chunks, each unit typed by the Typist."""
    return _streamed(path, chunk)[1]


def _streamed(path: Path, chunk: int) -> tuple[list[str], list]:
    """The header and the units of :func:`read_streamed`."""
    stream = open_stream(path)
    wrong = check_columns(stream.columns, CATALOGUE, stream.shown)
    if wrong:
        raise FactsError(wrong)
    typist = TYPISTS[stream.text_only]
    units = []
    if stream.texts is not None:
        for piece in stream.texts(chunk):
            for index, line, values in parse_chunk(piece, stream.csv_format, stream.columns, stream.shown):
                units.append(typist.unit(index, dict(zip(stream.columns, values)), GridCells(line, stream.columns),
                                         stream.shown))
    else:
        for index, line, values, where in stream.rows:
            units.append(typist.unit(index, stream.reported(values), stream.cells(line, values, where), stream.shown))
    return stream.columns, units


def _twice(problem: Problem) -> bool:  # a repeated unit id: found by the reader of a whole file, by the run when streamed
    return "is given twice (first on" in problem.message


def as_read(unit) -> tuple:
    """A unit read either way, comparable: id, facts in integer form, defaults, problems as printed."""
    if hasattr(unit, "engine"):
        engine = unit.engine
    else:
        engine = {k: to_integer(CATALOGUE.facts[k], v) for k, v in unit.values.items()}
    return unit.unit_id, engine, list(unit.defaulted), [p.render() for p in unit.problems if not _twice(p)]


def assert_refusal(error: Exception) -> None:
    """A refusal says where and what: at least one problem, each with a message."""
    assert error.problems, f"{type(error).__name__} without a problem"
    for problem in error.problems:
        assert isinstance(problem, Problem) and problem.message.strip(), problem


def read_both(path: Path, chunk: int = 2, grid: bool = False) -> Optional[list]:
    """Read ``path`` both ways; both refuse it with a FactsError, or both read the same units.

    ``grid``: a CSV or XLSX file, where every problem of a unit names its row and column.
    Returns the units read whole (None when refused or a known crash was met).
    """
    whole = attempt(lambda: read_whole(path), FactsError)
    streamed = attempt(lambda: _streamed(path, chunk), FactsError)
    for outcome in (whole, streamed):
        if outcome.refused:
            assert_refusal(outcome.error)
    if whole.known or streamed.known:
        return None
    assert whole.refused == streamed.refused, (
        f"read whole: {whole.error or 'read'}; streamed: {streamed.error or 'read'}")
    if whole.refused:
        return None
    columns, units = streamed.value
    assert [as_read(u) for u in whole.value] == [as_read(u) for u in units]
    if grid:
        width = len(columns)
        for unit in whole.value:
            for problem in unit.problems:
                assert problem.line is not None and problem.line >= 2, problem.render()
                assert problem.column is not None and 1 <= problem.column <= width, problem.render()
    event("read" if whole.value else "read, no units")
    return whole.value


# --- cells ---------------------------------------------------------------------------------

ANY_CHAR = st.characters(codec="utf-8", exclude_categories=("Cs",))  # what a UTF-8 file can hold
SHORT_TEXT = st.text(ANY_CHAR, max_size=16)
LONG_TEXT = st.tuples(st.sampled_from(["a", "Đ", "ệ", "e\u0301", " ", '"', ",", ";", "1", "x\n"]),
                      st.integers(100, 3000)).map(lambda t: (t[0] * t[1])[:3000])  # cells of a few thousand characters
ODD_SPELLINGS = ("", " ", "  12 ", "+5", "-1", "1e3", "12,5", "95%", "100%", "１２", "²", "1_000", "0x10", "true ", "Có",
                 "KHÔNG", "x", "2024-02-30", "31/12/2024", "30/02/2024", "2024-1-5", "2024-06-30T00:00:00", "nan", "NaN",
                 "inf", "-Infinity", "∞", "1.200.000", "1 200 000", "100.001", "99.999", "0.005", "1e-999999999",
                 "1e999999999", "9" * 39, "9" * 41, "0." + "0" * 30 + "1", "committee ", "Committee", "Đã ký", "signed",
                 "Doanh nghiệp FDI", "fdi", "#", "=1+1", "null", "~", "None", "2024", "2023", "2101", "-0", "00012")


def spelled(name: str) -> st.SearchStrategy[str]:
    """A valid value of the fact, as a cell holds it."""
    return fact_value(name, CATALOGUE.facts[name]).map(_text_of)


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def cell_for(name: str) -> st.SearchStrategy[str]:
    return st.one_of(spelled(name), spelled(name), st.sampled_from(ODD_SPELLINGS), SHORT_TEXT, LONG_TEXT)


def quoted(cell: str, sep: str) -> str:
    """A cell as a spreadsheet writes it: quoted when it holds the separator, a quote, a line break or edge spaces."""
    if any(c in cell for c in (sep, '"', "\r", "\n")) or cell != cell.strip(" "):
        return '"' + cell.replace('"', '""') + '"'
    return cell


# --- 1. CSV: any bytes ---------------------------------------------------------------------

CSV_PIECES = ('"', '""', '"""', ",", ";", "\t", "\x00", "\r", "\n", "\r\n", " ", "\ufeff", "\u00a0", "\u2028", "e\u0301",
              "Đ", "Công đoàn", "\\", "'", "#", ",,,,", ";;;", "\t\t")
INVALID_UTF8 = (b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82")


@st.composite
def csv_grid(draw) -> str:
    """A header of fact names and rows of cells, joined raw (a stray separator or quote breaks the grid) or quoted."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    others = draw(st.lists(st.sampled_from(FACT_NAMES), max_size=8, unique=True))
    if draw(st.integers(0, 4)) == 0:  # a header that is wrong: unknown, blank or repeated names
        others.insert(0, draw(st.sampled_from(["unknown", "", "unit_id", " name ", "Unit_ID"])))
    columns = draw(st.permutations(list(dict.fromkeys(REQUIRED + tuple(others)))))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    quote = draw(st.sampled_from([quoted, quoted, lambda c, s: c]))  # or joined raw: a stray separator breaks the grid
    lines = [sep.join(quote(c, sep) for c in columns)]
    for _ in range(draw(st.integers(0, 4))):
        cells = [draw(cell_for(c)) if c in CATALOGUE.facts else draw(SHORT_TEXT) for c in columns]
        cells = cells[:draw(st.integers(0, len(cells) + 1))] if draw(st.integers(0, 9)) == 0 else cells  # short or long rows
        lines.append(sep.join(quote(c, sep) for c in cells))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


CSV_TEXT = st.one_of(
    csv_grid(), csv_grid(),
    st.tuples(csv_grid(), st.lists(st.one_of(st.sampled_from(CSV_PIECES), st.sampled_from(ODD_SPELLINGS), SHORT_TEXT),
                                   max_size=30).map("".join)).map("".join),
    st.lists(st.one_of(st.sampled_from(CSV_PIECES), st.sampled_from(FACT_NAMES), SHORT_TEXT, LONG_TEXT),
             max_size=40).map("".join),
)


@st.composite
def csv_bytes(draw) -> bytes:
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(max_size=2000))
    data = draw(CSV_TEXT).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(INVALID_UTF8)) + data[at:]
    return data


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=150, suppress_health_check=BIG, **FUZZ)
@given(data=csv_bytes(), chunk=st.sampled_from([1, 2, 1000]))
def test_any_csv_file_is_read_or_refused_with_a_facts_error(folder, data, chunk):
    path = folder / "units.csv"
    path.write_bytes(data)
    read_both(path, chunk, grid=True)


# --- 2. one cell of a valid file changed ---------------------------------------------------

VALID_ROWS = list(csv.reader(io.StringIO(VALID.read_text(encoding="utf-8"))))
HEADER, BODY = VALID_ROWS[0], VALID_ROWS[1:]
BASELINE = [as_read(u) for u in read_whole(VALID)]
MUTANT_CELL = st.one_of(
    SHORT_TEXT, LONG_TEXT, VIETNAMESE_TEXT, st.sampled_from(ODD_SPELLINGS),
    st.integers(-10 ** 25, 10 ** 25).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)).flatmap(
        lambda d: st.sampled_from([d.isoformat(), d.strftime("%d/%m/%Y"), f"{d.day}/{d.month}/{d.year}",
                                   d.strftime("%Y/%m/%d"), d.isoformat() + "T00:00:00"])),
)


@settings(max_examples=150, suppress_health_check=BIG, **FUZZ)
@given(unit=st.integers(0, len(BODY) - 1), column=st.integers(0, len(HEADER) - 1), value=MUTANT_CELL,
       sep=st.sampled_from([",", ";", "\t"]), chunk=st.sampled_from([1, 2, 1000]))
def test_one_changed_cell_changes_only_its_own_unit(folder, unit, column, value, sep, chunk):
    ids = {nfc(row[0].strip()) for i, row in enumerate(BODY) if i != unit}
    assume(column != 0 or nfc(value.strip()) not in ids)  # another unit's id is a duplicate, which is that unit's problem
    rows = [list(r) for r in BODY]
    rows[unit][column] = value
    path = folder / "changed.csv"
    path.write_text("\n".join(sep.join(quoted(c, sep) for c in r) for r in [HEADER] + rows) + "\n", encoding="utf-8")
    units = read_both(path, chunk, grid=True)
    assert units is not None, "one changed cell stopped the whole file"
    read = [as_read(u) for u in units]
    assert len(read) == len(BASELINE)
    for i, (now, before) in enumerate(zip(read, BASELINE)):
        if i != unit:
            assert now == before, f"unit {before[0]} changed because of another unit's cell"
    changed = units[unit]
    for problem in changed.problems:
        assert (problem.line, problem.column) == (unit + 2, column + 1), problem.render()
    event("valid" if changed.valid else "invalid")


# --- 3. well-formed units read back the same, in every format ------------------------------

def _spellings(name: str, value: Any, draw) -> Any:
    """One accepted spelling of a typed value (docs/designer.md, Facts files), as text."""
    spec = CATALOGUE.facts[name]
    if isinstance(value, bool):
        return draw(st.sampled_from([("true", "false"), ("yes", "no"), ("1", "0"), ("có", "không"), ("Có", "Không"),
                                     ("TRUE", "FALSE")]))[0 if value else 1]
    if isinstance(value, datetime.date):
        return draw(st.sampled_from([value.isoformat(), value.strftime("%d/%m/%Y")]))
    if spec.type == "enum":  # a code, or its Vietnamese or English label
        label = (spec.values or {})[value]
        return draw(st.sampled_from([value, value, label.vi, label.en, unicodedata.normalize("NFD", label.vi)]))
    text = _text_of(value)
    if isinstance(value, Fraction) and draw(st.booleans()):
        text = text.replace(".", ",")  # the Vietnamese decimal comma
    if spec.type == "string" and draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)  # as some keyboards write it; read as NFC
    return text


def _native(value: Any, draw) -> Any:
    """A typed value as JSON would hold it natively (numbers, true/false), or None to spell it as text."""
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, Fraction) and draw(st.booleans()):
        return float(Decimal(value.numerator) / Decimal(value.denominator))
    return None


@st.composite
def well_formed_units(draw) -> list[dict]:
    ids = draw(st.lists(VIETNAMESE_TEXT.map(lambda s: nfc(s.strip())), min_size=1, max_size=2, unique=True))
    return [dict(draw(unit_values(CATALOGUE)), unit_id=unit_id) for unit_id in ids]


def _write_csv(path: Path, units: list[dict], draw) -> None:
    sep = draw(st.sampled_from([",", ";", "\t"]))
    columns = list(dict.fromkeys(n for u in units for n in u))
    lines = [sep.join(columns)]
    for unit in units:
        lines.append(sep.join(quoted(_spellings(n, unit[n], draw), sep) if n in unit else "" for n in columns))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    path.write_text(bom + draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n", encoding="utf-8", newline="")


def _write_json(path: Path, units: list[dict], draw) -> None:
    def value(n, v):
        native = _native(v, draw) if draw(st.booleans()) else None
        return native if native is not None else _spellings(n, v, draw)
    records = [{n: value(n, v) for n, v in unit.items()} for unit in units]
    data = {"units": records} if draw(st.booleans()) else records
    path.write_text(json.dumps(data, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2]))),
                    encoding="utf-8")


def _write_yaml(path: Path, units: list[dict], draw) -> None:
    records = [{n: (v if isinstance(v, (bool, int, datetime.date)) and draw(st.booleans()) else _spellings(n, v, draw))
                for n, v in unit.items()} for unit in units]
    data = {"units": records} if draw(st.booleans()) else records
    path.write_text(yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False,
                                   default_flow_style=draw(st.sampled_from([False, None]))), encoding="utf-8")


WRITERS = {"csv": _write_csv, "json": _write_json, "yaml": _write_yaml}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@settings(max_examples=20, suppress_health_check=BIG, **FUZZ)
@given(units=well_formed_units(), data=st.data())
def test_well_formed_units_read_back_to_the_same_typed_values(folder, fmt, units, data):
    path = folder / f"units.{fmt}"
    WRITERS[fmt](path, units, data.draw)
    read = read_both(path)
    assert read is not None, f"a well-formed {fmt} file was refused"
    assert [u.unit_id for u in read] == [u["unit_id"] for u in units]
    for unit, values in zip(read, units):
        assert unit.valid, [p.render() for p in unit.problems]
        assert {n: v for n, v in unit.values.items() if n not in unit.defaulted} == values
        for name, value in unit.values.items():
            if isinstance(value, str):
                assert unicodedata.is_normalized("NFC", value), (name, value)


# --- 4. XLSX --------------------------------------------------------------------------------

def _xlsx_text(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)  # openpyxl refuses control characters a workbook cannot hold


XLSX_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63), st.integers(0, 200),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.95, 0.5, 1.0, 0.0001, 1e20, -0.0, 2024.0]),
    SHORT_TEXT.map(_xlsx_text), st.sampled_from(ODD_SPELLINGS).map(_xlsx_text),
    st.dates(datetime.date(1900, 3, 1), datetime.date(9999, 12, 31)),
    st.datetimes(datetime.datetime(1900, 3, 1), datetime.datetime(9999, 12, 31)),
    st.times(), st.sampled_from(["=1+1", "=A1", "=SUM(A1:A3)", "=1/0", '="x"', "=NOW()", "=", "=(("]),
)
NUMBER_FORMATS = ("General", "0%", "0.00%", "0.0%", "dd/mm/yyyy", "yyyy-mm-dd", "@", "#,##0", "0.00", "h:mm", '0"%"')


@st.composite
def workbooks(draw):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = draw(st.sampled_from(["units", "Sheet", "Đơn vị"]))
    if draw(st.integers(0, 3)) == 0:
        other = book.create_sheet(draw(st.sampled_from(["units", "notes"])), index=draw(st.integers(0, 1)))
        other.append(["unit_id", "junk"])
    extra = draw(st.lists(st.sampled_from(FACT_NAMES), max_size=6, unique=True))
    header: list[Any] = list(dict.fromkeys(REQUIRED + tuple(extra)))
    header = draw(st.permutations(header))
    if draw(st.integers(0, 4)) == 0:
        header.insert(draw(st.integers(0, len(header))), draw(st.one_of(st.none(), st.integers(), st.just("unknown"),
                                                                        st.just("unit_id"), st.just("  name  "))))
    for col, name in enumerate(header, start=1):
        sheet.cell(1, col, name)
    for row in range(2, 2 + draw(st.integers(0, 4))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -2, 2]))
        for col in range(1, max(width, 0) + 1):
            name = header[col - 1] if col <= len(header) else None
            if isinstance(name, str) and name in CATALOGUE.facts and draw(st.booleans()):
                value: Any = draw(fact_value(name, CATALOGUE.facts[name]))
                value = _text_of(value) if isinstance(value, Fraction) else value
            else:
                value = draw(XLSX_VALUE)
            cell = sheet.cell(row, col, value)
            if draw(st.integers(0, 3)) == 0:
                cell.number_format = draw(st.sampled_from(NUMBER_FORMATS))
    return book


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")  # openpyxl, on a huge serial number
@settings(max_examples=50, suppress_health_check=BIG, **FUZZ)
@given(book=workbooks())
def test_any_workbook_is_read_or_refused_with_a_facts_error(folder, book):
    path = folder / "units.xlsx"
    book.save(path)
    read_both(path, grid=True)


def _small_workbook() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "units"
    for row in VALID_ROWS:
        sheet.append(row)
    sheet["B3"] = "=1+1"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SMALL_WORKBOOK = _small_workbook()


@st.composite
def damaged(draw) -> bytes:
    """The small workbook truncated, with bytes overwritten, or with one zip member's stored data replaced."""
    data = bytearray(SMALL_WORKBOOK)
    how = draw(st.sampled_from(["truncate", "flip", "member"]))
    if how == "truncate":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    with zipfile.ZipFile(io.BytesIO(SMALL_WORKBOOK)) as archive:
        info = draw(st.sampled_from(archive.infolist()))
    start = info.header_offset + 30 + int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little") \
        + int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    filler = draw(st.binary(min_size=1, max_size=info.compress_size) | st.sampled_from([b"\xff", b"\x00", b"\x03"]))
    data[start:start + info.compress_size] = (filler * info.compress_size)[:info.compress_size]
    return bytes(data)


@settings(max_examples=60, **FUZZ)
@given(data=damaged())
def test_damaged_workbooks_are_refused_with_a_facts_error(folder, data):
    path = folder / "damaged.xlsx"
    path.write_bytes(data)
    read_both(path, grid=True)


# --- 5. YAML text: facts, catalogues, rule sets ---------------------------------------------

YAML_TOKENS = ("&a ", "*a", "&b ", "*b", "[", "]", "{", "}", ":", ": ", "- ", "-", "'", '"', "\t", "\n", "  ", "    ",
               ", ", "#", "? ", "|", ">", "|-", "---\n", "...\n", "%YAML 1.1\n", "<<: ", "<<: *a", "!!str ", "!!int ",
               "!!float ", "!!bool ", "!!timestamp ", "!!binary ", "!!set ", "!!map ", "!!seq ", "!!null ", "!!omap ",
               "!!python/object:os.system ", "!local ", "null", "~", "0123", "0o17", "0x1F", "No", "off", "1:30", "1.10",
               "2024-02-30", "2024-06-30", "1e999", ".inf", ".nan", "9" * 50, "unit_id", "name", "year", "units",
               "workplace_type", "fdi", "catalogue", "criteria", "facts", "Công đoàn", "e\u0301", "\ufeff", "\x85",
               "\u2028", "\\", "@", "`", "%")


@st.composite
def yaml_text(draw) -> str:
    """YAML-ish text: tokens and bits of text; or a dumped document with tokens spliced in."""
    tokens = st.lists(st.one_of(st.sampled_from(YAML_TOKENS), SHORT_TEXT), max_size=60).map("".join)
    if draw(st.booleans()):
        return draw(tokens)
    doc = draw(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), SHORT_TEXT, st.sampled_from(FACT_NAMES)),
                            lambda kids: st.lists(kids, max_size=4)
                            | st.dictionaries(st.sampled_from(FACT_NAMES + ("units", "id")), kids, max_size=5),
                            max_leaves=20))
    text = yaml.safe_dump(doc, allow_unicode=True, default_flow_style=draw(st.sampled_from([False, None, True])))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(tokens) + text[at + draw(st.integers(0, 5)):]
    return text


def assert_loaded(result, text: str) -> None:
    located, problems = result
    assert isinstance(problems, list) and all(isinstance(p, Problem) for p in problems), problems
    if located is None:
        assert problems, "nothing loaded, and no problem said why"
    else:
        assert isinstance(located, yamlpos.Located)
    for problem in problems:
        assert problem.message.strip()
        if problem.line is not None:  # YAML breaks lines at CR, LF, NEL, LS and PS
            assert 1 <= problem.line <= sum(text.count(c) for c in "\n\r\x85\u2028\u2029") + 2, problem.render()


@settings(max_examples=120, suppress_health_check=BIG, **FUZZ)
@given(text=yaml_text())
def test_yaml_text_loads_with_its_positions_or_gives_problems(folder, text):
    for as_text in (True, False):
        outcome = attempt(lambda as_text=as_text: yamlpos.load(text, "fuzz.yaml", scalars_as_text=as_text))
        if outcome.known is None:
            assert_loaded(outcome.value, text)
    path = folder / "units.yaml"
    path.write_text(text, encoding="utf-8")
    read_both(path)
    for reader in (compile_file, load_catalogue):
        path = folder / "document.yaml"
        path.write_text(text, encoding="utf-8")
        outcome = attempt(lambda reader=reader, path=path: reader(path), RuleSetError)
        if outcome.refused:
            assert_refusal(outcome.error)


RULESET_TEXT = RULESET.read_text(encoding="utf-8").replace(
    "catalogue: ../../criteria/catalogue.yaml", "catalogue: " + (ROOT / "criteria/catalogue.yaml").as_posix())
CATALOGUE_TEXT = (ROOT / "criteria/catalogue.yaml").read_text(encoding="utf-8")
EDIT_TOKENS = YAML_TOKENS + ("(", ")", " and ", " or ", "not ", " in ", "%", ">=", "==", "0", "12", "100000", "-1",
                             "2024", "0.95", "99", "period_end", "present(", "', '", "[]", "{}", "null", "int", "enum",
                             "required", "default", "min", "max", "places")


@st.composite
def edited(draw, text: str) -> str:
    """``text`` with up to three lines edited: a span replaced, a line removed, doubled or re-indented."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["replace", "replace", "replace", "delete", "double", "indent"]))
        if how == "delete":
            del lines[i]
        elif how == "double":
            lines.insert(i, lines[i])
        elif how == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "  ", "\t"])) + lines[i].lstrip(" ")
        else:
            line = lines[i]
            at = draw(st.integers(0, max(len(line) - 1, 0)))
            cut = draw(st.integers(0, 6))
            token = draw(st.one_of(st.sampled_from(EDIT_TOKENS), st.integers(-10 ** 9, 10 ** 9).map(str), SHORT_TEXT))
            lines[i] = line[:at] + token + line[at + cut:]
    return "".join(lines)


@settings(max_examples=40, **FUZZ)
@given(text=edited(RULESET_TEXT))
def test_an_edited_rule_set_compiles_or_is_refused_with_a_rule_set_error(folder, text):
    path = folder / "ruleset-2024.1.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = attempt(lambda: compile_file(path), RuleSetError)
    if outcome.refused:
        assert_refusal(outcome.error)
        event("refused")
    elif outcome.known is None:
        event("compiled")


@settings(max_examples=30, **FUZZ)
@given(text=edited(CATALOGUE_TEXT))
def test_a_rule_set_over_an_edited_catalogue_compiles_or_is_refused(folder, text):
    (folder / "catalogue.yaml").write_text(text, encoding="utf-8")
    path = folder / "over-edited-catalogue.yaml"
    path.write_text(RULESET_TEXT.replace("catalogue: " + (ROOT / "criteria/catalogue.yaml").as_posix(),
                                         "catalogue: catalogue.yaml"), encoding="utf-8")
    for read in (lambda: load_catalogue(folder / "catalogue.yaml"), lambda: compile_file(path)):
        outcome = attempt(read, RuleSetError)
        if outcome.refused:
            assert_refusal(outcome.error)
    event("refused" if outcome.refused else "compiled" if outcome.known is None else "known crash")


# --- 6. JSON -------------------------------------------------------------------------------

JSON_TOKENS = ("[", "]", "{", "}", ":", ",", '"', '"unit_id"', '"name"', '"year"', '"workplace_type"', '"units"', "true",
               "false", "null", "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "-0", "0.1", "2024", '"2024-02-30"',
               '"fdi"', '"\\u0000"', '"\\ud800"', '"e\\u0301"', "\\", " ", "\n", "\ufeff", "9" * 50, "1" * 4400)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), SHORT_TEXT, st.sampled_from(ODD_SPELLINGS))
JSON_VALUE = st.recursive(JSON_SCALAR, lambda kids: st.lists(kids, max_size=3)
                          | st.dictionaries(st.one_of(st.sampled_from(FACT_NAMES), SHORT_TEXT), kids, max_size=4),
                          max_leaves=15)


@st.composite
def json_unit(draw) -> dict:
    unit = {name: draw(st.one_of(spelled(name), JSON_VALUE)) for name in REQUIRED if draw(st.integers(0, 9))}
    for name in draw(st.lists(st.sampled_from(FACT_NAMES), max_size=8, unique=True)):
        unit[name] = draw(st.one_of(spelled(name), cell_for(name), JSON_VALUE))
    return unit


@st.composite
def json_text(draw) -> str:
    kind = draw(st.sampled_from(["tokens", "document", "document", "nested", "huge"]))
    if kind == "tokens":
        return draw(st.lists(st.one_of(st.sampled_from(JSON_TOKENS), SHORT_TEXT), max_size=50).map("".join))
    units = draw(st.lists(json_unit(), max_size=4))
    doc = draw(st.sampled_from([units, {"units": units}, {"units": units, "extra": 1}, {"unit": units}]))
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if kind == "nested":  # the units inside many levels of lists or objects, or a fact's value that is
        depth = draw(st.sampled_from([1, 63, 64, 65, 200, 500, 800, 900, 950, 980, 1000, 1100, 5000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"units": ', "}"), ('{"a": ', "}")]))
        inner = opener * depth + "1" + closer * depth
        text = draw(st.sampled_from([opener * depth + text + closer * depth,
                                     ('[{"unit_id": "A", "name": "n", "year": 2024, "workplace_type": "fdi", '
                                      f'"members_total": {inner}}}]')]))
    elif kind == "huge":  # numbers of thousands of digits, or of huge exponents, as facts
        digits = draw(st.sampled_from([40, 41, 400, 4300, 4301, 10000]))
        number = draw(st.sampled_from(["9" * digits, "-" + "9" * digits, "1e" + "9" * min(digits, 20),
                                       "0." + "0" * digits + "1", "1" + "0" * digits + ".5"]))
        fact = draw(st.sampled_from(["members_total", "dues_due_vnd", "culture_score", "officers_trained_pct", "year",
                                     "unit_id", "name", "has_operating_rules", "established_on"]))
        unit = {"unit_id": '"A"', "name": '"n"', "year": "2024", "workplace_type": '"fdi"', fact: number}
        text = "[{" + ", ".join(f'"{k}": {v}' for k, v in unit.items()) + "}]"
    return text


@settings(max_examples=70, suppress_health_check=BIG, **FUZZ)
@given(text=json_text(), bom=st.booleans())
def test_any_json_facts_file_is_read_or_refused_with_a_facts_error(folder, text, bom):
    path = folder / "units.json"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    read_both(path)


# --- 7. conditions --------------------------------------------------------------------------

CONDITION_NAMES = FACT_NAMES + tuple(SYMBOLS[3]) + ("unknown_fact", "check.nope", "group_score.x", "a.b", "score.x")
FUNCTIONS = ("present", "date", "months_before", "months_after", "days_before", "days_after", "max", "eval", "len")
CONDITION_TOKENS = CONDITION_NAMES + FUNCTIONS + (
    "(", ")", "[", "]", ",", "'", '"', "and", "or", "not", "in", "not in", "true", "false", "True", "<", "<=", ">", ">=",
    "==", "!=", "=", "=>", "+", "-", "*", "/", "%", "!", "&", "|", ".", "0", "1", "12", "0.95", "95%", "100%", "1.5.5",
    "'2024-06-30'", "'2024-02-30'", "'signed'", "'fdi'", "'x'", "''", '""', "'excellent'", "\t", "\n", " ", "_", "é",
    "Đ", "\x00", "#", "$", "\\")


def _number_text() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 10 ** 30).map(str), st.sampled_from(["0", "1", "0.5", "95%", "12.5%", "0.333", "1000000"]),
                     st.decimals(0, 10 ** 6, places=3, allow_nan=False).map(str))


TOKEN_CONDITION = st.lists(st.one_of(st.sampled_from(CONDITION_TOKENS), _number_text()), max_size=40).flatmap(
    lambda parts: st.sampled_from([" ".join(parts), "".join(parts)]))


@st.composite
def expression(draw, depth: int = 0) -> str:
    """A condition-shaped expression: at most 7 levels of operators (about 15 of nesting), 5 items a list."""
    if depth >= 6 or draw(st.booleans()):  # each level as likely to stop as to go on: small trees, a few deep ones
        kind = draw(st.sampled_from(["name", "name", "number", "text", "bool", "call", "date"]))
        if kind == "name":
            return draw(st.sampled_from(CONDITION_NAMES))
        if kind == "number":
            return draw(_number_text())
        if kind == "text":
            return "'" + draw(st.one_of(st.sampled_from(["signed", "fdi", "none", "excellent", "2024-06-30", ""]),
                                        SHORT_TEXT.map(lambda s: s.replace("'", "")))) + "'"
        if kind == "bool":
            return draw(st.sampled_from(["true", "false"]))
        if kind == "date":
            return draw(st.sampled_from(["period_end", "period_start", "date('2024-06-30')", "date('9999-12-31')",
                                         "date('0001-01-01')", "date('2024-13-01')", "date(2024)"]))
        func = draw(st.sampled_from(FUNCTIONS))
        args = [draw(expression(depth + 1)) for _ in range(draw(st.integers(0, 3 if depth < 8 else 0)))]
        if func.endswith(("before", "after")) and draw(st.booleans()):
            args = [draw(st.sampled_from(["period_end", "period_start", "date('9999-12-31')", "established_on"])),
                    draw(st.one_of(st.integers(-10 ** 6, 10 ** 6).map(str), st.integers(0, 10 ** 20).map(str),
                                   st.sampled_from(["12", "-12", "0.5", "1 + 1", "members_total"])))]
        return f"{func}({', '.join(args)})"
    kind = draw(st.sampled_from(["compare", "compare", "logic", "not", "arith", "in", "paren", "neg"]))
    if kind == "compare":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        return f"{draw(expression(depth + 1))} {op} {draw(expression(depth + 1))}"
    if kind == "logic":
        parts = [draw(expression(depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        return f" {draw(st.sampled_from(['and', 'or']))} ".join(parts)
    if kind == "not":
        return f"not {draw(expression(depth + 1))}"
    if kind == "arith":
        return f"{draw(expression(depth + 1))} {draw(st.sampled_from(['+', '-', '*', '/']))} {draw(expression(depth + 1))}"
    if kind == "in":
        items = [draw(expression(depth + 1)) for _ in range(draw(st.integers(0, 5)))]
        return f"{draw(expression(depth + 1))} {draw(st.sampled_from(['in', 'not in']))} [{', '.join(items)}]"
    if kind == "neg":
        return f"-{draw(expression(depth + 1))}"
    return f"({draw(expression(depth + 1))})"


def assert_condition_answers(text: str, stage: int) -> None:
    """parse, then the type check of ``stage``: a tree, or the condition language's own errors with a column."""
    parsed = attempt(lambda: parse(text), ExpressionSyntaxError)
    if parsed.known:
        return
    if parsed.refused:
        error = parsed.error
        event("syntax error")
    else:
        checked = attempt(lambda: check(parsed.value, SYMBOLS[stage]), TypeProblem)
        if checked.known:
            return
        if not checked.refused:
            event("checked")
            return
        error = checked.error
        event("type problem")
    assert error.message.strip()
    assert isinstance(error.column, int) and 1 <= error.column <= len(text) + 1, (error.column, error.message)


@settings(max_examples=200, **FUZZ)
@given(text=TOKEN_CONDITION, stage=st.sampled_from([1, 2, 3]))
def test_any_text_parses_and_checks_or_raises_the_condition_errors(text, stage):
    assert_condition_answers(text, stage)


@settings(max_examples=150, **FUZZ)
@given(text=expression(), stage=st.sampled_from([1, 2, 3]))
def test_condition_shaped_text_parses_and_checks_or_raises_the_condition_errors(text, stage):
    assert_condition_answers(text, stage)


@st.composite
def deep_or_long_condition(draw) -> str:
    """Far past the parser's bounds of depth and size (it walks the tree before anything recurses into it)."""
    n = draw(st.one_of(st.integers(0, 120), st.integers(0, 1500)))
    shape = draw(st.sampled_from(["parens", "nots", "negs", "sum", "list", "and", "mixed"]))
    if shape == "parens":
        return "(" * n + "members_total > 1" + ")" * n
    if shape == "nots":
        return "not " * n + "has_operating_rules"
    if shape == "negs":
        return "-" * n + "1 < members_total"
    if shape == "sum":
        return "members_total" + " + 1" * n + " > 0"
    if shape == "list":
        return "members_total in [" + ", ".join(str(i) for i in range(n)) + "]"
    if shape == "and":
        return " and ".join(["has_operating_rules"] * (n + 1))
    return "not (" * n + "members_total >= (1 + (2 * 3))" + ")" * n


@settings(max_examples=40, **FUZZ)
@given(text=deep_or_long_condition(), stage=st.sampled_from([1, 2, 3]))
def test_deep_or_long_conditions_are_refused_with_a_syntax_error(text, stage):
    assert_condition_answers(text, stage)


# --- the crashes found, each with its smallest input, fixed ------------------------------

def test_found_a_lone_quote_inside_a_csv_cell_is_read_as_validate_reads_it(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text('unit_id,name,year,workplace_type\nA"b,n,2024,fdi\nC,n,2024,fdi\n', encoding="utf-8")
    whole = [as_read(u) for u in read_whole(path)]
    assert [u[0] for u in whole] == ['A"b', "C"]
    streamed = crash_of(lambda: read_streamed(path, chunk=1000), FactsError)
    assert [as_read(u) for u in streamed] == whole


def test_found_csv_with_cr_line_endings_is_graded_as_validate_reads_it(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(b"unit_id,name,year,workplace_type\rA,n,2024,fdi\rB,n,2024,fdi\r")
    whole = [as_read(u) for u in read_whole(path)]
    assert [u[0] for u in whole] == ["A", "B"]
    assert [as_read(u) for u in crash_of(lambda: read_streamed(path, chunk=1000), FactsError)] == whole


def _with_member_replaced(data: bytes, member: str, filler: bytes) -> bytes:
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    at = info.header_offset
    start = at + 30 + int.from_bytes(out[at + 26:at + 28], "little") + int.from_bytes(out[at + 28:at + 30], "little")
    out[start:start + info.compress_size] = (filler * info.compress_size)[:info.compress_size]
    return bytes(out)


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_found_a_workbook_with_a_damaged_compressed_part_is_refused(tmp_path, member):
    path = tmp_path / "units.xlsx"
    path.write_bytes(_with_member_replaced(SMALL_WORKBOOK, member, b"\xff"))  # 0xff: a deflate block of reserved type
    for read in (read_whole, read_streamed):
        with pytest.raises(FactsError):
            crash_of(lambda read=read: read(path), FactsError)


@pytest.mark.parametrize("text", ["!!float x: 1\n", "{!!timestamp 2024-02-30: 1}", "{!!set a: 1}",
                                  "!!python/name:os.system x: 1\n"])
def test_found_a_tagged_mapping_key_is_a_problem_at_the_key(tmp_path, text):
    _, problems = crash_of(lambda: yamlpos.load(text, "fuzz.yaml"))
    assert problems and problems[0].line == 1
    path = tmp_path / "ruleset.yaml"
    path.write_text(text + RULESET_TEXT if "{" not in text else RULESET_TEXT + "\nx: " + text + "\n", encoding="utf-8")
    with pytest.raises(RuleSetError):
        crash_of(lambda: compile_file(path), RuleSetError)


@pytest.mark.parametrize("text", ["a: !!int\n", "a: !!float\n", "a: !!bool\n", "a: !!bool maybe\n", "[!!int ]"])
def test_found_an_empty_tagged_value_is_a_problem_at_the_value(tmp_path, text):
    _, problems = crash_of(lambda: yamlpos.load(text, "fuzz.yaml"))
    assert problems and problems[0].line == 1
    path = tmp_path / "ruleset.yaml"
    path.write_text(RULESET_TEXT + ("\nx: " + text if text.startswith("[") else "\n" + text.replace("a:", "x:")),
                    encoding="utf-8")
    with pytest.raises(RuleSetError):
        crash_of(lambda: compile_file(path), RuleSetError)


@pytest.mark.parametrize("text", ["established_on >= months_before(period_end, 100000)",
                                  "established_on >= days_after(period_end, 99999999999)",
                                  "established_on >= days_after(date('9999-12-31'), 1)"])
def test_found_a_date_function_past_the_calendar_is_a_type_problem(text):
    with pytest.raises(TypeProblem):
        crash_of(lambda: check(parse(text), SYMBOLS[1]), TypeProblem)


@pytest.mark.parametrize("number", ["9" * 4301, "0." + "1" * 4301])
def test_found_a_number_of_thousands_of_digits_is_a_syntax_error(number):
    with pytest.raises((ExpressionSyntaxError, TypeProblem)):
        crash_of(lambda: check(parse(f"members_total >= {number}"), SYMBOLS[1]), ExpressionSyntaxError, TypeProblem)


@pytest.mark.parametrize("year", ["0", "10000", "99999999999999999999"])
def test_found_a_rule_set_with_an_impossible_year_is_refused(tmp_path, year):
    path = tmp_path / "ruleset.yaml"
    path.write_text(RULESET_TEXT.replace("year: 2024", f"year: {year}", 1), encoding="utf-8")
    with pytest.raises(RuleSetError):
        crash_of(lambda: compile_file(path), RuleSetError)
