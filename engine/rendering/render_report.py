"""The committee's report (:mod:`engine.rendering.report`) as text a committee reads: the targets, then each breakdown."""
from __future__ import annotations

from typing import Any, Optional

from tabulate import tabulate

from engine.model import GRADE_LABELS

WORDS = {
    "vi": {"target": "Chỉ tiêu", "of": "Trên", "value": "Đạt", "goal": "Yêu cầu", "met": "Kết quả", "gap": "Còn thiếu",
           "yes": "đạt", "no": "chưa đạt", "none": "không có đơn vị", "units": "đơn vị", "weight": "người",
           "unknown": "chưa rõ", "all": "tất cả", "graded": "được xếp loại", "not_measurable": "chưa đo được: không có dữ liệu",
           "upper_union": "Theo công đoàn cấp trên", "workplace_group": "Theo khối", "emulation_bloc": "Theo khối thi đua",
           "grades": "Xếp loại", "findings": "Kiểm tra tài chính chưa đạt nhiều nhất", "blocking": "Đơn vị chưa đạt",
           "other": "khác", "not_given": "(không ghi)", "report": "Báo cáo chỉ tiêu", "units_total": "Số đơn vị",
           "not_graded": "Không xếp loại", "invalid": "Không hợp lệ", "more": "và {n} đơn vị khác",
           "trend": "Diễn biến qua các năm", "recorded": "theo lần chấm #{run} năm {year} trong {source}",
           "not_comparable": "không so được"},
    "en": {"target": "Target", "of": "Of", "value": "Value", "goal": "Goal", "met": "Result", "gap": "Short by",
           "yes": "met", "no": "not met", "none": "no units", "units": "units", "weight": "people",
           "unknown": "unknown", "all": "all", "graded": "graded", "not_measurable": "not measurable: no fact",
           "upper_union": "By upper-level union", "workplace_group": "By workplace group",
           "emulation_bloc": "By emulation bloc", "grades": "Grades", "findings": "Financial checks most often failed",
           "blocking": "Units not meeting", "other": "other", "not_given": "(not given)", "report": "Targets report",
           "units_total": "Units", "not_graded": "Not graded", "invalid": "Invalid", "more": "and {n} more units",
           "trend": "Year by year", "recorded": "as recorded by run #{run} of {year} in {source}",
           "not_comparable": "not comparable"},
}
STATES = ("excellent", "good", "completed", "not_completed", "not_graded", "invalid")
BLOCKING_SHOWN = 10


def report_table(doc: dict, lang: str) -> str:
    w = WORDS[lang]
    head = [f"{w['report']}: {doc['targets']['title'][lang]} ({doc['targets']['version']})",
            f"{doc['ruleset']['id']} {doc['ruleset']['version']} · {w['units_total']}: {doc['units']:,}"]
    if "run" in doc.get("facts", {}):
        head.append(w["recorded"].format(**doc["facts"]))
    rows = []
    for r in doc["results"]:
        label = f"{r['label'][lang]} [{r['reference']}]"
        goal = _goal(r)
        if not r["measurable"]:
            rows.append([label, _of(r["of"], doc, lang), f"{w['not_measurable']} {r['measure']['needs_fact']}", goal, "—", ""])
            continue
        rows.append([label, _of(r["of"], doc, lang), *_figures(r, r["overall"], lang)])
    parts = ["\n".join(head), tabulate(rows, [w["target"], w["of"], w["value"], w["goal"], w["met"], w["gap"]],
                                       tablefmt="simple", disable_numparse=True)]
    for breakdown in ("workplace_group", "upper_union", "emulation_bloc"):
        parts.append(_breakdown(doc, breakdown, lang))
    parts.append(_grades(doc, lang))
    if doc["findings"]:
        parts.append(f"{w['findings']}\n" + tabulate([[f["label"][lang], f["units"]] for f in doc["findings"]],
                                                        tablefmt="simple", disable_numparse=True))
    parts.append(_blocking(doc, lang))
    parts.append(_trend(doc, lang))
    return "\n\n".join(p for p in parts if p) + "\n"


def _goal(r: dict) -> str:
    return f"≥ {r['at_least']}%" if r["kind"] == "share" else f"≥ {r['at_least']}"


def _of(of: str, doc: dict, lang: str) -> str:
    if of in doc["groups"]:
        return doc["groups"][of][lang]
    return WORDS[lang].get(of, of)


def _figures(r: dict, f: dict, lang: str) -> list[str]:
    """Value, goal, met and gap of one tally, in words."""
    w = WORDS[lang]
    if f.get("no_units"):
        return [w["none"], _goal(r), "—", ""]
    if r["kind"] == "count":
        value = f"{f['value']} {w['units']}"
    elif r["measure"].get("mean_of"):
        value = _pct(f["value"], lang)
    else:
        value = f"{_pct(f['value'], lang)} ({f['count']}/{f['units']})"
    if f["unknown"]:
        value += f", {f['unknown']} {w['unknown']}"
    gap = "" if f["met"] else f"{f['gap']:,} {_unit_word(f['gap'], 'weight' if f.get('gap_of') == 'weight' else 'units', lang)}"
    return [value, _goal(r), w["yes"] if f["met"] else w["no"], gap]


def _unit_word(count: int, kind: str, lang: str) -> str:
    word = WORDS[lang][kind]
    if lang == "en" and count == 1:
        return {"units": "unit", "people": "person"}.get(word, word)
    return word


def _pct(value: Optional[float], lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return (text.replace(".", ",") if lang == "vi" else text) + "%"


def _key(key: str, breakdown: str, doc: dict, lang: str) -> str:
    w = WORDS[lang]
    if key == "":
        return w["not_given"]
    if breakdown == "workplace_group":
        return doc["groups"][key][lang] if key in doc["groups"] else w["other"]
    return key


def _breakdown(doc: dict, breakdown: str, lang: str) -> str:
    """One row per key (upper union, group, bloc), one column per measurable target: its value and whether met."""
    measurable = [r for r in doc["results"] if r["measurable"]]
    keys = sorted({row["key"] for r in measurable for row in r["by"][breakdown]})
    if not keys:
        return ""
    w = WORDS[lang]
    rows = []
    for key in keys:
        cells = [_key(key, breakdown, doc, lang)]
        for r in measurable:
            f = next((row for row in r["by"][breakdown] if row["key"] == key), None)
            cells.append("" if f is None else _cell(r, f, lang))
        rows.append(cells)
    headers = [""] + [r["id"] for r in measurable]
    return f"{w[breakdown]}\n" + tabulate(rows, headers, tablefmt="simple", disable_numparse=True)


def _cell(r: dict, f: dict, lang: str) -> str:
    if f.get("no_units"):
        return "—"
    value = f"{f['value']}" if r["kind"] == "count" else _pct(f["value"], lang)
    return value + (" ✓" if f["met"] else " ✗")


def _grades(doc: dict, lang: str) -> str:
    w = WORDS[lang]
    labels = [GRADE_LABELS[s][lang] if s in GRADE_LABELS else w[s] for s in STATES]
    rows = [[w["all"], *[doc["grades"]["overall"][s] for s in STATES]]]
    rows += [[_key(row["key"], "workplace_group", doc, lang), *[row[s] for s in STATES]]
             for row in doc["grades"]["by"]["workplace_group"]]
    return f"{w['grades']}\n" + tabulate(rows, [""] + labels, tablefmt="simple", disable_numparse=True)


def _blocking(doc: dict, lang: str) -> str:
    """For each target not met: the first units that keep it from being met."""
    w = WORDS[lang]
    lines: list[str] = []
    for r in doc["results"]:
        if not r["measurable"] or r["overall"].get("met") is not False or not r["blocking"]:
            continue
        shown: list[Any] = r["blocking"][:BLOCKING_SHOWN]
        more = len(r["blocking"]) - len(shown) + r["blocking_not_listed"]
        names = ", ".join(f"{u['unit_id']}" + (f" ({w['unknown']})" if u["measure"] == "unknown" else "") for u in shown)
        lines.append(f"- {r['label'][lang]}: {names}" + (f" {w['more'].format(n=f'{more:,}')}" if more else ""))
    return f"{w['blocking']}\n" + "\n".join(lines) if lines else ""


def _trend(doc: dict, lang: str) -> str:
    """Each measurable target's overall value, one column per recorded year (a ledger's report only)."""
    years = doc.get("trend") or []
    if len(years) < 2:
        return ""
    w = WORDS[lang]
    rows = []
    for r in doc["results"]:
        if not r["measurable"]:
            continue
        cells = [r["label"][lang]]
        for y in years:
            f = (y.get("targets") or {}).get(r["id"])
            if "not_comparable" in y:
                cells.append(w["not_comparable"])
            elif f is None or f["value"] is None:
                cells.append("—")
            else:
                cells.append((f"{f['value']}" if r["kind"] == "count" else _pct(f["value"], lang)) + (" ✓" if f["met"] else " ✗"))
        rows.append(cells)
    return f"{w['trend']}\n" + tabulate(rows, [""] + [str(y["year"]) for y in years], tablefmt="simple", disable_numparse=True)
