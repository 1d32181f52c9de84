"""`cdcs report --format html`: one page a committee opens offline and prints, checked in a real browser.

The page is made by the real command in a subprocess; headless Chromium (the Debian
package, /usr/bin/chromium) opens it from a file to read its DOM, take a screenshot and
print it to PDF, with its console on stderr and its network in a net log.  Chromium
itself calls home (updates, accounts) whatever the flags: a request *of the page* is
one made for a file:// document, which the net log tells apart; a page built to
misbehave shows that the checks see what they look for.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pypdf
import pytest

from cli_run import REPO, assert_no_traceback, run_cdcs
from engine.reading.loading import load_ruleset, resolve_ruleset_path
from engine.rendering.render_report_html import CSP, report_html

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # the browser's own calls home fail here, not on the internet
         "--enable-logging=stderr", "--v=0"]
EXAMPLE = "examples/province_2025.csv"
GOLDEN_DOC = REPO / "tests" / "golden" / "report_province_2025.json"
RULES_2025 = load_ruleset(resolve_ruleset_path("2025", REPO / "rules"))  # the newest version, which the report uses
PAGE_TROUBLE = ("Refused to", "violates", "ERR_", "Uncaught", "CONSOLE")


def make_page(folder: Path, lang: str) -> Path:
    out = folder / f"report.{lang}.html"
    done = run_cdcs("report", EXAMPLE, "--format", "html", "--out", out, "--lang", lang)
    assert done.code == 0 and done.stdout == "", done
    assert f"report → {out}" in done.stderr, done
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    return {lang: make_page(folder, lang) for lang in ("vi", "en")}


class Browser:
    """Headless Chromium runs, each with a profile and a net log of its own in ``folder``."""

    def __init__(self, folder: Path):
        self.folder, self.runs = folder, 0

    def run(self, page: Path, *args: str) -> tuple[str, str, list[str]]:
        """Stdout, stderr and the URLs the page itself asked the network for."""
        self.runs += 1
        profile, net_log = self.folder / f"profile{self.runs}", self.folder / f"net{self.runs}.json"
        try:
            done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={net_log}",
                                   *args, page.as_uri()], check=False, capture_output=True, timeout=180)
        except subprocess.TimeoutExpired:
            pytest.fail(f"chromium did not finish with {page.name} in 180 s")
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
        return done.stdout.decode("utf-8"), done.stderr.decode("utf-8", "replace"), _page_requests(net_log)


def _page_requests(net_log: Path) -> list[str]:
    """URLs requested for a file:// document (the browser's own requests have no document: 'not an origin')."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [p["url"] for p in (e.get("params", {}) for e in log["events"] if e["type"] == start)
            if p.get("initiator") == "null" or "file://" in p.get("network_isolation_key", "")]


def _trouble(stderr: str, page: Path) -> list[str]:
    """Console lines (errors, blocked loads, failed requests) that name the page."""
    return [line for line in stderr.splitlines() if page.as_uri() in line and any(w in line for w in PAGE_TROUBLE)]


def _text(dom: str) -> str:
    """What a reader sees: the DOM without its tags, entities read, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Browser:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install the Debian package (apt-get install -y chromium); .ci/run does")
    return Browser(tmp_path_factory.mktemp("chromium"))


@pytest.fixture(scope="module")
def loaded(pages, browser) -> dict[str, tuple[str, str, list[str]]]:
    """Each page's DOM after its script ran, the browser's log and the page's requests."""
    return {lang: browser.run(page, "--dump-dom") for lang, page in pages.items()}


# --- the command -------------------------------------------------------------------------------


def test_html_without_out_is_a_usage_error():
    done = run_cdcs("report", EXAMPLE, "--format", "html")
    assert done.code == 2 and "--format html writes a file: give --out" in done.stderr, done
    assert_no_traceback(done)


@pytest.mark.parametrize("option", ["facts", "targets"])
def test_out_never_writes_over_an_input(option: str, tmp_path: Path):
    facts, targets = tmp_path / "units.csv", tmp_path / "targets.yaml"
    shutil.copy(REPO / EXAMPLE, facts)
    shutil.copy(REPO / "criteria" / "targets" / "cdytvn-2023-2028.yaml", targets)
    victim = {"facts": facts, "targets": targets}[option]
    before = victim.read_bytes()
    done = run_cdcs("report", facts, "--targets", targets, "--format", "html", "--out", victim)
    assert done.code == 2 and f"the {option} file itself" in done.stderr, done
    assert victim.read_bytes() == before
    assert_no_traceback(done)


def test_out_writes_json_to_the_file_not_to_standard_output(tmp_path: Path):
    out = tmp_path / "report.json"
    done = run_cdcs("report", EXAMPLE, "--format", "json", "--out", out)
    assert done.code == 0 and done.stdout == "" and f"report → {out}" in done.stderr, done
    assert out.read_bytes() == GOLDEN_DOC.read_bytes()


def test_an_out_folder_that_does_not_exist_is_one_line(tmp_path: Path):
    done = run_cdcs("report", EXAMPLE, "--format", "html", "--out", tmp_path / "no" / "report.html")
    assert done.code == 1 and "cannot write" in done.stderr, done
    assert_no_traceback(done)


def test_the_page_is_the_same_bytes_on_every_run(pages, tmp_path: Path):
    assert make_page(tmp_path, "vi").read_bytes() == pages["vi"].read_bytes()


def test_the_example_page_is_the_page_the_command_writes(pages):
    example = REPO / "examples" / "province_2025.report.vi.html"
    assert example.read_bytes() == pages["vi"].read_bytes(), "run examples/make_report.py and review the diff"


# --- the page as written -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_names_nothing_outside_itself(pages, lang: str):
    page = pages[lang].read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "http://" not in page and "https://" not in page
    assert "url(" not in page and "@import" not in page and "@font-face" not in page
    linked = re.findall(r'\b(?:src|href|action|xlink:href)\s*=\s*"([^"]*)"', page)
    assert all(value.startswith(("data:", "#")) for value in linked), linked  # data, or a place in the page


def test_every_text_from_the_data_is_escaped():
    doc = json.loads(GOLDEN_DOC.read_text(encoding="utf-8"))
    hostile = '<script>alert("x")</script>'
    doc["results"][0]["label"]["vi"] = hostile
    doc["results"][0]["blocking"][0]["name"] = '<img src=x onerror="alert(1)">'
    doc["ruleset"]["id"] = 'x"; } </style><script>alert(2)</script>'
    doc["facts"]["source"] = "a&b <c>.csv"
    doc["units_list"] = [{"unit_id": "<b>U1</b>", "name": "<i>n</i>", "state": "good", "group": "public",
                          "upper_union": "", "emulation_bloc": "", "score": 8950,
                          "reasons": [{"code": "x", "rule": None, "message": "<script>alert(3)</script>"}]}]
    page = report_html(doc, "vi")
    assert "<b>U1</b>" not in page and "<i>n</i>" not in page and "alert(3)</script>" not in page
    assert page.count("<script>") == 1 and page.count("</style>") == 1
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "a&amp;b &lt;c&gt;.csv" in page


# --- in the browser ----------------------------------------------------------------------------


READ = {
    "vi": ["Báo cáo chỉ tiêu — Năm 2025", "70% (42/60)", "97,2%", "chưa đạt", "6 đơn vị", "261 người",
           "chưa đo được: không có dữ liệu inspected_by_upper_level", "HL-BV08", "HL-FDI03",
           "Công đoàn Bệnh viện Đa khoa khu vực Lâm Giang", "UBKT kiểm tra tài chính cùng cấp",
           f"cdcs_health phiên bản {RULES_2025.ruleset.version}", RULES_2025.sha256,
           "examples/province_2025.csv — 60 đơn vị", "Người lập biểu", "Chủ tịch", "(Ký, ghi rõ họ tên)",
           "Từng đơn vị", "89,5 điểm; chưa đạt Hoàn thành xuất sắc nhiệm vụ: thiếu 0,5 điểm",
           "cdcs explain HL-BV06 examples/province_2025.csv"],
    "en": ["Targets report — Year 2025", "70% (42/60)", "97.2%", "not met", "6 units", "261 people",
           "not measurable: no fact inspected_by_upper_level", "HL-BV08", "Same-level financial inspection",
           "Prepared by", "Chair", "(Signature and full name)", "Every unit",
           "89.5 points; not Excellent: 0.5 points short; unmet: At least 30% of tasks exceeded"],
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_committee_reads_every_target_its_value_and_who_keeps_it_from_being_met(loaded, lang: str):
    doc = json.loads(GOLDEN_DOC.read_text(encoding="utf-8"))
    text = _text(loaded[lang][0])
    missing = [r["label"][lang] for r in doc["results"] if r["label"][lang] not in text]
    missing += [words for words in READ[lang] if words not in text]
    assert not missing


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_unit_is_listed_and_its_row_leads_to_why_it_got_its_grade(loaded, lang: str):
    dom = loaded[lang][0]
    links = re.findall(r'<a href="#(unit-\d+)">([^<]+)</a>', dom)
    assert len(links) == 60 and len({unit for _, unit in links}) == 60
    for anchor, unit in links:
        article = re.search(rf'<article class="unit" id="{anchor}">(.*?)</article>', dom, flags=re.DOTALL)
        assert article is not None and unit in article.group(1), unit
        assert "<li>" in article.group(1), unit  # at least one reason


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_asks_the_network_for_nothing_and_logs_no_error(pages, loaded, lang: str):
    _, stderr, requests = loaded[lang]
    assert requests == []
    assert _trouble(stderr, pages[lang]) == []


def test_the_checks_see_a_page_that_reaches_out(browser, tmp_path: Path):
    """Without this, an empty log could mean that nothing was logged."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                    "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    _, stderr, requests = browser.run(page, "--dump-dom")
    assert requests == ["http://127.0.0.1:9/x.png"]
    assert any("Uncaught" in line for line in _trouble(stderr, page)), stderr[-3000:]


def test_the_script_makes_every_table_sortable_and_filterable(loaded):
    doc = json.loads(GOLDEN_DOC.read_text(encoding="utf-8"))
    blocked = [r for r in doc["results"] if r["measurable"] and r["overall"]["met"] is False and r["blocking"]]
    tables = 1 + 3 + 1 + len(blocked) + 1  # the targets, the three breakdowns, the financial checks, the units not
    # meeting each target, every unit
    dom = loaded["vi"][0]
    assert dom.count('class="filter"') == dom.count('<table class="data"') == tables
    assert dom.count('class="sortable"') == dom.count("<th scope=")




PROBE = """<script>
(function () {
  var table = document.getElementById("table-targets"), th = table.tHead.rows[0].cells[3];
  function values() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[3].getAttribute("data-sort"); });
  }
  th.click(); var up = values(), upMark = th.getAttribute("aria-sort");
  th.click(); var down = values(), downMark = th.getAttribute("aria-sort");
  var box = table.previousElementSibling;
  box.value = "CHỈ TIÊU NHIỆM KỲ 5"; box.dispatchEvent(new Event("input"));
  var shown = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return r.offsetParent !== null; });
  var probe = document.createElement("pre"); probe.id = "probe";
  probe.textContent = JSON.stringify({up: up, upMark: upMark, down: down, downMark: downMark,
                                      shown: shown.map(function (r) { return r.cells[1].textContent; })});
  document.body.appendChild(probe);
})();
</script>
"""


def test_a_click_sorts_by_the_number_and_the_box_filters_rows(pages, browser, tmp_path: Path):
    page = tmp_path / "probed.html"
    page.write_text(pages["vi"].read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom, stderr, _ = browser.run(page, "--dump-dom")
    assert _trouble(stderr, page) == []
    probe = json.loads(html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL).group(1)))
    numbers = [float(v) for v in probe["up"] if v is not None]
    assert numbers == sorted(numbers) and numbers[-1] == 100.0, probe["up"]  # as numbers: "100.0" after "97.2"
    assert probe["up"][len(numbers):] == [None, None], "the targets not measured sort last"
    assert probe["upMark"] == "ascending" and probe["downMark"] == "descending"
    assert [float(v) for v in probe["down"] if v is not None] == numbers[::-1]
    assert probe["shown"] == ["Chỉ tiêu nhiệm kỳ 5"]


def test_the_screenshot_is_a_page_of_pixels(pages, browser, tmp_path: Path):
    shot = tmp_path / "report.png"
    browser.run(pages["vi"], f"--screenshot={shot}", "--window-size=1280,2000")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (1280, 2000)
    assert len(png) > 50_000, "a blank or nearly blank page compresses to a few kilobytes"


def test_the_printed_report_has_pages_numbers_and_signatures(pages, browser):
    pdf = browser.folder / "report.pdf"
    browser.run(pages["vi"], "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    count = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert count > 1, "the report is longer than one A4 page"
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == count
    first, last = reader.pages[0].extract_text(), reader.pages[-1].extract_text()
    assert "Báo cáo chỉ tiêu — Năm 2025" in first
    assert "Công đoàn Y tế Việt Nam" in first
    assert f"1 / {count}" in first and f"{count} / {count}" in last, "page numbers from @page margin boxes"
    assert f"cdcs_health {RULES_2025.ruleset.version} · sha256 {RULES_2025.sha256[:12]} · Năm 2025" in last, \
        "every page names its rule set"
    assert "Người lập biểu" in last and "Chủ tịch" in last


def test_the_page_is_whole_without_its_script(pages, loaded, browser, tmp_path: Path):
    """The script only adds controls: with scripts refused (by the page's own policy) every text is there."""
    page = tmp_path / "no-script.html"
    text = pages["vi"].read_text(encoding="utf-8")
    page.write_text(text.replace("script-src 'unsafe-inline'", "script-src 'none'"), encoding="utf-8")
    dom, _, _ = browser.run(page, "--dump-dom")
    assert "<table" in dom and 'class="filter"' not in dom and 'class="sortable"' not in dom
    assert _text(dom) == _text(loaded["vi"][0])
