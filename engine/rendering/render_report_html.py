"""The committee's report (:mod:`engine.rendering.report`) as one HTML page to open offline, sort, filter and print.

The page is self-contained and asks for nothing outside itself: its style, its script
and its charts (SVG drawn here) are inline, and a Content-Security-Policy forbids any
other source, so a committee can open it from a USB stick and what it shows cannot
change.  It is the same bytes for the same document (no clock: the date is the year
graded), so two runs can be compared and a printed copy traced to its data.  Figures
and words come from :mod:`engine.rendering.render_report`, so the page and the text report agree.
"""
from __future__ import annotations

from fractions import Fraction
from html import escape
from typing import Any, Iterable

from engine.model import GRADE_LABELS
from engine.rendering.render import fmt
from engine.rendering.render_report import STATES, WORDS as REPORT_WORDS, _cell, _figures, _goal, _key, _of, _pct
from engine.values import number

WORDS = {
    "vi": {"year": "Năm", "targets": "Chỉ tiêu", "target_set": "Bộ chỉ tiêu", "reference": "Căn cứ", "result": "Kết quả", "version": "phiên bản",
           "ruleset": "Bộ tiêu chí", "facts": "Dữ liệu", "source": "Văn bản", "charts": "Biểu đồ",
           "share_chart": "Tỷ lệ đạt so với chỉ tiêu", "grade_chart": "Phân bố xếp loại", "target_line": "chỉ tiêu",
           "filter": "Lọc bảng…", "unit": "Mã đơn vị", "name": "Tên đơn vị",
           "state": "Xếp loại", "measure": "Chỉ tiêu này", "check": "Nội dung kiểm tra",
           "key_workplace_group": "Khối", "key_upper_union": "Công đoàn cấp trên", "key_emulation_bloc": "Khối thi đua",
           "prepared": "Người lập biểu", "chair": "Chủ tịch", "sign": "(Ký, ghi rõ họ tên)",
           "generated": "Lập bằng cdcs từ dữ liệu và bộ tiêu chí ghi trên; mọi số liệu có thể tính lại.",
           "units_list": "Từng đơn vị", "reason": "Lý do chính", "why": "Vì sao", "score": "Điểm",
           "group": "Khối", "back": "↑ về danh sách", "explain": "Giải trình từng điều kiện với số liệu: {command}"},
    "en": {"year": "Year", "targets": "Targets", "target_set": "Target set", "reference": "Reference", "result": "Result", "version": "version",
           "ruleset": "Rule set", "facts": "Facts", "source": "Source", "charts": "Charts",
           "share_chart": "Share of units against each target", "grade_chart": "Grade distribution",
           "target_line": "target", "filter": "Filter table…", "unit": "Unit",
           "name": "Name", "state": "Grade", "measure": "This target", "check": "Check",
           "key_workplace_group": "Workplace group", "key_upper_union": "Upper-level union",
           "key_emulation_bloc": "Emulation bloc", "prepared": "Prepared by", "chair": "Chair",
           "sign": "(Signature and full name)",
           "generated": "Made with cdcs from the facts and rule set named above; every figure can be computed again.",
           "units_list": "Every unit", "reason": "Main reason", "why": "Why", "score": "Score", "group": "Group",
           "back": "↑ back to the list", "explain": "Every condition with its values: {command}"},
}
BREAKDOWNS = ("workplace_group", "upper_union", "emulation_bloc")
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
MET, NOT_MET, UNMEASURED, NUM = "met", "not-met", "unmeasured", "num"


class Html(str):
    """Markup already escaped: :func:`_td` puts it in as it is."""


def report_html(doc: dict, lang: str) -> str:
    """The whole page for ``doc`` (a :class:`engine.rendering.report.ReportBuilder` result with its ``facts``) in ``lang``."""
    w = {**REPORT_WORDS[lang], **WORDS[lang]}
    ruleset, year = doc["ruleset"], doc["ruleset"]["year"]
    title = f"{w['report']}: {doc['targets']['title'][lang]} — {w['year']} {year}"
    sections = [_heading(doc, w, lang), _targets(doc, w, lang), _charts(doc, w, lang),
                *(_breakdown(doc, b, w, lang) for b in BREAKDOWNS), _findings(doc, w, lang), _blocking(doc, w, lang),
                _trend(doc, w, lang), _units(doc, w, lang), _signatures(doc, w)]
    footer = f"{ruleset['id']} {ruleset['version']} · sha256 {ruleset['sha256'][:12]} · {w['year']} {year}"
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="icon" href="data:,">\n'
            f"<title>{escape(title)}</title>\n<style>\n{STYLE}{_page_css(footer)}</style>\n</head>\n"
            f'<body data-filter="{escape(w["filter"])}">\n'
            + "\n".join(s for s in sections if s)
            + f"\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n")


def _heading(doc: dict, w: dict, lang: str) -> str:
    """What a signed copy must name: the programme, the rule set down to its hash, the facts and the year."""
    t, rs, facts = doc["targets"], doc["ruleset"], doc["facts"]
    rows = [(w["target_set"], f"{t['title'][lang]} ({w['version']} {t['version']})"), (w["source"], t["source"]),
            (w["ruleset"], f"{rs['id']} {w['version']} {rs['version']}"), ("sha256", rs["sha256"]),
            (w["facts"], f"{facts['source']} — {fmt(doc['units'], lang)} {w['units']}"),
            (w["year"], str(rs["year"]))]
    items = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return (f'<header>\n<h1>{escape(w["report"])} — {escape(w["year"])} {escape(str(rs["year"]))}</h1>\n'
            f'<p class="subtitle">{escape(t["title"][lang])}</p>\n<dl class="meta">\n{items}\n</dl>\n</header>')


def _targets(doc: dict, w: dict, lang: str) -> str:
    """One row per target: the programme's words, what was counted, the value against the goal, met or not, the gap."""
    rows = []
    for r in doc["results"]:
        label = Html(f"{escape(r['label'][lang])}<small lang=\"vi\">{escape(r['text'])}</small>")
        if not r["measurable"]:
            rows.append([_td(label), _td(r["reference"]), _td(_of(r["of"], doc, lang)), _td("—"), _td(_goal(r), cls=NUM),
                         _td(f"{w['not_measurable']} {r['measure']['needs_fact']}", cls=UNMEASURED), _td("")])
            continue
        f = r["overall"]
        value, goal, met, gap = _figures(r, f, lang)
        of = _of(r["of"], doc, lang) + (f" ({fmt(f['units'], lang)})" if not f.get("no_units") else "")
        rows.append([_td(label), _td(r["reference"]), _td(of, sort=f["units"]), _td(value, sort=f["value"], cls=NUM),
                     _td(goal, sort=r["at_least"], cls=NUM), _td(met, cls=_state(f)),
                     _td(gap, sort=0 if f.get("met") else f.get("gap"), cls=NUM)])
    headers = [w["target"], w["reference"], w["of"], w["value"], w["goal"], w["result"], w["gap"]]
    return _section("targets", w["targets"], _table(headers, rows, "targets"))


def _state(f: dict) -> str:
    return UNMEASURED if f.get("no_units") else (MET if f["met"] else NOT_MET)


def _charts(doc: dict, w: dict, lang: str) -> str:
    return _section("charts", w["charts"], _share_chart(doc, w, lang) + "\n" + _grade_chart(doc, w, lang))


def _trend(doc: dict, w: dict, lang: str) -> str:
    """A recorded year's report: each target's value in every recorded year, as a table and, for the shares, a bar
    per year against the goal."""
    years = doc.get("trend") or []
    if len(years) < 2:
        return ""
    measurable = [r for r in doc["results"] if r["measurable"]]
    rows = []
    for r in measurable:
        cells = [_td(r["label"][lang])]
        for y in years:
            f = (y.get("targets") or {}).get(r["id"])
            if "not_comparable" in y or f is None or f["value"] is None:
                cells.append(_td(w["not_comparable"] if "not_comparable" in y else "—"))
            else:
                shown = fmt(f["value"], lang) if r["kind"] == "count" else _pct(f["value"], lang)
                cells.append(_td(f"{shown} {'✓' if f['met'] else '✗'}", sort=f["value"],
                                 cls=f"{NUM} {MET if f['met'] else NOT_MET}"))
        rows.append(cells)
    table = _table([w["target"], *[str(y["year"]) for y in years]], rows, "trend")
    shares = [r for r in measurable if r["kind"] == "share"]
    bar, gap, row = 28, 6, 92
    width = 300 + len(years) * (bar + gap)
    parts = []
    for i, r in enumerate(shares):
        top = 8 + i * row
        parts.append(f'<text x="0" y="{top + 40}" class="label">{escape(r["label"][lang])}</text>')
        for j, y in enumerate(years):
            f = (y.get("targets") or {}).get(r["id"])
            x = 300 + j * (bar + gap)
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + 76}" text-anchor="middle">{y["year"]}</text>')
            if f is None or f.get("value") is None:
                continue
            height = _x(f["value"], 100, 60)
            parts.append(f'<rect x="{x}" y="{top + 62 - height:.1f}" width="{bar}" height="{height:.1f}" '
                         f'class="{MET if f["met"] else NOT_MET}"/>')
        goal = top + 62 - _x(r["at_least"], 100, 60)
        parts.append(f'<line x1="296" y1="{goal:.1f}" x2="{width - 2}" y2="{goal:.1f}" class="goal"/>')
    chart = _svg(w["trend"], width, 8 + len(shares) * row, "\n".join(parts)) if shares else ""
    return _section("trend", w["trend"], table + ("\n" + chart if chart else ""))


def _share_chart(doc: dict, w: dict, lang: str) -> str:
    """One bar per measurable share target, a line at its goal: how far each is from it, at a glance."""
    shares = [r for r in doc["results"] if r["measurable"] and r["kind"] == "share"]
    width, bar, row = 760, 560, 44
    parts = []
    for i, r in enumerate(shares):
        y, f = 26 + i * row, r["overall"]
        parts.append(f'<text x="0" y="{y + 12}" class="label">{escape(r["label"][lang])}</text>')
        if f.get("no_units") or f["value"] is None:
            parts.append(f'<text x="0" y="{y + 30}">{escape(w["none"])}</text>')
            continue
        filled, goal = _x(f["value"], 100, bar), _x(r["at_least"], 100, bar)
        parts += [f'<rect x="0" y="{y + 18}" width="{bar}" height="16" class="track"/>',
                  f'<rect x="0" y="{y + 18}" width="{filled:.1f}" height="16" class="{_state(f)}"/>',
                  f'<line x1="{goal:.1f}" y1="{y + 14}" x2="{goal:.1f}" y2="{y + 38}" class="goal"/>',
                  f'<text x="{bar + 8}" y="{y + 31}">{escape(_pct(f["value"], lang))} / {escape(_goal(r))}</text>']
    legend = (f'<rect x="0" y="4" width="12" height="12" class="{MET}"/><text x="18" y="14">{escape(w["yes"])}</text>'
              f'<rect x="110" y="4" width="12" height="12" class="{NOT_MET}"/><text x="128" y="14">{escape(w["no"])}</text>'
              f'<line x1="246" y1="2" x2="246" y2="18" class="goal"/><text x="254" y="14">{escape(w["target_line"])}</text>')
    return _svg(w["share_chart"], width, 30 + len(shares) * row, legend + "\n" + "\n".join(parts))


def _grade_chart(doc: dict, w: dict, lang: str) -> str:
    """How many units got each grade (and how many were not graded or invalid)."""
    counts = doc["grades"]["overall"]
    most = max([counts[s] for s in STATES] + [1])
    left, bar, row = 250, 440, 26
    parts = []
    for i, s in enumerate(STATES):
        y = 4 + i * row
        label = GRADE_LABELS[s][lang] if s in GRADE_LABELS else w[s]
        length = _x(counts[s], most, bar)
        parts += [f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>',
                  f'<rect x="{left}" y="{y + 2}" width="{length:.1f}" height="16" class="grade"/>',
                  f'<text x="{left + length + 6:.1f}" y="{y + 14}">{fmt(counts[s], lang)}</text>']
    return _svg(w["grade_chart"], 760, 8 + len(STATES) * row, "\n".join(parts))


def _x(value: float, whole: float, length: int) -> float:
    """A length on a chart, ``value`` of ``whole``; written with ``:.1f`` so every machine draws the same bytes."""
    return max(0.0, min(value, whole)) * length / whole


def _svg(title: str, width: int, height: int, body: str) -> str:
    return (f'<figure>\n<figcaption>{escape(title)}</figcaption>\n<svg role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">\n<title>{escape(title)}</title>\n'
            f'{body}\n</svg>\n</figure>')


def _breakdown(doc: dict, breakdown: str, w: dict, lang: str) -> str:
    """Key × target, each cell its value and ✓ or ✗: where in the province a target is missed."""
    measurable = [r for r in doc["results"] if r["measurable"]]
    tallies = {(row["key"], r["id"]): row for r in measurable for row in r["by"][breakdown]}
    keys = sorted({key for key, _ in tallies})
    if not keys:
        return ""
    rows = []
    for key in keys:
        cells = [_td(_key(key, breakdown, doc, lang))]
        for r in measurable:
            f = tallies.get((key, r["id"]))
            cells.append(_td("") if f is None else _td(_cell(r, f, lang), sort=f.get("value"), cls=f"{NUM} {_state(f)}"))
        rows.append(cells)
    headers = [w[f"key_{breakdown}"], *(r["label"][lang] for r in measurable)]
    return _section(breakdown, w[breakdown], _table(headers, rows, breakdown))


def _findings(doc: dict, w: dict, lang: str) -> str:
    if not doc["findings"]:
        return ""
    rows = [[_td(f["label"][lang]), _td(fmt(f["units"], lang), sort=f["units"], cls=NUM)] for f in doc["findings"]]
    return _section("findings", w["findings"], _table([w["check"], w["units_total"]], rows, "findings"))


def _blocking(doc: dict, w: dict, lang: str) -> str:
    """For each target not met, every unit listed as keeping it from being met, and how many more there are."""
    parts = []
    for r in doc["results"]:
        if not r["measurable"] or r["overall"].get("met") is not False or not r["blocking"]:
            continue
        rows = [[_td(u["unit_id"]), _td(u["name"] or ""), _td(_state_word(u["state"], w, lang)),
                 _td(w["unknown"] if u["measure"] == "unknown" else w["no"])] for u in r["blocking"]]
        more = r["blocking_not_listed"]
        note = f'\n<p class="more">{escape(w["more"].format(n=fmt(more, lang)))}</p>' if more else ""
        parts.append(f'<h3>{escape(r["label"][lang])} <small>{escape(r["reference"])}</small></h3>\n'
                     + _table([w["unit"], w["name"], w["state"], w["measure"]], rows, f"blocking-{r['id']}") + note)
    return _section("blocking", w["blocking"], "\n".join(parts)) if parts else ""


def _units(doc: dict, w: dict, lang: str) -> str:
    """Every unit with its grade and main reason; its row links to all the reasons for its grade."""
    units = doc.get("units_list")
    if not units:
        return ""
    rows, details = [], []
    for i, u in enumerate(units, start=1):
        anchor = f"unit-{i}"
        main = u["reasons"][0]["message"] if u["reasons"] else ""
        score = "" if u["score"] is None else fmt(number(Fraction(u["score"], 100)), lang)
        rows.append([_td(Html(f'<a href="#{anchor}">{escape(u["unit_id"])}</a>'), sort=u["unit_id"]),
                     _td(u["name"] or ""), _td(_key(u["group"], "workplace_group", doc, lang)),
                     _td(_state_word(u["state"], w, lang)), _td(score, sort=u["score"] if u["score"] is not None else -1,
                                                                 cls=NUM), _td(main)])
        reasons = "".join(f"<li>{escape(r['message'])}</li>" for r in u["reasons"])
        details.append(f'<article class="unit" id="{anchor}">\n<h3>{escape(u["unit_id"])} — {escape(u["name"] or "")}'
                       f' <small>{escape(_state_word(u["state"], w, lang))}</small></h3>\n'
                       f"<ul>{reasons}</ul>\n<p class=\"hint\">{escape(w['explain'].format(command=_explain(doc, u)))}</p>\n"
                       f'<p class="back"><a href="#table-units">{escape(w["back"])}</a></p>\n</article>')
    table = _table([w["unit"], w["name"], w["group"], w["state"], w["score"], w["reason"]], rows, "units")
    return _section("units", w["units_list"], table + f'\n<h3>{escape(w["why"])}</h3>\n' + "\n".join(details))


def _explain(doc: dict, unit: dict) -> str:
    """The command that gives a unit's full explanation: from the facts file, or from the ledger that recorded it."""
    facts = doc.get("facts", {})
    if "run" in facts:
        return f"cdcs why {unit['unit_id']} --year {facts['year']} --db {facts['source']}"
    return f"cdcs explain {unit['unit_id']} {facts.get('source', '')}".rstrip()


def _state_word(state: str, w: dict, lang: str) -> str:
    """A grade's label, or the words for a unit not graded or invalid."""
    return GRADE_LABELS[state][lang] if state in GRADE_LABELS else w.get(state, state)


def _signatures(doc: dict, w: dict) -> str:
    """The end of a signed document: the year, who prepared it and the chair, with room to sign."""
    year = f"{w['year']} {doc['ruleset']['year']}"
    blocks = "".join(f'<div><p class="role">{escape(role)}</p><p class="hint">{escape(w["sign"])}</p></div>'
                     for role in (w["prepared"], w["chair"]))
    return (f'<section id="signatures" class="signatures">\n<p class="date">{escape(year)}</p>\n'
            f'<div class="signers">{blocks}</div>\n<p class="generated">{escape(w["generated"])}</p>\n</section>')


def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{escape(key)}">\n<h2>{escape(title)}</h2>\n{body}\n</section>'


def _td(text: str, sort: Any = None, cls: str = "") -> str:
    """A cell; ``sort`` is what a click on its column orders by (the number, not its words)."""
    attrs = (f' data-sort="{escape(str(sort))}"' if sort is not None else "") + (f' class="{cls}"' if cls else "")
    return f"<td{attrs}>{text if isinstance(text, Html) else escape(text)}</td>"


def _table(headers: Iterable[str], rows: list[list[str]], key: str) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "\n".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return f'<table class="data" id="table-{escape(key)}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _page_css(footer: str) -> str:
    """The printed page: A4, and on every page the rule set it was graded by and the page number."""
    return ("@page { size: A4; margin: 15mm;\n"
            f'  @bottom-left {{ content: "{_css_string(footer)}"; font-size: 8pt; color: #555; }}\n'
            '  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }\n')


def _css_string(text: str) -> str:
    """Text safe inside a CSS string in a <style> element: anything but letters, digits and spaces as an escape."""
    return "".join(ch if ch.isalnum() or ch in " .-_·" else f"\\{ord(ch):06x}" for ch in text)


STYLE = """\
:root { color: #1a1a1a; background: #fff; font: 14px/1.45 "DejaVu Sans", "Noto Sans", "Segoe UI", Arial, sans-serif; }
body { max-width: 1180px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 1.5em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 2px solid #1a1a1a; }
h3 { font-size: 1em; margin: 18px 0 6px; }
.subtitle { font-size: 1.1em; margin: 0 0 10px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table.data { border-collapse: collapse; width: 100%; font-size: 0.92em; }
table.data th, table.data td { border: 1px solid #bbb; padding: 4px 6px; text-align: left; vertical-align: top; }
table.data th { background: #eee; }
table.data td small { display: block; color: #555; font-size: 0.85em; margin-top: 2px; }
td.met { color: #1b5e20; } td.not-met { color: #b71c1c; font-weight: bold; } td.unmeasured { color: #6d4c41; }
.filter { display: block; margin: 0 0 6px; padding: 4px 6px; width: 260px; font: inherit; }
th.sortable { cursor: pointer; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
tr.filtered-out { display: none; }
figure { margin: 12px 0 20px; } figcaption { font-weight: bold; margin-bottom: 6px; }
td.num { white-space: nowrap; }
svg { max-width: 100%; height: auto; font-size: 12px; }
svg .track { fill: #e6e6e6; } svg .met { fill: #2e7d32; } svg .not-met { fill: #c62828; } svg .grade { fill: #1565c0; }
svg .goal { stroke: #1a1a1a; stroke-width: 2; } svg .label { font-weight: bold; }
.signatures { margin-top: 36px; break-inside: avoid; }
.signatures .date { text-align: right; font-style: italic; }
.signers { display: flex; justify-content: space-around; text-align: center; min-height: 120px; }
.signers .role { font-weight: bold; margin-bottom: 0; } .signers .hint { font-style: italic; color: #555; margin-top: 2px; }
.generated { font-size: 0.8em; color: #555; }
@media print {
  :root { font-size: 9.5pt; } body { max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .filter { display: none; } tr.filtered-out { display: table-row; }
  thead { display: table-header-group; } tr, figure { break-inside: avoid; } h2, h3 { break-after: avoid; }
  table.data { font-size: 0.85em; }
}
"""

# Sorting and filtering only add to a page that is whole without them.
SCRIPT = """\
(function () {
  "use strict";
  var filterWord = document.body.getAttribute("data-filter");
  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = a === "" ? NaN : Number(a), y = b === "" ? NaN : Number(b);
    if (!isNaN(x) && !isNaN(y)) return x - y;
    if (!isNaN(x) || !isNaN(y)) return isNaN(x) ? 1 : -1;
    return a.localeCompare(b, document.documentElement.lang);
  }
  function sortBy(table, th, col) {
    var up = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) { var d = compare(key(a, col), key(b, col)); return up ? d : -d; });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
  }
  function filter(table, words) {
    var wanted = words.normalize("NFC").toLowerCase().trim();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var seen = row.textContent.normalize("NFC").toLowerCase().indexOf(wanted) !== -1;
      row.classList.toggle("filtered-out", !seen);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "filter";
    box.placeholder = filterWord;
    box.setAttribute("aria-label", filterWord);
    box.addEventListener("input", function () { filter(table, box.value); });
    table.parentNode.insertBefore(box, table);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.classList.add("sortable");
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th, col); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(table, th, col); });
    });
  });
})();
"""
