"""Facts files (CSV, XLSX, YAML, JSON) → typed facts per unit, with cell positions.

A malformed cell makes that one unit invalid (its problems travel with it) and never
stops the others; a file-level problem (unreadable file, unknown column) stops the
whole file, because the column mapping itself cannot be trusted.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from engine import yamlpos
from engine.errors import FactsError, Problem, did_you_mean
from engine.limits import (COLUMNS, JSON_FACTS_BYTES, NUMBER_CHARS, NUMBER_DIGITS, ROW_CHARS, TEXT_CHARS,
                           YAML_FACTS_BYTES, size_problem)
from engine.model import Catalogue, FactSpec
from engine.nfc import in_nfc, nfc, nfc_value, typed, unit_id_of
from engine.reading.loading import display_path
from engine.values import decimal_text

TRUE_WORDS = {"true", "yes", "1", "có", "co", "x", "đúng", "đã"}
FALSE_WORDS = {"false", "no", "0", "không", "khong", "sai", "chưa"}
FORMATS = ("csv", "xlsx", "yaml", "yml", "json")


@dataclass(frozen=True)
class Cell:
    """Where a value came from: 1-based row (or record) and column."""

    line: Optional[int]
    column: Optional[int]


@dataclass
class UnitFacts:
    """One unit's facts as used: typed values, what was defaulted, and any problems."""

    unit_id: str
    position: int  # 1-based position of the unit in its file
    source: str
    where: Cell = Cell(None, None)  # the unit_id cell (its row), when the format has positions
    values: dict[str, Any] = field(default_factory=dict)
    defaulted: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)  # where each raw value was read (for audit replays)
    history: dict[str, str] = field(default_factory=dict)  # fact → the ledger record it was taken from

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class FactsFile:
    path: str
    units: list[UnitFacts]

    @property
    def problems(self) -> list[Problem]:
        return [p for u in self.units for p in u.problems]


def load_facts(path: Path, catalogue: Catalogue, year: Optional[int] = None,
               read: Optional[Table] = None) -> FactsFile:
    """Read and type every unit of a facts file; raises :class:`FactsError` for file-level problems.

    With ``year`` (the rule set's), a unit reporting another year is invalid: grading
    it under this year's rules would be wrong, whatever its facts.
    """
    shown = display_path(path)
    read = read if read is not None else read_table(path)
    header_problems = check_columns(read.columns, catalogue, shown)
    if header_problems:
        raise FactsError(header_problems)
    units = [unit_from_row(i + 1, rec, cells, catalogue, shown, year) for i, (rec, cells) in enumerate(read.rows)]
    _flag_duplicates(units)
    return FactsFile(shown, units)


@dataclass(frozen=True)
class Table:
    """A facts file read whole, before any catalogue applies: its column names, and for each row its values by
    column and where each cell is."""

    columns: list[str]
    rows: list[tuple[dict[str, Any], dict[str, "Cell"]]]


def read_table(path: Path) -> Table:
    """Every row of a small facts file at once (a corrected unit, a supplement, a file to explain); a whole
    batch is read as a :class:`Stream`."""
    stream = open_stream(path)
    return Table(stream.columns,
                 [(stream.reported(values), stream.cells(line, values, where)) for _, line, values, where in stream.rows])


@dataclass
class Stream:
    """A facts file read one unit at a time: a spreadsheet's rows are never all in memory.

    ``rows`` yields ``(index, line, values, where)``: the unit's 1-based position, its
    row in the file (None where there are no rows), its cells (a list in column order
    for CSV and XLSX, a mapping for YAML and JSON) and, for YAML, each value's position.
    """

    shown: str
    columns: list[str]
    text_only: bool  # every cell is text (CSV)
    rows: Iterator[tuple[int, Optional[int], Any, Optional[dict[str, Cell]]]]
    path: Optional[Path] = None
    csv_format: Optional[CsvFormat] = None
    texts: Optional[Any] = None  # CSV: chunks of records as written, ``texts(units per chunk)``, instead of ``rows``
    moved_years: Optional[int] = None  # another year's reports, moved by whoever types a record (:func:`as_year`)
    known: Optional[frozenset[str]] = None  # ... and the facts that year's catalogue has: the others are left out

    @property
    def facts(self) -> list[str]:
        """The columns graded."""
        return self.columns if self.known is None else [c for c in self.columns if c in self.known]

    def reported(self, values: Any) -> dict[str, Any]:
        return dict(zip(self.columns, values)) if isinstance(values, list) else values

    def cells(self, line: Optional[int], values: Any, where: Optional[dict[str, Cell]]) -> Mapping[str, Cell]:
        if where is not None:
            return where
        if isinstance(values, list):
            return GridCells(line, self.columns)
        return {k: Cell(None, None) for k in values}


class GridCells(Mapping):
    """Where each cell of a spreadsheet row is, worked out when a message needs it."""

    def __init__(self, line: Optional[int], columns: list[str]):
        self.line = line
        self.columns = columns

    def __getitem__(self, name: str) -> Cell:
        try:
            return Cell(self.line, self.columns.index(name) + 1)
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def refuse_unreadable(path: Path) -> None:
    """A facts path that is not a regular file is refused before anything opens it: a pipe would wait for ever,
    a device never end."""
    shown = display_path(path)
    if not path.exists():
        raise FactsError([Problem(shown, "no such file")])
    if path.is_dir():
        raise FactsError([Problem(shown, "this is a folder, not a facts file")])
    if not path.is_file():
        raise FactsError([Problem(shown, "not a regular file (a pipe, a socket or a device); save the facts to a file")])


def open_stream(path: Path) -> Stream:
    """A facts file opened for reading unit by unit; file-level problems raise :class:`FactsError` now."""
    shown = display_path(path)
    suffix = path.suffix.lower().lstrip(".")
    refuse_unreadable(path)
    if suffix not in FORMATS:
        raise FactsError([Problem(shown, f"unknown facts format '.{suffix}'; expected one of .csv, .xlsx, .yaml, .json")])
    try:
        stream = _READERS[suffix](path, shown)
        stream.path = path
        return stream
    except OSError as exc:
        raise FactsError([Problem(shown, f"cannot read the file: {exc.strerror or exc}")]) from None


# --- readers: each returns a Stream -----------------------------------------------------

@dataclass(frozen=True)
class CsvFormat:
    """The dialect a CSV file was sniffed to have, so that any process can read pieces of it the same way."""

    delimiter: str
    quotechar: str
    doublequote: bool
    skipinitialspace: bool
    escapechar: Optional[str]
    quoting: int

    def reader(self, lines):
        csv.field_size_limit(ROW_CHARS)  # the module's own default (131,072) would stop a file with a traceback
        return csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar, doublequote=self.doublequote,
                          skipinitialspace=self.skipinitialspace, escapechar=self.escapechar, quoting=self.quoting)

    @property
    def splittable(self) -> bool:
        """Records can be told apart by counting quotes line by line (no escape character)."""
        return self.escapechar is None and self.quoting == csv.QUOTE_MINIMAL


@dataclass(frozen=True)
class TextChunk:
    """Records of a CSV file as they are written, for another process to parse."""

    first_line: int  # the row number of the first record (the header is row 1)
    first_index: int  # the position among non-empty records of its first non-empty one
    text: str
    units: int  # how many of its records are not empty


def parse_chunk(chunk: TextChunk, fmt: CsvFormat, header: list[str], shown: str) -> list[tuple[int, int, list[str]]]:
    """(index, row number, cells) of each non-empty record of a chunk, as :func:`open_stream` reads them."""
    width = len(header)
    out = []
    index = chunk.first_index
    for n, row in _csv_rows(fmt.reader(io.StringIO(chunk.text, newline="")), chunk.first_line, shown):
        if not any(c.strip() for c in row):
            continue
        if len(row) > width:
            raise FactsError([Problem(shown, f"row {n} has {len(row)} cells but the header has {width} columns", n, width + 1)])
        if len(row) < width:
            raise _short_row(shown, n, row, header)
        # text in NFC, whatever the editor wrote (when the whole row is, each of its cells is)
        out.append((index, n, row if in_nfc("".join(row)) else [nfc(c) for c in row]))
        index += 1
    if index - chunk.first_index != chunk.units:
        raise AssertionError(f"rows {chunk.first_line}: {index - chunk.first_index} units read, {chunk.units} counted")
    return out


def _csv_format(header_line: str) -> CsvFormat:
    """The separator is sniffed from the header; quoting is always the spreadsheets' own.

    A header rarely holds a quote, so a sniffed quoting would turn off doubled quotes
    (``"Công đoàn ""Bệnh viện"" A"``) and read such a name wrongly.
    """
    try:
        dialect = csv.Sniffer().sniff(header_line, delimiters=",;\t")
        delimiter, spaces = dialect.delimiter, dialect.skipinitialspace
    except csv.Error:
        delimiter, spaces = ",", False
    return CsvFormat(delimiter, '"', True, spaces, None, csv.QUOTE_MINIMAL)


def _short_row(shown: str, n: int, row: list[str], header: list[str]) -> FactsError:
    """A row that ends early: its last facts would silently take their defaults."""
    cells = len(row)
    if row and "\n" in row[-1]:  # the rest of the file went into one quoted cell
        return _unclosed(shown, f"row {n}", n, "")
    missing = ", ".join(f"'{h}'" for h in header[cells:cells + 3]) + (", …" if len(header) - cells > 3 else "")
    return FactsError([Problem(shown, f"row {n} has {cells} cells but the header has {len(header)} columns: the cells "
                                      f"of {missing} are missing; write an empty cell for a fact not reported",
                               n, cells + 1)])


def _read_csv(path: Path, shown: str) -> Stream:
    handle = open(path, encoding="utf-8-sig", newline="")
    try:
        first = handle.readline(ROW_CHARS + 1)
    except UnicodeDecodeError as exc:
        handle.close()
        raise FactsError([Problem(shown, f"the file is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8")]) from None
    fmt = _csv_format(first.split("\n", 1)[0])
    handle.seek(0)
    if handle.read(1) != "\ufeff":
        handle.seek(0)
    lines = _lines(handle, shown)
    first_row = next(_row_texts(lines, fmt, shown, 1), None)
    if first_row is None:
        handle.close()
        raise FactsError([Problem(shown, "the file is empty; expected a header row of fact names")])
    header = [typed(h) for h in first_row[1]]

    def rows():
        index = 0
        try:
            for n, row in _csv_rows(fmt.reader(lines), 2, shown):
                if not any(c.strip() for c in row):
                    continue
                if len(row) > len(header):
                    raise FactsError([Problem(shown, f"row {n} has {len(row)} cells but the header has {len(header)} columns",
                                              n, len(header) + 1)])
                if len(row) < len(header):
                    raise _short_row(shown, n, row, header)
                index += 1
                # text in NFC, whatever the editor wrote (when the whole row is, each of its cells is)
                yield index, n, (row if in_nfc("".join(row)) else [nfc(c) for c in row]), None
        finally:
            handle.close()

    def texts(size: int) -> Iterator[TextChunk]:
        try:
            line, parts, units, first, first_index = 2, [], 0, 2, 1
            delimiter = fmt.delimiter
            for text, row in _row_texts(lines, fmt, shown, 2, cells=False):
                parts.append(text)
                if (text.replace(delimiter, "").strip() if row is None else any(c.strip() for c in row)):
                    units += 1
                line += 1
                if units == size:
                    yield TextChunk(first, first_index, "".join(parts), units)
                    first, first_index, parts, units = line, first_index + units, [], 0
            if parts:
                yield TextChunk(first, first_index, "".join(parts), units)
        finally:
            handle.close()
    return Stream(shown, header, True, _Lazy(rows), csv_format=fmt, texts=texts if fmt.splittable else None)


class _Lazy:
    """An iterator made on first use (a stream is read either row by row or in chunks of text, not both)."""

    def __init__(self, make):
        self.make = make
        self.made = None

    def __iter__(self):
        return self

    def __next__(self):
        if self.made is None:
            self.made = self.make()
        return next(self.made)


def _lines(handle, shown: str) -> Iterator[str]:
    """The file's lines, each read in bounded memory: a file of one endless line is refused, not read whole."""
    number = 0
    try:
        for line in iter(lambda: handle.readline(ROW_CHARS + 1), ""):
            number += 1
            if len(line) > ROW_CHARS:
                raise FactsError([Problem(shown, f"line {number} is longer than {ROW_CHARS:,} characters; "
                                                 "is this a CSV file of units?", number)])
            yield line
    except UnicodeDecodeError as exc:
        raise FactsError([Problem(shown, f"the file is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8")]) from None


def _row_texts(lines: Iterator[str], fmt: CsvFormat, shown: str, first: int,
               cells: bool = True) -> Iterator[tuple[str, Optional[list[str]]]]:
    """Each row's text and cells, split exactly where the CSV reader splits them (a quote inside a cell is
    text, not the start of a quoted cell), for another process to parse the text again.

    A line without a quote (or a NUL, which the reader refuses) is one whole record, its cells split at the
    separator as the reader would split them; the reader itself reads every other record, from its first line
    to its last (it never reads past a record's end).  ``cells=False``: such a line comes with None instead of
    its cells (splitting it is most of the cost, and a caller that only cuts the file into chunks needs none)."""
    quote, delimiter, spaces = fmt.quotechar, fmt.delimiter, fmt.skipinitialspace
    lines = iter(lines)
    n = first
    for line in lines:
        if quote not in line and "\0" not in line:
            if not cells:
                yield line, None
            else:
                text = line.rstrip("\r\n")
                split = text.split(delimiter) if text else []
                yield line, ([c.lstrip(" ") for c in split] if spaces else split)
        else:
            pending = [line]

            def feed(start: str = line) -> Iterator[str]:
                yield start
                for more in lines:
                    pending.append(more)
                    yield more

            _, row = next(_csv_rows(fmt.reader(feed()), n, shown))
            yield "".join(pending), row
        n += 1


def _unclosed(shown: str, where: str, line: int, how: str = f" runs past {ROW_CHARS:,} characters") -> FactsError:
    """``where``: the row (as the CSV reader counts) or the line (as the file is split) the open quote is in."""
    return FactsError([Problem(shown, f'{where}{how}: a quote (") opened there is never closed', line)])


def _csv_rows(reader, first: int, shown: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of each record; a record the CSV reader refuses is a located error."""
    n = first
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise _unclosed(shown, f"row {n}", n) from None
            raise FactsError([Problem(shown, f"row {n} cannot be read as CSV: {exc}", n)]) from None
        yield n, row
        n += 1


def _read_xlsx(path: Path, shown: str) -> Stream:
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook

    damage = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError, ParseError)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except damage as exc:
        raise FactsError([Problem(shown, f"not a readable .xlsx workbook ({type(exc).__name__})")]) from None
    try:
        sheet = book["units"] if "units" in book.sheetnames else book.worksheets[0]
        uncomputed = _uncomputed_formulas(sheet)
        cells = (tuple(_xlsx_value(c, uncomputed) for c in row) for row in sheet.iter_rows())
        first = next(cells, None)
    except damage as exc:
        book.close()
        raise FactsError([Problem(shown, f"not a readable .xlsx workbook: its sheet is damaged ({type(exc).__name__})")]) from None
    if first is None:
        book.close()
        raise FactsError([Problem(shown, "the workbook's first sheet is empty; expected a header row of fact names")])
    header = [typed(str(h)) if h is not None else "" for h in first]
    while header and header[-1] == "":
        header.pop()
    width = len(header)

    def rows():
        index, n = 0, 1
        try:
            for n, row in enumerate(cells, start=2):
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                    continue
                index += 1
                yield index, n, [nfc_value(c) for c in row[:width]], None
        except damage as exc:
            raise FactsError([Problem(shown, f"not a readable .xlsx workbook: its sheet is damaged after row {n} "
                                             f"({type(exc).__name__})", n)]) from None
        finally:
            book.close()
    return Stream(shown, header, False, rows())


class UncomputedFormula(str):
    """A workbook cell's formula that was saved without its value: no fact can be read from it."""


def _xlsx_value(cell: Any, uncomputed: dict[tuple[int, int], str]) -> Any:
    """A cell's value as the person sees it: a number shown as a percentage is that percentage.

    Excel stores 95% as 0.95; read as a number it would be 0.95 %. It is given as the
    text "95%", which a percentage fact reads as 95 and any other fact refuses. A formula
    that was never computed is refused by every fact (read as blank, the catalogue's
    default would apply without a word).
    """
    value = cell.value
    if value is None and uncomputed:
        formula = uncomputed.get((getattr(cell, "row", 0), getattr(cell, "column", 0)))
        if formula is not None:
            return UncomputedFormula(f"={formula}")
    if value.__class__ in (int, float) and "%" in (getattr(cell, "number_format", None) or ""):
        return f"{format((Decimal(repr(value)) * 100).normalize(), 'f')}%"
    return value


def _uncomputed_formulas(sheet: Any) -> dict[tuple[int, int], str]:
    """Cells holding a formula but no value, by (row, column): files written by scripts are saved uncomputed.

    The sheet's XML is scanned once more only when it holds a formula at all.
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import coordinate_to_tuple

    try:
        with sheet.parent._archive.open(sheet._worksheet_path) as raw:
            if not any(b"<f" in block or b":f" in block for block in iter(lambda: raw.read(1 << 20), b"")):
                return {}
        found: dict[tuple[int, int], str] = {}
        with sheet.parent._archive.open(sheet._worksheet_path) as raw:
            for _, element in iterparse(raw):
                if element.tag.endswith("}c"):
                    formula = next((e for e in element if e.tag.endswith("}f")), None)
                    has_value = any(e.tag.endswith("}is") or (e.tag.endswith("}v") and e.text) for e in element)
                    if formula is not None and not has_value and element.get("r"):
                        found[coordinate_to_tuple(element.get("r"))] = formula.text or ""
                    element.clear()
        return found
    except (AttributeError, KeyError, OSError):  # not the layout this was written for: nothing found, nothing lost
        return {}


def _refuse_too_large(path: Path, shown: str, limit: int, what: str) -> None:
    """A file read whole must fit its limit; a larger batch belongs in a streamed format."""
    too_large = size_problem(path, limit, what)
    if too_large:
        raise FactsError([Problem(shown, f"{too_large}; save a larger batch as CSV or XLSX, which are read as a stream")])


def _read_yaml(path: Path, shown: str):
    _refuse_too_large(path, shown, YAML_FACTS_BYTES, "YAML facts file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FactsError([Problem(shown, f"the file is not UTF-8 text (byte {exc.start})")]) from None
    located, problems = yamlpos.load(text, shown, scalars_as_text=True)  # typed by the catalogue, as CSV cells are
    if located is None or problems:
        raise FactsError(problems)
    data, prefix = located.data, ()
    if isinstance(data, dict) and "units" in data:
        data, prefix = data["units"], ("units",)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FactsError([located.problem(prefix, "expected a list of units (one mapping of fact names per unit), or 'units:' holding one")])
    records = [({str(k): v for k, v in rec.items()}, {k: Cell(*located.position(prefix + (i, k))) for k in rec})
               for i, rec in enumerate(data)]
    return Stream(shown, _columns_of(records), False,
                  ((i, None, rec, where) for i, (rec, where) in enumerate(records, start=1)))


class _Repeated(dict):
    """A JSON object that gives some key more than once (the parser would keep the last value)."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    twice = [k for k, _ in pairs if k in seen or seen.add(k)]
    repeated = _Repeated(out)
    repeated.repeated = list(dict.fromkeys(twice))
    return repeated


def _repeated_keys(data: Any, shown: str, where: str = "the file") -> None:
    """Refuse any object, at any depth, that gives a key twice: which value was meant cannot be known."""
    if isinstance(data, _Repeated):
        keys = ", ".join(f"'{k}'" for k in data.repeated)
        raise FactsError([Problem(shown, f"{where} gives {keys} more than once; keep one value for each fact")])
    if isinstance(data, dict):
        for key, value in data.items():
            _repeated_keys(value, shown, f"'{key}' of {where}" if where != "the file" else f"'{key}'")
    elif isinstance(data, list):
        for i, value in enumerate(data, start=1):
            _repeated_keys(value, shown, f"unit {i}" if where in ("the file", "'units'") else f"item {i} of {where}")


def _read_json(path: Path, shown: str):
    _refuse_too_large(path, shown, JSON_FACTS_BYTES, "JSON facts file")
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"), object_pairs_hook=_object)
    except UnicodeDecodeError as exc:
        raise FactsError([Problem(shown, f"the file is not UTF-8 text (byte {exc.start})")]) from None
    except json.JSONDecodeError as exc:
        raise FactsError([Problem(shown, f"this is not valid JSON: {exc.msg}", exc.lineno, exc.colno)]) from None
    except ValueError as exc:  # an integer of thousands of digits
        raise FactsError([Problem(shown, f"this JSON cannot be read: {exc}".split("; use sys")[0])]) from None
    except RecursionError:
        raise FactsError([Problem(shown, "this JSON is nested too deeply to be a facts file")]) from None
    _repeated_keys(data, shown)
    if isinstance(data, dict) and "units" in data:
        data = data["units"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FactsError([Problem(shown, "expected a list of units (one object of fact names per unit), or {\"units\": [...]}")])
    records = [({nfc_value(k): nfc_value(v) for k, v in rec.items()}, {k: Cell(None, None) for k in rec}) for rec in data]
    return Stream(shown, _columns_of(records), False,
                  ((i, None, rec, where) for i, (rec, where) in enumerate(records, start=1)))


def _columns_of(records) -> list[str]:
    columns: dict[str, None] = {}
    for rec, _ in records:
        columns.update(dict.fromkeys(rec))
    return list(columns)


_READERS = {"csv": _read_csv, "xlsx": _read_xlsx, "yaml": _read_yaml, "yml": _read_yaml, "json": _read_json}


def check_columns(columns: list[str], catalogue: Catalogue, shown: str) -> list[Problem]:
    """What is wrong with a file's header: a column twice, without a name, not a fact, a required one missing."""
    if len(columns) > COLUMNS:
        return [Problem(shown, f"the header has {len(columns):,} columns; at most {COLUMNS:,} are read (one per fact "
                               "of the catalogue)", 1, COLUMNS + 1)]
    problems = []
    seen = set()
    for i, name in enumerate(columns):
        if name in seen:
            problems.append(Problem(shown, f"column '{name}' appears twice", 1, i + 1))
        seen.add(name)
        if name == "":
            problems.append(Problem(shown, "a column has no name in the header", 1, i + 1))
        elif name not in catalogue.facts:
            problems.append(Problem(shown, f"unknown fact '{name}'.{did_you_mean(name, catalogue.facts)} "
                                    "Columns must be fact names from the catalogue", 1, i + 1))
    for name, spec in catalogue.facts.items():
        if spec.on_missing == "required" and name not in seen:
            problems.append(Problem(shown, f"missing column '{name}': every unit must report it", 1, None))
    if len(problems) > HEADER_PROBLEMS_SHOWN:  # a file of another kind: the first few say enough
        rest = len(problems) - HEADER_PROBLEMS_SHOWN
        problems = problems[:HEADER_PROBLEMS_SHOWN] + [Problem(shown, f"… and {rest:,} more problems in the header "
                                                                      "(is this a facts file?)", 1, None)]
    return problems


HEADER_PROBLEMS_SHOWN = 20


def unit_from_row(index: int, rec: dict, cells: dict[str, Cell], catalogue: Catalogue, shown: str,
                  year: Optional[int] = None) -> UnitFacts:
    unit_id = unit_id_of(rec) or f"#{index}"
    unit = UnitFacts(unit_id=unit_id, position=index, source=shown, where=cells.get("unit_id", Cell(None, None)),
                     raw={k: _jsonable(v) for k, v in rec.items()}, cells=dict(cells))
    for name, spec in catalogue.facts.items():
        raw = rec.get(name)
        cell = cells.get(name, Cell(None, None))
        if _blank(raw):
            if spec.on_missing == "required":
                unit.problems.append(_problem(shown, index, cell, name, f"missing value; every unit must report '{name}'"))
            elif spec.on_missing == "default":
                if spec.default is not None:
                    unit.values[name] = parse_value(spec.default, spec)
                unit.defaulted.append(name)
            continue
        try:
            unit.values[name] = parse_value(raw, spec)
        except ValueError as exc:
            unit.problems.append(_problem(shown, index, cell, name, f"{_shown_value(raw)}: {exc}"))
    reported = unit.values.get("year")
    if year is not None and reported is not None and reported != year:
        unit.problems.append(_problem(shown, index, cells.get("year", Cell(None, None)), "year",
                                      f"{reported}: this unit reports another year than the rule set's {year}; "
                                      "grade each year with its own rule set"))
    return unit


def fact_value(raw: Any, spec: FactSpec, absent: Any = None) -> Any:
    """One fact's value as :func:`unit_from_row` reads it, or ``absent`` where that unit has none (blank
    without a default, or unreadable): for reading one fact of many stored units without reading them whole."""
    if _blank(raw):
        return parse_value(spec.default, spec) if spec.on_missing == "default" and spec.default is not None else absent
    try:
        return parse_value(raw, spec)
    except ValueError:
        return absent


def _problem(shown: str, index: int, cell: Cell, name: str, message: str) -> Problem:
    if cell.line is None:
        return Problem(shown, f"unit {index}, fact '{name}': {message}")
    word = "column" if shown.lower().endswith((".csv", ".xlsx")) else "fact"
    return Problem(shown, f"{word} '{name}': {message}", cell.line, cell.column)


def _flag_duplicates(units: list[UnitFacts]) -> None:
    first: dict[str, UnitFacts] = {}
    for unit in units:
        if unit.unit_id in first:
            earlier = first[unit.unit_id]
            where = f"row {earlier.where.line}" if earlier.where.line else f"unit {earlier.position}"
            unit.problems.append(Problem(unit.source, f"column 'unit_id': '{unit.unit_id}' is given twice (first on {where}); "
                                         "each unit is graded once a year", unit.where.line, unit.where.column))
        else:
            first[unit.unit_id] = unit


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _jsonable(value: Any) -> Any:
    """The raw value as JSON keeps it: what parse_value reads back to the same fact (audit replays)."""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date().isoformat()  # a spreadsheet's date cell
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def supplement_of(extra: Table, columns: list[str], ids: list[str], shown: str,
                  extra_shown: str) -> tuple[list[str], dict[str, dict]]:
    """A second file's columns (facts a newer catalogue adds) for the same units, by unit id.

    Every unit it gives must be one of ``ids``, once, and no column may be in both files, so that no fact is
    silently taken from one file over the other."""
    extra_columns, extra_rows = extra.columns, extra.rows
    if "unit_id" not in extra_columns:
        raise FactsError([Problem(extra_shown, "no 'unit_id' column: the supplement's rows are matched to units by id", 1)])
    both = [c for c in extra_columns if c in columns and c != "unit_id"]
    if both:
        raise FactsError([Problem(extra_shown, f"column '{both[0]}' is in {shown} too; a fact must come from one file",
                                  1, extra_columns.index(both[0]) + 1)])
    by_id: dict[str, dict] = {}
    problems = []
    known = set(ids)
    for rec, cells in extra_rows:
        unit_id = unit_id_of(rec)
        where = cells.get("unit_id", Cell(None, None))
        if unit_id in by_id:
            problems.append(Problem(extra_shown, f"unit '{unit_id}' appears twice", where.line, where.column))
        elif unit_id not in known:
            problems.append(Problem(extra_shown, f"unit '{unit_id}' is not in {shown}", where.line, where.column))
        by_id[unit_id] = rec
    if problems:
        raise FactsError(problems)
    return [c for c in extra_columns if c != "unit_id"], by_id


def as_year(stream: Stream, catalogue: Catalogue, years: int, supplement: Optional[tuple[list[str], dict[str, dict]]] = None
            ) -> Stream:
    """The same units read under another year's catalogue, unit by unit: columns it does not know (facts of the
    other year) left out, and the year and every date moved by ``years`` (:func:`moved_row`).

    A CSV file stays in chunks of text: the processes that type its records move them (:func:`moved_row`),
    in parallel, as they would any other year's; with a supplement, records are merged and moved here."""
    if supplement is None and stream.texts is not None:
        return replace(stream, text_only=False, moved_years=years, known=frozenset(catalogue.facts))
    added, by_id = supplement if supplement is not None else ([], {})
    columns = [c for c in stream.columns + added if c in catalogue.facts]
    known, moving = set(catalogue.facts), moving_facts(catalogue)

    def rows():
        for index, line, values, where in stream.rows:
            rec = stream.reported(values)
            cells = stream.cells(line, values, where)  # a row's cells are placed when a message needs them
            if added:
                unit_id = unit_id_of(rec)
                extra = by_id.get(unit_id, {})
                rec = {**rec, **{c: extra.get(c) for c in added}}
                cells = {**cells, **{c: Cell(None, None) for c in added}}
            rec = moved_row({k: v for k, v in rec.items() if k in known}, years, catalogue, moving)
            yield index, line, rec, cells
    return Stream(stream.shown, columns, False, rows(), stream.path)


def moved_row(rec: dict, years: int, catalogue: Catalogue, moving: Optional[tuple[str, ...]] = None) -> dict:
    """The same report ``years`` later: its ``year`` and every date fact move, nothing else.

    Used to grade one year's units under another year's rules (test cases inherited
    from the parent year, the impact of a new rule set), where a unit established
    "six months before the year's end" must stay so.  A value that does not read as a
    date is left as written, for the facts reader to report.  ``moving``: the
    :func:`moving_facts` of the catalogue, when a caller moves many records.
    """
    if not years:
        return dict(rec)
    out = dict(rec)
    for name in moving if moving is not None else moving_facts(catalogue):
        raw = rec.get(name)
        if raw is None or _blank(raw):
            continue
        spec = catalogue.facts[name]
        try:
            if name == "year":
                out[name] = parse_value(raw, spec) + years
            elif spec.type == "date":
                out[name] = _add_years(parse_value(raw, spec), years)
        except (ValueError, TypeError):
            continue
    return out


def moving_facts(catalogue: Catalogue) -> tuple[str, ...]:
    """The facts a report moves by when read as another year's: its year and its dates."""
    return tuple(name for name, spec in catalogue.facts.items() if name == "year" or spec.type == "date")


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def parse_value(raw: Any, spec: FactSpec) -> Any:
    """One raw cell → the fact's typed value; ``ValueError`` says what was expected."""
    if isinstance(raw, UncomputedFormula):
        raise ValueError("a formula saved without its computed value (by a program that does not compute formulas); "
                         "open and save the file in a spreadsheet program, or write the value")
    kind = spec.type
    if kind == "string":
        text = str(raw).strip()
        if len(text) > TEXT_CHARS:
            raise ValueError(f"a text of {len(text):,} characters; expected at most {TEXT_CHARS}")
        return nfc(text)
    if kind == "bool":
        return _bool(raw)
    if kind == "enum":
        return _enum(raw, spec)
    if kind == "date":
        return _date(raw)
    if kind in ("int", "vnd"):
        value: Any = _integer(raw, kind)
    else:
        value = _decimal(raw, spec)
    low, high = spec.bounds
    if low is not None and value < low:
        raise ValueError(f"below the allowed range; expected at least {decimal_text(low)}")
    if high is not None and value > high:
        raise ValueError(f"above the allowed range; expected at most {decimal_text(high)}")
    return value


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("expected true or false (also yes/no, 1/0, có/không)")


def _enum(raw: Any, spec: FactSpec) -> str:
    values = spec.values or {}
    text = typed(str(raw))
    if text in values:
        return text
    folded = text.casefold()
    for code, label in values.items():  # a Vietnamese or English label is accepted for its code
        if folded in (label.vi.casefold(), label.en.casefold()):
            return code
    raise ValueError(f"not an allowed value.{did_you_mean(text, values)} Expected one of {sorted(values)}")


def _date(raw: Any) -> datetime.date:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = str(raw).strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    if "T" in text:  # a spreadsheet date-time, as JSON writes it
        try:
            return datetime.datetime.fromisoformat(text).date()
        except ValueError:
            pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)  # Vietnamese day/month/year
    if match:
        try:
            return datetime.date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            pass
    raise ValueError("not a date; expected YYYY-MM-DD (or DD/MM/YYYY)")


def _integer(raw: Any, kind: str) -> int:
    what = "a whole number of VND (no decimals, no thousands separators)" if kind == "vnd" else "a whole number"
    if isinstance(raw, bool):
        raise ValueError(f"expected {what}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise ValueError(f"expected {what}")
    text = str(raw).strip()
    _not_too_long(text)
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if kind == "vnd" and re.fullmatch(r"\d{1,3}([.,  ]\d{3})+", text):
        raise ValueError(f"expected {what}; write {re.sub(r'[^0-9]', '', text)} without separators")
    raise ValueError(f"expected {what}")


def _not_too_long(text: str) -> None:
    if len(text) > NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} characters; expected at most {NUMBER_CHARS}")


def _decimal(raw: Any, spec: FactSpec) -> Fraction | int:
    if isinstance(raw, bool):
        raise ValueError("expected a number")
    text = repr(raw) if isinstance(raw, float) else str(raw).strip()
    _not_too_long(text)
    if re.fullmatch(r"[+-]?\d+,\d+", text):  # Vietnamese decimal comma
        text = text.replace(",", ".")
    text = text.rstrip("%").strip() if spec.type == "percentage" else text
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"expected a number{' from 0 to 100' if spec.type == 'percentage' else ''}") from None
    if not value.is_finite():
        raise ValueError("expected a finite number")
    if value and not -NUMBER_DIGITS <= value.adjusted() <= NUMBER_DIGITS:
        raise ValueError(f"expected a number between 10^-{NUMBER_DIGITS} and 10^{NUMBER_DIGITS}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > spec.scale:
        raise ValueError(f"at most {spec.scale} decimal places are kept; round the value")
    result = Fraction(value)
    return int(result) if result.denominator == 1 else result


# --- integer forms, and reading many units fast --------------------------------------------

def to_integer(spec: FactSpec, value: Any) -> Any:
    """A typed fact → its integer form (see :mod:`engine.compiling.integers`): 1/0, a day number, value × 10^scale."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, datetime.date):
        return value.toordinal()
    if isinstance(value, int):
        return value * 10 ** spec.scale if spec.scale else value
    if isinstance(value, Fraction):
        scaled = value * 10 ** spec.scale
        if scaled.denominator != 1:
            raise ValueError(f"{value} has more decimal places than its scale")
        return int(scaled)
    return value


def from_integer(spec: FactSpec, value: Any) -> Any:
    """The integer form of a fact → the typed value :func:`parse_value` gives for it."""
    kind = spec.type
    if kind == "bool":
        return value == 1
    if kind == "date":
        return datetime.date.fromordinal(value)
    if kind in ("decimal", "percentage") and spec.scale:
        exact = Fraction(value, 10 ** spec.scale)
        return int(exact) if exact.denominator == 1 else exact
    return value


@dataclass
class Reported:
    """One unit of a batch as read: its facts in integer form, what was defaulted, any problems."""

    index: int  # 1-based position of the unit in its file
    unit_id: str
    source: str
    where: Cell
    engine: dict[str, Any]
    defaulted: list[str]
    raw: dict[str, Any]
    cells: dict[str, Cell]
    problems: list[Problem] = field(default_factory=list)
    history: dict[str, str] = field(default_factory=dict)

    def unit_facts(self, catalogue: Catalogue) -> UnitFacts:
        """The same unit with typed values, for what reads exact numbers and dates (an explanation)."""
        facts = catalogue.facts
        values = {name: from_integer(facts[name], v) for name, v in self.engine.items()}
        return UnitFacts(self.unit_id, self.index, self.source, self.where, values, list(self.defaulted), self.raw,
                         list(self.problems), self.cells, dict(self.history))


class Typist:
    """Types the cells of many units, as :func:`unit_from_row` does, into integer forms.

    The usual spelling of each fact (digits, an ISO date, an allowed code) is read by
    straight-line code written once per catalogue from its own numbers, codes and
    names (``repr``, never a cell's text); any other spelling goes through
    :func:`parse_value`, so that what is accepted, and every message, is exactly what a
    single unit gets.
    """

    def __init__(self, catalogue: Catalogue, year: Optional[int] = None, text_only: bool = False):
        """``text_only``: every cell is text (a CSV file), so a record is kept as it was read."""
        self.year = year
        self.text_only = text_only
        self.specs = dict(catalogue.facts)
        self._read = self._compile()

    def _compile(self):
        namespace: dict[str, Any] = {"__builtins__": {}, "str": str, "int": int, "len": len, "ValueError": ValueError}
        lines = ["def read(rec, slow, missing):", "    e = {}", "    d = []", "    get = rec.get"]
        for n, (name, spec) in enumerate(self.specs.items()):
            key = repr(name)
            lines += [f"    r = get({key})",
                      "    if r is None or r.__class__ is str and (not r or r.isspace()):"]
            if spec.on_missing == "required":
                lines.append(f"        missing({key})")
            elif spec.on_missing == "default":
                if spec.default is not None:
                    lines.append(f"        e[{key}] = {to_integer(spec, parse_value(spec.default, spec))!r}")
                lines.append(f"        d.append({key})")
            else:
                lines.append("        pass")
            lines += self._fast(spec, key, f"c{n}", namespace)
        lines.append("    return e, d")
        exec(compile("\n".join(lines), "<typist>", "exec"), namespace)  # noqa: S102
        return namespace["read"]

    @staticmethod
    def _fast(spec: FactSpec, key: str, constant: str, namespace: dict) -> list[str]:
        """The branch reading one fact's usual spelling, falling back to ``slow``."""
        kind = spec.type
        low, high = spec.bounds
        slow = ["    else:", f"        slow(e, {key}, r)"]
        if kind in ("int", "vnd"):
            least, most = int(low), int(high)
            return [f"    elif r.__class__ is str and len(r) < 20 and r.isascii() and r.isdigit() and {least!r} <= (x := int(r)) <= {most!r}:",
                    f"        e[{key}] = x"] + slow
        if kind == "enum":
            namespace[constant] = frozenset(spec.values or {})
            return [f"    elif r.__class__ is str and r in {constant}:", f"        e[{key}] = r"] + slow
        if kind == "bool":
            namespace[constant] = {**{w: 1 for w in TRUE_WORDS}, **{w: 0 for w in FALSE_WORDS}}
            return [f"    elif r.__class__ is str and (x := {constant}.get(r)) is not None:", f"        e[{key}] = x"] + slow
        if kind == "string":  # as parse_value reads a text: stripped, in NFC
            namespace["nfc"] = nfc
            return [f"    elif r.__class__ is str and len(r) <= {TEXT_CHARS!r}:",
                    f"        e[{key}] = nfc(r.strip())"] + slow
        namespace[constant] = _fast_reader(spec)  # dates and decimals: a reader that raises for anything unusual
        return ["    else:", "        try:", f"            e[{key}] = {constant}(r)",
                "        except ValueError:", f"            slow(e, {key}, r)"]

    def unit(self, index: int, rec: dict, cells: dict[str, Cell], shown: str) -> Reported:
        unit_id = unit_id_of(rec) or f"#{index}"
        problems: list[Problem] = []
        specs = self.specs

        def slow(engine: dict, name: str, raw: Any) -> None:
            try:
                engine[name] = to_integer(specs[name], parse_value(raw, specs[name]))
            except ValueError as exc:
                problems.append(_problem(shown, index, cells.get(name, _NOWHERE), name, f"{_shown_value(raw)}: {exc}"))

        def missing(name: str) -> None:
            problems.append(_problem(shown, index, cells.get(name, _NOWHERE), name,
                                     f"missing value; every unit must report '{name}'"))

        engine, defaulted = self._read(rec, slow, missing)
        reported = engine.get("year")
        if self.year is not None and reported is not None and reported != self.year:
            problems.append(_problem(shown, index, cells.get("year", _NOWHERE), "year",
                                     f"{reported}: this unit reports another year than the rule set's {self.year}; "
                                     "grade each year with its own rule set"))
        raw_row = dict(rec) if self.text_only else {k: (v if v.__class__ is str else _jsonable(v)) for k, v in rec.items()}
        return Reported(index, unit_id, shown, cells.get("unit_id", _NOWHERE), engine, defaulted, raw_row, cells,
                        problems)


_NOWHERE = Cell(None, None)


def _shown_value(raw: Any) -> str:
    """The value as written, cut in the middle when it is too long to read in one line."""
    text = repr(raw)
    return text if len(text) <= 60 else f"{text[:40]}…{text[-12:]} ({len(str(raw)):,} characters)"
_ASCII_DIGITS = frozenset("0123456789")


def _fast_reader(spec: FactSpec):
    """A reader of the usual spelling of a date, decimal or percentage fact, raising ValueError for anything else
    (:meth:`Typist._fast` writes the other kinds' usual spellings inline)."""
    kind = spec.type
    low, high = spec.bounds
    scale = spec.scale
    if kind == "date":
        def day(raw):
            if raw.__class__ is not str or len(raw) != 10:
                raise ValueError
            return datetime.date.fromisoformat(raw).toordinal()
        return day
    least, most = int(low * 10 ** scale), int(high * 10 ** scale)

    def scaled(raw):  # decimal, percentage: digits, a point, at most `scale` decimals
        if raw.__class__ is not str or not raw.isascii():
            raise ValueError
        whole_part, point, fraction = raw.partition(".")
        if not whole_part.isdigit() or (point and (not fraction.isdigit() or len(fraction) > scale)):
            raise ValueError
        value = int(whole_part + fraction.ljust(scale, "0")) if scale else int(whole_part)
        if not least <= value <= most:
            raise ValueError
        return value
    return scaled




def years_in(path: Path) -> list[int]:
    """The distinct years a facts file reports, read unit by unit, before any catalogue is chosen."""
    stream = open_stream(path)
    years = set()
    for _, _, values, _ in stream.rows:
        try:
            years.add(_integer(stream.reported(values).get("year"), "int"))
        except (ValueError, TypeError):
            continue
    return sorted(years)


def ids_in(path: Path) -> list[str]:
    """The unit ids a facts file gives (for a "did you mean")."""
    stream = open_stream(path)
    return [unit_id_of(stream.reported(values))
            for _, _, values, _ in stream.rows]
