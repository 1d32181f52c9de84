"""Result documents → what people read: a table, an explanation, CSV, XLSX, JSON.

One function per format; each takes the JSON-ready document built by
:mod:`engine.explaining.explain` (or :mod:`engine.authoring.coverage`), so every format shows the same thing.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from tabulate import tabulate

from engine.errors import CannotWrite
from engine.model import GRADE_LABELS
from engine.values import points_text

WORDS = {
    "vi": {"unit": "Mã đơn vị", "name": "Tên", "type": "Loại hình", "score": "Điểm", "grade": "Xếp loại",
           "cultural_unit": "Đơn vị văn hóa", "finance": "Tự kiểm tra tài chính", "reason": "Lý do chính",
           "yes": "Đạt", "no": "Không", "unknown": "Chưa rõ", "pass": "Đạt", "fail": "Không đạt",
           "not_graded": "Chưa xếp loại", "invalid": "Không hợp lệ", "true": "đúng", "false": "sai", "missing": "thiếu",
           "held": "đạt", "not_held": "không đạt", "status": "Trạng thái", "findings": "Phát hiện", "quota": "Hạn mức"},
    "en": {"unit": "Unit", "name": "Name", "type": "Type", "score": "Score", "grade": "Grade",
           "cultural_unit": "Cultural unit", "finance": "Financial self-audit", "reason": "Main reason",
           "yes": "Yes", "no": "No", "unknown": "Unknown", "pass": "Pass", "fail": "Fail",
           "not_graded": "Not graded", "invalid": "Invalid", "true": "true", "false": "false", "missing": "missing",
           "held": "held", "not_held": "not held", "status": "Status", "findings": "Findings", "quota": "Quota"},
}
MARK = {"held": "✓", "not_held": "✗", "unknown": "?"}
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def fmt(value: Any, lang: str) -> str:
    """Numbers the way a reader of ``lang`` writes them (1.200.000 and 87,5 in Vietnamese)."""
    w = WORDS[lang]
    if value is None:
        return f"({w['missing']})"
    if isinstance(value, bool):
        return w["true"] if value else w["false"]
    if isinstance(value, int):
        text = f"{value:,}"
        return text.replace(",", ".") if lang == "vi" else text
    if isinstance(value, float):
        whole, _, frac = repr(value).partition(".")
        head = fmt(int(whole), lang) if whole not in ("-0",) else "-0"
        return head + ("," if lang == "vi" else ".") + frac
    return str(value)


def grade_word(result: dict, lang: str) -> str:
    if result["status"] == "graded":
        return GRADE_LABELS[result["grade"]][lang]
    return WORDS[lang][result["status"]]


def _yes_no(value: Optional[bool], lang: str) -> str:
    w = WORDS[lang]
    return w["unknown"] if value is None else (w["yes"] if value else w["no"])


def _verdict(value: Optional[str], lang: str) -> str:
    return WORDS[lang]["unknown"] if value is None else WORDS[lang][value]


def _type_label(result: dict, catalogue_values: dict, lang: str) -> str:
    code = result.get("workplace_type")
    label = catalogue_values.get(code)
    return label[lang] if label else str(code or "")


def row(r: dict, lang: str, type_labels: dict) -> list[str]:
    """One result as a row of the table people read (and of the workbook's results sheet)."""
    reasons = r["reasons"]
    return [r["unit_id"], r["name"] or "", _type_label(r, type_labels, lang),
            fmt(r["score"], lang) if r["score"] is not None else "",
            grade_word(r, lang), _yes_no(r["titles"].get("cultural_unit"), lang),
            _verdict(r["financial_audit"]["verdict"], lang),
            reasons[0]["message"] if reasons else ""]


def rows(doc: dict, lang: str, type_labels: dict) -> list[list[Any]]:
    return [row(r, lang, type_labels) for r in doc["results"]]


def headers(lang: str) -> list[str]:
    w = WORDS[lang]
    return [w["unit"], w["name"], w["type"], w["score"], w["grade"], w["cultural_unit"], w["finance"], w["reason"]]


def title(ruleset: dict, lang: str) -> str:
    return (f"Bộ tiêu chí {ruleset['id']} phiên bản {ruleset['version']} (sha256 {ruleset['sha256'][:12]})" if lang == "vi"
            else f"Rule set {ruleset['id']} version {ruleset['version']} (sha256 {ruleset['sha256'][:12]})")


def table(doc: dict, lang: str, type_labels: dict) -> str:
    body = tabulate(rows(doc, lang, type_labels), headers=headers(lang), tablefmt="simple", disable_numparse=True)
    counts = Counter(r["grade"] if r["status"] == "graded" else r["status"] for r in doc["results"])
    return f"{title(doc['ruleset'], lang)}\n\n{body}\n\n{summary(counts, lang)}\n"


def summary(counts: Mapping[str, int], lang: str) -> str:
    """``60 units — Excellent: 7; Good: 32; …`` from the number of results of each grade or status."""
    order = ["excellent", "good", "completed", "not_completed", "not_graded", "invalid"]
    parts = []
    for key in order:
        if counts.get(key):
            label = GRADE_LABELS[key][lang] if key in GRADE_LABELS else WORDS[lang][key]
            parts.append(f"{label}: {counts[key]}")
    total = sum(counts.values())
    return (f"Tổng số {total} đơn vị — " if lang == "vi" else f"{total} units — ") + "; ".join(parts)


def to_json(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = ["unit_id", "name", "year", "workplace_type", "status", "grade", "score", "cultural_unit",
               "financial_verdict", "findings", "quota", "main_reason", "ruleset_version"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: Optional[str]) -> Optional[str]:
    """Text a spreadsheet would run as a formula (``=HYPERLINK(…)``), given a leading apostrophe (OWASP's advice)."""
    return "'" + text if text and text.startswith(FORMULA_STARTS) else text


def flat_row(r: dict) -> list[Any]:
    """One result as codes and numbers (the CSV, the workbook's codes sheet); a unit's own text made inert."""
    q = r["quota"]
    quota = "" if q is None else (f"kept {q['rank']}/{q['candidates']} of {q['allowed']}" if q["kept"]
                                  else f"demoted {q['rank']}/{q['candidates']} of {q['allowed']}")
    return [inert(r["unit_id"]), inert(r["name"]), r["year"], r["workplace_type"], r["status"], r["grade"] or "",
            "" if r["score"] is None else r["score"],
            "" if r["titles"].get("cultural_unit") is None else str(r["titles"]["cultural_unit"]).lower(),
            r["financial_audit"]["verdict"] or "",
            "; ".join(f["check"] for f in r["financial_audit"]["findings"]), quota,
            r["reasons"][0]["message"] if r["reasons"] else "", r["ruleset_version"]]


def flat(doc: dict) -> list[list[Any]]:
    return [flat_row(r) for r in doc["results"]]


def to_csv(doc: dict) -> str:
    return csv_lines([CSV_COLUMNS]) + csv_lines(flat(doc))


def csv_lines(rows_: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows_)
    return buffer.getvalue()


class CsvLine:
    """One row's CSV text at a time, through one writer kept for the purpose (making a writer costs more than
    writing a row)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def __call__(self, values: list[Any]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(values)
        return self._buffer.getvalue()


def write_xlsx(doc: dict, path: Path, lang: str, type_labels: dict) -> None:
    """A workbook committees can open: results in the reader's language, the codes, the rule set."""
    with XlsxWriter(path, doc["ruleset"], doc["engine"]["version"], lang) as book:
        for r in doc["results"]:
            book.write((row(r, lang, type_labels), flat_row(r)))


# --- writers that take one result at a time ----------------------------------------------------

class Output:
    """A text output written whole or not at all: to a temporary file beside the target, renamed when complete."""

    def __init__(self, path: Optional[Path]):
        self.path = path
        self.handle = None
        self.temporary: Optional[Path] = None

    def __enter__(self) -> "Output":
        if self.path is None:
            self.handle = sys.stdout
        else:
            self.temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
            try:
                self.handle = open(self.temporary, "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise CannotWrite(str(self.path), exc) from None
        return self

    def write(self, text: str) -> None:
        try:
            self.handle.write(text)
        except BrokenPipeError:  # the reader stopped reading (| head): not a failure to report
            raise
        except OSError as exc:
            raise CannotWrite(str(self.path or "standard output"), exc) from None

    def __exit__(self, kind, value, traceback) -> None:
        if self.path is None:
            self.handle.flush()
            return
        try:
            self.handle.close()
            if kind is None:
                os.replace(self.temporary, self.path)
        except OSError as exc:
            raise CannotWrite(str(self.path), exc) from None
        finally:
            self.temporary.unlink(missing_ok=True)


class CsvWriter:
    def __init__(self, out: Output):
        self.out = out
        out.write(csv_lines([CSV_COLUMNS]))

    def write(self, line: str) -> None:
        self.out.write(line)

    def end(self, counts: Mapping[str, int]) -> None:
        pass


class JsonlWriter(CsvWriter):
    def __init__(self, out: Output):
        self.out = out


class JsonWriter:
    """The JSON document ``to_json`` writes (``{**head, key: [items], **tail}``, as ``json.dumps(…, indent=2)``
    writes it), its items written one by one as they come: a long list is never held whole."""

    def __init__(self, out: Output, head: dict, key: str = "results", tail: Optional[dict] = None):
        self.out = out
        marker = "\x00items\x00"  # a value no document holds: where the list goes
        opening, closing = json.dumps({**head, key: marker, **(tail or {})}, ensure_ascii=False,
                                      indent=2).split(json.dumps(marker), 1)
        self.closing = "]" + closing + "\n"  # ']', what follows the list, and the final newline
        self.first = True
        out.write(opening + "[")

    def write(self, item: str) -> None:
        self.out.write(("\n" if self.first else ",\n") + item)
        self.first = False

    def end(self, counts: Mapping[str, int]) -> None:
        self.out.write(self.closing if self.first else "\n  " + self.closing)


def json_item(result: dict) -> str:
    """One result as it stands inside the document's ``results`` list (indented two levels)."""
    return "    " + json.dumps(result, ensure_ascii=False, indent=2).replace("\n", "\n    ")


def jsonl_line(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n"


class SimpleTable:
    """tabulate's "simple" layout with numbers left as text, for rows seen twice (once to measure, once to write),
    so that a long table is never held whole: each cell stripped and left-aligned, columns at least two wider than
    their header, two spaces between them, trailing spaces removed (checked against tabulate itself)."""

    def __init__(self, names: list[str]):
        self.names = names
        self.widths = [len(h) + 2 for h in names]

    def observe(self, cells: list[str]) -> None:
        for i, cell in enumerate(cells):
            width = len(_table_cell(cell))
            if width > self.widths[i]:
                self.widths[i] = width

    def head(self) -> str:
        return ("  ".join(h.ljust(w) for h, w in zip(self.names, self.widths)).rstrip() + "\n"
                + "  ".join("-" * w for w in self.widths) + "\n")

    def row(self, cells: list[str]) -> str:
        return "  ".join(_table_cell(c).ljust(w) for c, w in zip(cells, self.widths)).rstrip() + "\n"


class TableWriter(SimpleTable):
    """The table ``table`` prints, column widths measured as rows are graded, rows written after."""

    def __init__(self, lang: str):
        super().__init__(headers(lang))
        self.lang = lang

    def begin(self, out: Output, ruleset: dict) -> None:
        self.out = out
        out.write(f"{title(ruleset, self.lang)}\n\n" + self.head())

    def write(self, cells: list[str]) -> None:
        self.out.write(self.row(cells))

    def end(self, counts: Mapping[str, int]) -> None:
        self.out.write(f"\n{summary(counts, self.lang)}\n")


def _table_cell(cell: str) -> str:
    """A cell on one line: a line break or another control character inside it would break the table."""
    text = cell.strip()
    if not text.isprintable():
        text = "".join(c if c.isprintable() or c == "\t" else " " for c in text).strip()
    return text


class XlsxWriter:
    """The workbook ``write_xlsx`` writes, streamed row by row (openpyxl's write-only mode)."""

    def __init__(self, path: Path, ruleset: dict, engine_version: str, lang: str):
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.path = path
        self.book = Workbook(write_only=True)
        self.results = self.book.create_sheet("results")
        bold = []
        for name in headers(lang):
            cell = WriteOnlyCell(self.results, value=name)
            cell.font = Font(bold=True)
            bold.append(cell)
        self.results.append(bold)
        self.codes = self.book.create_sheet("codes")
        self.codes.append(CSV_COLUMNS)
        self.meta = [[key, ruleset[key]] for key in ("id", "version", "year", "sha256")] + [["engine", engine_version]]
        self.rows = 1

    def __enter__(self) -> "XlsxWriter":
        return self

    def write(self, payload: tuple[list, list]) -> None:
        shown, codes = payload
        self.results.append([self._text(v) if isinstance(v, str) and v.startswith("=") else v for v in shown])
        self.codes.append(codes)
        self.rows += 1

    def _text(self, value: str):
        """A cell that shows the text as written: openpyxl would store it as a formula."""
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.results, value=value)
        cell.data_type = "s"
        return cell

    def end(self, counts: Mapping[str, int]) -> None:
        pass

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            return
        meta = self.book.create_sheet("ruleset")
        for line in self.meta:
            meta.append(line)
        self.book.properties.creator = "cdcs"
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        from openpyxl.utils import get_column_letter

        # a sheet written row by row does not know its size in advance: declare it as openpyxl otherwise does
        extents = {"xl/worksheets/sheet1.xml": f"A1:{get_column_letter(len(headers('vi')))}{self.rows}",
                   "xl/worksheets/sheet2.xml": f"A1:{get_column_letter(len(CSV_COLUMNS))}{self.rows}",
                   "xl/worksheets/sheet3.xml": f"A1:B{len(self.meta)}"}
        try:
            write_workbook(self.book, temporary, datetime.datetime(2000, 1, 1), extents)
            os.replace(temporary, self.path)
        except OSError as exc:
            raise CannotWrite(str(self.path), exc) from None
        finally:
            temporary.unlink(missing_ok=True)


def workbook_bytes(book, stamp: datetime.datetime) -> bytes:
    """The workbook as bytes that depend on its content only (see :func:`write_workbook`)."""
    buffer = io.BytesIO()
    _write_workbook(book, buffer, stamp)
    return buffer.getvalue()


def write_workbook(book, path: Path, stamp: datetime.datetime, extents: Optional[dict[str, str]] = None) -> None:
    with open(path, "wb") as out:
        _write_workbook(book, out, stamp, extents or {})


def _write_workbook(book, out, stamp: datetime.datetime, extents: Optional[dict[str, str]] = None) -> None:
    """openpyxl's ``save()`` stamps "modified" with the clock and every zip entry carries the
    time it was written; write through ``ExcelWriter``, then re-pack the archive entry by entry
    with one fixed timestamp, so the same content always gives the same bytes."""
    import shutil
    import tempfile
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    book.properties.created = stamp
    book.properties.modified = stamp
    with tempfile.TemporaryFile() as first:
        with zipfile.ZipFile(first, "w", zipfile.ZIP_DEFLATED) as archive:
            ExcelWriter(book, archive).save()
        first.seek(0)
        with zipfile.ZipFile(first) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                info = zipfile.ZipInfo(item.filename, date_time=stamp.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with source.open(item) as reading, target.open(info, "w") as writing:
                    if item.filename in (extents or {}):
                        head = reading.read(1 << 16)
                        head = head.replace(b"</sheetPr>", f'</sheetPr><dimension ref="{extents[item.filename]}" />'.encode(), 1)
                        writing.write(head)
                    shutil.copyfileobj(reading, writing, 1 << 20)


# --- explanation as text ------------------------------------------------------------

def explain_text(result: dict, ruleset: dict, lang: str, type_labels: dict) -> str:
    w = WORDS[lang]
    vi = lang == "vi"
    e = result["explanation"]
    counter = iter(range(1, 100))

    def _n() -> str:  # sections are numbered as they appear: some units have no quota section
        return f"{next(counter)}. "

    lines = [f"{result['unit_id']} — {result['name']} ({_type_label(result, type_labels, lang)}), {result['year']}",
             (f"Bộ tiêu chí {ruleset['id']} phiên bản {ruleset['version']}, sha256 {ruleset['sha256']}" if vi
              else f"Rule set {ruleset['id']} version {ruleset['version']}, sha256 {ruleset['sha256']}")]
    score = "" if result["score"] is None else (f" — {fmt(result['score'], lang)} điểm" if vi else f" — {fmt(result['score'], lang)} points")
    lines.append(("Kết quả: " if vi else "Result: ") + grade_word(result, lang) + score)
    if "problems" in e:
        lines.append("")
        lines += ["  " + p for p in e["problems"]]
        return "\n".join(lines) + "\n"
    lines.append("")
    lines.append((_n() + "Điều kiện xếp loại: " if vi else _n() + "Eligibility: ") + w[e["eligibility"]["outcome"]] if e["eligibility"]["outcome"] != "unknown" else (_n() + "Điều kiện xếp loại: chưa rõ" if vi else _n() + "Eligibility: unknown"))
    for req in e["eligibility"]["requirements"]:
        lines += _condition_lines(req, lang, 3)
    lines.append("")
    total = fmt(e["score"], lang) if e["score"] is not None else "?"
    lines.append((_n() + f"Tiêu chí: {total} điểm" if vi else _n() + f"Criteria: {total} points"))
    for group in e["groups"]:
        gscore = fmt(group["score"], lang) if group["score"] is not None else "?"
        lines.append(f"   {group['label']}: {gscore}/{group['max_points']}")
        for c in (c for c in e["criteria"] if c["group"] == group["id"] and c["applies"]):
            points = fmt(c["points"], lang) if c["points"] is not None else "?"
            mark = "?" if c["points"] is None else ("✓" if c["points"] == c["max_points"] else ("~" if c["points"] else "✗"))
            lines.append(f"     {mark} {c['id']} {points}/{c['max_points']} — {c['label']}")
            lines += _source_lines(c, lang, 9)
            for n, tier in enumerate(c["tiers"], start=1):
                if c["tier"] is not None and n > c["tier"]:
                    break
                lines.append(f"         {MARK[tier['outcome']]} {'mức' if vi else 'tier'} {n} ({tier['award_pct']}%): {_trace_line(tier['trace'], lang)}")
                lines += _source_lines(tier, lang, 13)
                lines += _sub_lines(tier["trace"], lang, 13)
                lines += _param_lines(tier, lang, 13)
        skipped = [c["id"] for c in e["criteria"] if c["group"] == group["id"] and not c["applies"]]
        if skipped:
            lines.append(f"     – {'không áp dụng' if vi else 'not applicable'}: {', '.join(skipped)}")
    lines.append("")
    held = [v for v in e["vetoes"] if v["outcome"] != "not_held"]
    lines.append((_n() + "Vi phạm loại trừ: " if vi else _n() + "Vetoes: ") + (("không có" if vi else "none") if not held else ""))
    for v in held:
        lines.append(f"   {MARK[v['outcome']]} {v['id']} — {v['label']} ({'tối đa' if vi else 'at most'} {GRADE_LABELS[v['cap']][lang]})")
        lines += _source_lines(v, lang, 7)
        lines.append(f"       {_trace_line(v['trace'], lang)}")
    lines.append("")
    lines.append(_n() + "Các mức xếp loại" if vi else _n() + "Grade levels")
    for level in e["levels"]:
        if level["id"] == "not_completed":
            continue
        lines.append(f"   {MARK[level['qualifies']]} {level['label']} (>= {fmt(level['min_score'], lang)}): {w[level['qualifies']] if level['qualifies'] != 'unknown' else w['unknown']}")
        for cond in level["conditions"]:
            lines += _condition_lines(cond, lang, 6)
    caps = e["caps"]
    if caps["veto"]:
        lines.append(("   Giới hạn do vi phạm: " if vi else "   Capped by a veto at: ") + GRADE_LABELS[caps["veto"]][lang])
    if caps["quota"]:
        lines.append(("   Giới hạn do hạn mức: " if vi else "   Capped by the quota at: ") + GRADE_LABELS[caps["quota"]][lang])
    if e.get("undecided_by"):
        lines.append(("   Không xác định được do: " if vi else "   Could not be decided because of: ") + ", ".join(e["undecided_by"]))
    lines.append("")
    fin = e["finance"]
    lines.append((_n() + "Tự kiểm tra tài chính: " if vi else _n() + "Financial self-audit: ") + _verdict(fin["verdict"], lang))
    for check in fin["checks"]:
        extra = "" if check["severity"] == "required" else (" (khuyến nghị)" if vi else " (advisory)")
        lines += _condition_lines(check, lang, 3, extra)
    lines.append("")
    lines.append(_n() + "Danh hiệu" if vi else _n() + "Titles")
    for title in e["titles"]:
        lines.append(f"   {title['label']}: {_yes_no(title['awarded'], lang)}")
        lines += _source_lines(title, lang, 6)
        for cond in title["conditions"]:
            lines += _condition_lines(cond, lang, 6)
    q = e["quota"]
    if q is not None and "exempt_by" in q:
        lines.append("")
        lines.append(_n() + (f"Hạn mức {GRADE_LABELS[q['level']][lang]}: ngoài hạn mức ({q['exempt_by']} = đúng), giữ "
                             "xếp loại đạt được, không tính vào số suất" if vi else
                             f"Quota for {GRADE_LABELS[q['level']][lang]}: outside it ({q['exempt_by']} = true), keeps "
                             "the grade it earns and takes no place"))
    elif q is not None:
        lines.append("")
        base = " + ".join(GRADE_LABELS[b][lang] for b in q["base_levels"])
        keys = ", ".join(f"{k['key']} {k['order']} = {fmt(k['value'], lang)}" for k in q["rank_by"])
        cohort, counted = _cohort_words(q, lang), _places_words(q, lang)
        if vi:
            lines.append(_n() + f"Hạn mức {GRADE_LABELS[q['level']][lang]} ({cohort}): {q['share_pct']}% × {q['base_count']} đơn vị ({base}) = {counted}")
            lines.append(f"   Xếp thứ {q['rank']}/{q['candidates']} theo {keys}, rồi mã đơn vị: " + ("giữ nguyên" if q["kept"] else f"hạ xuống {GRADE_LABELS[q['demoted_to']][lang]}"))
        else:
            lines.append(_n() + f"Quota for {GRADE_LABELS[q['level']][lang]} ({cohort}): {q['share_pct']}% × {q['base_count']} units ({base}) = {counted}")
            lines.append(f"   Ranked {q['rank']} of {q['candidates']} by {keys}, then unit id: " + ("kept" if q["kept"] else f"demoted to {GRADE_LABELS[q['demoted_to']][lang]}"))
    nxt = e["next_grade"]
    if nxt is not None:
        lines.append("")
        lines.append((_n() + f"Để đạt {nxt['label']}:" if vi else _n() + f"To reach {nxt['label']}:"))
        if nxt.get("points_short"):
            lines.append((f"   thiếu {fmt(nxt['points_short'], lang)} điểm" if vi else f"   {points_text(fmt(nxt['points_short'], lang), lang)} short"))
        for u in nxt["unmet"]:
            lines += _condition_lines(u, lang, 3)
        for b in nxt["blocked_by"]:
            lines.append(("   bị giới hạn bởi " if vi else "   blocked by ") + ("vi phạm " + ", ".join(b["vetoes"]) if b["by"] == "veto" else ("hạn mức" if vi else "the quota")))
    if e["missing_facts"]:
        lines.append("")
        lines.append(("Thiếu dữ liệu: " if vi else "Missing facts: ") + ", ".join(e["missing_facts"]))
    if e["defaulted_facts"]:
        lines.append(("Dùng giá trị mặc định: " if vi else "Defaults applied: ") + ", ".join(e["defaulted_facts"]))
    for name, where in e.get("facts_from_history", {}).items():
        value = result["facts"]["values"].get(name)
        lines.append(("Lấy từ lịch sử: " if vi else "From recorded history: ") + f"{name} = {fmt(value, lang)} ({where})")
    return "\n".join(lines) + "\n"


def _cohort_words(q: dict, lang: str) -> str:
    """Which units the quota counted together: ``nhóm 'X'``, or, with several facts or none reported, which."""
    vi, names = lang == "vi", q.get("cohort_by") or []
    if names and q["cohort"] == "":
        return (f"nhóm các đơn vị không báo {', '.join(names)}" if vi else f"cohort of the units that reported no "
                f"{', '.join(names)}")
    if len(names) > 1:
        return f"{'nhóm' if vi else 'cohort'} {' / '.join(names)} = '{q['cohort']}'"
    return f"{'nhóm' if vi else 'cohort'} '{q['cohort']}'"


def _places_words(q: dict, lang: str) -> str:
    """``2 suất``, or, when the share is not whole or a floor applies, how it became the places: ``1,4, làm tròn
    xuống: 1 suất``."""
    vi, allowed, share = lang == "vi", q["allowed"], q.get("share", q["allowed"])
    unit = "suất" if vi else ("place" if allowed == 1 else "places")
    if share == allowed:
        return f"{allowed} {unit}"
    if q.get("raised_to_one"):
        at_least = q["at_least_one_from"]
        why = f"ít nhất 1 suất (nhóm từ {at_least} đơn vị)" if vi else f"at least 1 place (a cohort of {at_least} or more)"
        return f"{fmt(share, lang)}, {why}"
    rounded = ("làm tròn xuống" if vi else "rounded down") if q.get("rounding", "floor") == "floor" else \
        ("làm tròn" if vi else "rounded")
    return f"{fmt(share, lang)}, {rounded}: {allowed} {unit}"


def _condition_lines(cond: dict, lang: str, indent: int, extra: str = "") -> list[str]:
    pad = " " * indent
    lines = [f"{pad}{MARK[cond['outcome']]} {cond['id']} — {cond['label']}{extra}"]
    lines += _source_lines(cond, lang, indent + 4)
    trace = cond.get("trace")
    if trace is not None:
        lines.append(f"{pad}    {_trace_line(trace, lang)}")
        lines += _sub_lines(trace, lang, indent + 4)
    lines += _param_lines(cond, lang, indent + 4)
    return lines


def _param_lines(rule: dict, lang: str, indent: int) -> list[str]:
    """The parameters a rule read, one line each with its value and source: ``tham số dues_rate = 0,5% (Căn cứ: …)``."""
    out = []
    for param in rule.get("params", ()):
        source = _source_lines(param, lang, 0)
        out.append(" " * indent + ("tham số " if lang == "vi" else "parameter ") + f"{param['name']} = {param['value']}"
                   + (f" ({source[0]})" if source else ""))
    return out


def _source_lines(rule: dict, lang: str, indent: int) -> list[str]:
    """Where a rule comes from, when the rule set says: ``Căn cứ: 1294/HD-TLĐ, mục II.3, tr. 4``."""
    ref = rule.get("reference")
    if ref is None:
        return []
    parts = [ref["document"]] + ([ref["article"]] if "article" in ref else []) + \
            ([("tr. " if lang == "vi" else "p. ") + str(ref["page"])] if "page" in ref else []) + \
            ([ref["url"]] if "url" in ref else [])
    return [" " * indent + ("Căn cứ: " if lang == "vi" else "Source: ") + ", ".join(parts)]


def _sub_lines(trace: dict, lang: str, indent: int) -> list[str]:
    """For and/or/not, one line per part, so each comparison shows its own values."""
    if trace.get("op") not in ("and", "or", "not"):
        return []
    out = []
    for part in trace.get("parts", []):
        if "expr" in part or "name" in part:
            mark = "?" if part.get("value") is None else ("✓" if part["value"] is True else ("✗" if part["value"] is False else "·"))
            out.append(" " * indent + f"{mark} {_trace_line(part, lang)}")
            out += _sub_lines(part, lang, indent + 2)
    return out


def _side(rec: dict, lang: str) -> str:
    if "name" in rec:
        return f"{rec['name']} = {_value(rec, lang)}"
    if "expr" in rec:
        return f"{rec['expr']} = {fmt(rec['value'], lang)}" if rec["value"] is not None else f"{rec['expr']} = ?"
    return fmt(rec["value"], lang) if not isinstance(rec["value"], str) else f"'{rec['value']}'"


def _value(rec: dict, lang: str) -> str:
    if rec.get("undecided"):
        return "(chưa xác định)" if lang == "vi" else "(undecided)"
    return fmt(rec["value"], lang)


def _trace_line(rec: dict, lang: str) -> str:
    """One condition with its actual values, its relation as it actually is."""
    op = rec.get("op")
    parts = rec.get("parts", [])
    if "name" in rec:
        return f"{rec['name']} = {_value(rec, lang)}"
    if op in NEGATED and len(parts) == 2:
        relation = op if rec["value"] is not False else NEGATED[op]
        line = f"{_side(parts[0], lang)} {relation} {_side(parts[1], lang)}"
        return line + _ratio(parts, lang)
    if op in ("in", "not in"):
        items = ", ".join(_side(p, lang) for p in parts[1:])
        word = op if rec["value"] is not False else ("not in" if op == "in" else "in")
        return f"{_side(parts[0], lang)} {word} [{items}]"
    if op == "present":
        return f"{rec['expr']} = {fmt(rec['value'], lang)}"
    return rec.get("expr", "") + f" → {fmt(rec['value'], lang) if rec['value'] is not None else '?'}"


def _ratio(parts: list[dict], lang: str) -> str:
    """``a >= b * 0.95`` also shows ``a / b``, the figure committees quote."""
    left, right = parts
    if "name" in left and right.get("op") == "*" and left["value"] not in (None, 0) and isinstance(left["value"], (int, float)):
        inner = right.get("parts", [])
        base = next((p for p in inner if "name" in p), None)
        if base and isinstance(base["value"], (int, float)) and base["value"]:
            ratio = round(left["value"] / base["value"], 4)
            return f"  ({left['name']} / {base['name']} = {fmt(ratio, lang)})"
    return ""


# --- impact of a new rule set ------------------------------------------------------------

IMPACT_WORDS = {
    "vi": {"title": "Tác động khi chuyển từ {a} sang {b}", "facts": "Dữ liệu", "moved": "xét như năm {year} (năm và mọi ngày {shift})", "later": "lùi sau {n} năm", "earlier": "lùi trước {n} năm",
           "before": "Trước", "after": "Sau", "rules": "Quy tắc gây thay đổi", "state": "Xếp loại",
           "params": "do tham số đổi", "params_changed": "Tham số thay đổi",
           "none": "Không đơn vị nào thay đổi.", "new": "mới", "retired": "đã bỏ", "was": "trước đây",
           "held": "đạt", "not held": "không đạt", "undecided": "chưa rõ", "kept": "giữ", "demoted": "bị hạ",
           "not a candidate": "không thuộc diện xét", "missing": "thiếu dữ liệu",
           "hint": "{n} đơn vị thiếu dữ liệu mà {version} cần ({facts}): bổ sung bằng --with TỆP (theo unit_id)"},
    "en": {"title": "Impact of moving from {a} to {b}", "facts": "Facts", "moved": "read as {year} (the year and every date {shift})", "later": "{n} year(s) later", "earlier": "{n} year(s) earlier",
           "before": "Before", "after": "After", "rules": "Rules responsible", "state": "Grade",
           "params": "a parameter changed", "params_changed": "Parameters changed",
           "none": "No unit changes.", "new": "new", "retired": "retired", "was": "was",
           "held": "held", "not held": "not held", "undecided": "undecided", "kept": "kept", "demoted": "demoted",
           "not a candidate": "not a candidate", "missing": "missing facts",
           "hint": "{n} units lack facts that {version} needs ({facts}): give them with --with FILE (by unit_id)"},
}
SUMMARY_WORDS = {
    "vi": {"units": "đơn vị so sánh", "changed": "thay đổi", "grade_up": "lên hạng", "grade_down": "xuống hạng",
           "status_changed": "đổi trạng thái", "titles_gained": "được danh hiệu", "titles_lost": "mất danh hiệu",
           "verdict_changed": "đổi kết quả tài chính"},
    "en": {"units": "units compared", "changed": "changed", "grade_up": "moved up", "grade_down": "moved down",
           "status_changed": "changed status", "titles_gained": "titles gained", "titles_lost": "titles lost",
           "verdict_changed": "financial verdicts changed"},
}


def _state_word(side: dict, lang: str) -> str:
    return grade_word(side, lang) if side["status"] != "graded" or side["grade"] else WORDS[lang]["unknown"]


def _arrow(before: str, after: str) -> str:
    return before if before == after else f"{before} → {after}"


def _rule_change(row: dict, lang: str) -> str:
    w = IMPACT_WORDS[lang]
    before, after = (w.get(v, v) if isinstance(v, str) else v for v in (row["before"], row["after"]))
    if row["before"] == "absent":
        return f"{row['rule']} ({w['new']}: {after})"
    if row["after"] == "absent":
        return f"{row['rule']} ({w['retired']}, {w['was']} {before})"
    moved_by = f" ({w['params']}: {', '.join(row['params'])})" if row.get("params") else ""
    return f"{row['rule']}: {before} → {after}{moved_by}"


def impact_table(head: dict, units: Callable[[], Iterable[dict]], tail: dict, lang: str) -> Iterator[str]:
    """The units a new rule set moves, what moves them, and the distribution before and after, piece by piece:
    ``units()`` is read twice (to measure the columns, then to write the rows), never held whole."""
    w, rs_a, rs_b = IMPACT_WORDS[lang], head["from"], head["to"]
    lines = [w["title"].format(a=f"{rs_a['id']} {rs_a['version']}", b=f"{rs_b['id']} {rs_b['version']}")]
    for side in head["facts"]["sides"]:
        if side["moved_years"]:
            lines.append(f"{w['facts']} {head['facts']['source']}: {side['version']} — "
                         + w["moved"].format(year=side["year"], shift=w["later" if side["moved_years"] > 0 else "earlier"].format(
                             n=abs(side["moved_years"]))))
    if tail.get("params"):
        lines.append(f"{w['params_changed']}: " + "; ".join(c["description"].removeprefix("params.")
                                                             for c in tail["params"]))
    yield "\n".join(lines) + "\n\n"
    table = SimpleTable([WORDS[lang]["unit"], WORDS[lang]["name"], WORDS[lang]["grade"], WORDS[lang]["score"],
                         WORDS[lang]["cultural_unit"], WORDS[lang]["finance"], w["rules"]])
    rows, lacking, missing = 0, 0, set()
    for u in units():
        table.observe(_impact_cells(u, lang))
        rows += 1
        lacking += bool(u["newly_missing_facts"])
        missing.update(u["newly_missing_facts"])
    if rows:
        yield table.head()
        for u in units():
            yield table.row(_impact_cells(u, lang))
    else:
        yield w["none"] + "\n"
    if lacking:
        yield "\n" + w["hint"].format(n=lacking, version=rs_b["version"], facts=", ".join(sorted(missing))) + "\n"
    s = head["summary"]
    yield "\n" + ", ".join(f"{s[k]} {SUMMARY_WORDS[lang][k]}" for k in SUMMARY_WORDS[lang]) + "\n\n"
    dist = [[GRADE_LABELS[k][lang] if k in GRADE_LABELS else WORDS[lang][k], v["before"], v["after"],
             f"{v['after'] - v['before']:+d}" if v["after"] != v["before"] else ""]
            for k, v in head["distribution"].items()]
    yield tabulate(dist, headers=[w["state"], f"{w['before']} ({rs_a['version']})", f"{w['after']} ({rs_b['version']})", "±"],
                   tablefmt="simple", disable_numparse=True) + "\n"


def _impact_cells(u: dict, lang: str) -> list[str]:
    """One changed unit's row of the impact table."""
    w = IMPACT_WORDS[lang]
    a, b = u["before"], u["after"]
    titles = sorted(set(a["titles"]) | set(b["titles"]))
    return [u["unit_id"], u["name"],
            _arrow(_state_word(a, lang), _state_word(b, lang)),
            _arrow(fmt(a["score"], lang) if a["score"] is not None else "", fmt(b["score"], lang) if b["score"] is not None else ""),
            _arrow(_yes_no(a["titles"].get(titles[0]), lang), _yes_no(b["titles"].get(titles[0]), lang)) if titles else "",
            _arrow(_verdict(a["financial_audit"], lang), _verdict(b["financial_audit"], lang)),
            "; ".join([_rule_change(r, lang) for r in u["rules"]]
                      + ([f"{w['missing']}: {', '.join(u['newly_missing_facts'])}"] if u["newly_missing_facts"] else []))]


# --- coverage of a rule set by its test cases -----------------------------------------

def coverage_table(report: dict) -> str:
    """One row per rule, grouped by section; the section is named on its first row only."""
    rs = report["ruleset"]
    body = []
    previous = None
    for row in report["rows"]:
        where = f"{report['file']}:{row['line']}" if row["line"] is not None else ""
        body.append([row["section"] if row["section"] != previous else "", row["rule"], where,
                     *("" if row[c] is None else row[c] for c in ("held", "not_held", "undecided")), row["note"]])
        previous = row["section"]
    table_ = tabulate(body, headers=["section", "rule", "where", "held", "not held", "undecided", "missing"],
                      tablefmt="simple", disable_numparse=True, colalign=("left", "left", "left", "right", "right", "right", "left"))
    cases = f"{report['cases']} case{'s' if report['cases'] != 1 else ''}"
    return (f"Coverage of rule set {rs['id']} version {rs['version']} by {cases} ({report['units']} units)\n\n"
            f"{table_}\n\ncoverage: {report['exercised']} of {report['total']} outcomes exercised ({report['percent']}%)\n")


# --- the audit ledger --------------------------------------------------------------------

AUDIT_WORDS = {
    "vi": {"override": "QUYẾT ĐỊNH CỦA HỘI ĐỒNG (ghi đè)", "graded": "kết quả chấm", "by": "bởi", "reason": "lý do",
           "decided": "Quyết định bởi bản ghi", "run": "lần chấm", "appeal": "khiếu nại", "override_kind": "ghi đè",
           "ruleset": "Bộ tiêu chí", "engine": "phiên bản phần mềm", "facts": "Dữ liệu", "record": "dòng",
           "history": "Lịch sử (cũ nhất trước)", "corrected": "sửa", "explanation": "Giải thích đã lưu",
           "remade": "Giải thích (lập lại từ bộ tiêu chí và dữ liệu đã lưu; khớp với quyết định đã ghi)",
           "cohort_effect": "ảnh hưởng hạn mức từ khiếu nại của {unit}"},
    "en": {"override": "COMMITTEE OVERRIDE", "graded": "graded", "by": "by", "reason": "reason",
           "decided": "Decided by record", "run": "run", "appeal": "appeal", "override_kind": "override",
           "ruleset": "Rule set", "engine": "engine", "facts": "Facts", "record": "record",
           "history": "History (oldest first)", "corrected": "corrected", "explanation": "Stored explanation",
           "remade": "Explanation (made again from the recorded rule set and facts; it reaches the recorded decision)",
           "cohort_effect": "quota effect of the appeal for {unit}"},
}


def _kind_word(kind: str, lang: str) -> str:
    return AUDIT_WORDS[lang]["override_kind" if kind == "override" else kind]


def _grade_or_status(grade: Optional[str], lang: str) -> str:
    if grade is None:
        return WORDS[lang]["unknown"]
    return GRADE_LABELS[grade][lang] if grade in GRADE_LABELS else WORDS[lang].get(grade, grade)


def why_text(doc: dict, lang: str, type_labels: dict) -> str:
    """A unit's recorded year: the standing grade, who decided it with what, its history, its explanation."""
    w = AUDIT_WORDS[lang]
    rs, d = doc["ruleset"], doc["decided_by"]
    head = f"{doc['unit_id']} — {doc['year']}: "
    over = doc["override"]
    if over:
        head += (f"{_grade_or_status(over['grade'], lang)} — {w['override']} #{over['seq']}, {w['by']} "
                 f"{over['recorded_by']}, {over['recorded_at']}; {w['reason']}: {over['reason']} "
                 f"({w['graded']}: {_grade_or_status(over['graded'], lang)})")
    else:
        head += grade_word(doc["result"], lang)
    lines = [head,
             f"{w['decided']} #{d['seq']} ({_kind_word(d['kind'], lang)}), {d['recorded_at']}, {w['by']} {d['recorded_by']}; "
             f"{w['run']} #{d['run']}; {w['engine']} {d['engine_version']}",
             f"{w['ruleset']} {rs['id']} {rs['version']} (sha256 {rs['sha256']})",
             f"{w['facts']}: {d['facts_source']}, {w['record']} {d['record']} (sha256 {d['facts_sha256'][:12]})",
             "", w["history"] + ":"]
    rows = []
    for e in doc["history"]:
        notes = []
        if e["appeal_of"]:
            notes.append(w["cohort_effect"].format(unit=e["appeal_of"]))
        if e["reason"]:
            notes.append(f"{w['reason']}: {e['reason']}")
        if e["corrected"]:
            notes.append(f"{w['corrected']}: " + ", ".join(f"{k} {fmt(v[0], lang)} → {fmt(v[1], lang)}"
                                                          for k, v in e["corrected"].items()))
        rows.append([f"#{e['seq']}", _kind_word(e["kind"], lang), e["recorded_at"], e["recorded_by"],
                     _grade_or_status(e["grade"], lang), "; ".join(notes)])
    lines += ["  " + line for line in tabulate(rows, tablefmt="plain", disable_numparse=True).splitlines()]
    lines += ["", w["explanation" if doc.get("result_from") == "stored" else "remade"] + ":", ""]
    return "\n".join(lines) + "\n" + explain_text(doc["result"], rs, lang, type_labels)


def replay_text(report: dict) -> str:
    head = (f"record {report['seq']} ({report['kind']}): {report['units']} unit results graded again with "
            f"{report['ruleset']['id']} {report['ruleset']['version']} (sha256 {report['ruleset']['sha256'][:12]}) "
            "from the ledger alone")
    if not report["differences"]:
        return head + "\nevery decision is the one stored, outcome for outcome\n"
    rows = [[d["unit_id"], ", ".join(d["fields"])] for d in report["differences"]]
    return (head + f"\n{len(rows)} decision(s) differ:\n\n"
            + tabulate(rows, headers=["unit", "what differs"], tablefmt="simple") + "\n")


def ledger_table(entries: list[dict]) -> str:
    rows = [[e["seq"], e["kind"], e["year"], e["recorded_at"], e["recorded_by"], e.get("what", "")] for e in entries]
    return tabulate(rows, headers=["#", "kind", "year", "recorded at (UTC)", "by", "what"], tablefmt="simple",
                    disable_numparse=True) + "\n"
