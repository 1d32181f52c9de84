"""The committee's report (:mod:`engine.rendering.report`) as a workbook: one sheet per view, numbers as numbers.

Shares are stored as fractions with a percent format (Excel shows 70.00%, a formula reads
0.7), counts and gaps as whole numbers, met as TRUE/FALSE; every sheet has its header
row frozen.  The file carries no clock: the same report gives the same bytes.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any, Optional

from engine.errors import CannotWrite
from engine.rendering.render import write_workbook
from engine.rendering.render_report import STATES, WORDS

PERCENT = "0.00%"
STAMP = datetime.datetime(2000, 1, 1)
HEADERS = {
    "vi": {"target": "Chỉ tiêu", "id": "Mã", "reference": "Mục", "period": "Kỳ", "of": "Trên", "kind": "Loại",
           "goal": "Yêu cầu", "units": "Số đơn vị", "count": "Số đạt", "unknown": "Chưa rõ", "value": "Tỷ lệ / giá trị",
           "met": "Đạt", "gap": "Còn thiếu", "gap_of": "Đơn vị thiếu", "key": "Nhóm", "measurable": "Đo được",
           "unit_id": "Mã đơn vị", "name": "Tên", "state": "Xếp loại", "check": "Kiểm tra", "year": "Năm"},
    "en": {"target": "Target", "id": "Id", "reference": "Item", "period": "Period", "of": "Of", "kind": "Kind",
           "goal": "Goal", "units": "Units", "count": "Counted", "unknown": "Unknown", "value": "Share / value",
           "met": "Met", "gap": "Short by", "gap_of": "Short in", "key": "Group", "measurable": "Measurable",
           "unit_id": "Unit id", "name": "Name", "state": "Grade", "check": "Check", "year": "Year"},
}


def write_report_workbook(doc: dict, lang: str, path: Path) -> None:
    """Write the workbook whole to ``path`` (a temporary file renamed when complete)."""
    book = report_workbook(doc, lang)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        write_workbook(book, temporary, STAMP)
        os.replace(temporary, path)
    except OSError as exc:
        raise CannotWrite(str(path), exc) from None
    finally:
        temporary.unlink(missing_ok=True)


def report_workbook(doc: dict, lang: str):
    from openpyxl import Workbook

    h = HEADERS[lang]
    book = Workbook()
    sheet = book.active
    sheet.title = "targets"
    _table(sheet, [h["id"], h["target"], h["reference"], h["period"], h["of"], h["kind"], h["goal"], h["measurable"],
                   h["units"], h["count"], h["unknown"], h["value"], h["met"], h["gap"], h["gap_of"]],
           [[r["id"], r["label"][lang], r["reference"], r["period"], r["of"], r["kind"], _goal(r), r["measurable"],
             *_figures(r, r.get("overall"))] for r in doc["results"]], percent_columns=(7, 12), rows_percent=_shares(doc))
    for breakdown in ("workplace_group", "upper_union", "emulation_bloc"):
        rows, percent_rows = [], []
        for r in doc["results"]:
            if not r["measurable"]:
                continue
            for f in r["by"][breakdown]:
                rows.append([r["id"], _key(doc, breakdown, f["key"], lang), *_figures(r, f)])
                percent_rows.append(r["kind"] == "share")
        _table(book.create_sheet(breakdown), [h["id"], h["key"], h["units"], h["count"], h["unknown"], h["value"],
                                              h["met"], h["gap"], h["gap_of"]],
               rows, percent_columns=(6,), rows_percent=percent_rows)
    grades = book.create_sheet("grades")
    labels = [WORDS[lang].get(s, s) for s in STATES]
    _table(grades, [h["key"], *labels], [[WORDS[lang]["all"], *[doc["grades"]["overall"][s] for s in STATES]]] +
           [[_key(doc, "workplace_group", row["key"], lang), *[row[s] for s in STATES]]
            for row in doc["grades"]["by"]["workplace_group"]])
    _table(book.create_sheet("findings"), [h["check"], h["target"], h["units"]],
           [[f["check"], f["label"][lang], f["units"]] for f in doc["findings"]])
    _table(book.create_sheet("blocking"), [h["id"], h["unit_id"], h["name"], h["state"], h["unknown"]],
           [[r["id"], u["unit_id"], u["name"], u["state"], u["measure"] == "unknown"]
            for r in doc["results"] if r["measurable"] for u in r["blocking"]])
    if doc.get("trend"):
        years = doc["trend"]
        rows = [[r["id"], *[_trend_value(y, r) for y in years]] for r in doc["results"] if r["measurable"]]
        _table(book.create_sheet("trend"), [h["id"], *[y["year"] for y in years]], rows,
               percent_columns=tuple(range(2, 2 + len(years))),
               rows_percent=[r["kind"] == "share" for r in doc["results"] if r["measurable"]])
    about = book.create_sheet("about")
    for key, value in (("targets", doc["targets"]["id"]), ("targets version", doc["targets"]["version"]),
                       ("targets sha256", doc["targets"]["sha256"]), ("ruleset", doc["ruleset"]["id"]),
                       ("ruleset version", doc["ruleset"]["version"]), ("ruleset sha256", doc["ruleset"]["sha256"]),
                       ("source", doc.get("facts", {}).get("source")), ("units", doc["units"])):
        about.append([key, value])
    book.properties.creator = "cdcs"
    return book


def _shares(doc: dict) -> list[bool]:
    return [r["kind"] == "share" for r in doc["results"]]


def _goal(r: dict) -> Any:
    return r["at_least"] / 100 if r["kind"] == "share" else r["at_least"]


def _figures(r: dict, f: Optional[dict]) -> list[Any]:
    """Units, counted, unknown, value (a fraction for a share), met, gap, what the gap counts."""
    if f is None:
        return [None, None, None, None, None, None, None]
    value = f.get("value")
    if value is not None and r["kind"] == "share":
        value = value / 100
    return [f["units"], f["count"], f["unknown"], value, f.get("met"), f.get("gap"), f.get("gap_of")]


def _key(doc: dict, breakdown: str, key: str, lang: str) -> str:
    if breakdown == "workplace_group":
        return doc["groups"][key][lang] if key in doc["groups"] else WORDS[lang]["other"]
    return key or WORDS[lang]["not_given"]


def _trend_value(year: dict, r: dict) -> Any:
    figures = (year.get("targets") or {}).get(r["id"])
    if figures is None or figures.get("value") is None:
        return None
    return figures["value"] / 100 if r["kind"] == "share" else figures["value"]


def _table(sheet, header: list, rows: list[list], percent_columns: tuple[int, ...] = (),
           rows_percent: Optional[list[bool]] = None) -> None:
    """A header row (bold, frozen) and the rows; ``percent_columns`` (1-based) shown as percentages on the rows
    ``rows_percent`` marks (all rows when not given)."""
    from openpyxl.styles import Font

    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(rows):
        sheet.append(row)
        if rows_percent is None or rows_percent[i]:
            for column in percent_columns:
                sheet.cell(row=i + 2, column=column).number_format = PERCENT
    sheet.freeze_panes = "A2"
