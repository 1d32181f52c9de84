"""Makes the example province's report page and a picture of it: ``python examples/make_report.py``.

``province_2025.report.vi.html`` is what ``cdcs report examples/province_2025.csv --format html``
writes, the same bytes on every run (tests/test_report_html.py checks it is current);
``province_2025.report.png`` is headless Chromium's view of its first 2000 pixels, 1280 wide,
for docs/committee.md.  The picture needs Chromium (Debian: ``apt-get install -y chromium``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path("examples/province_2025.report.vi.html")
SHOT = Path("examples/province_2025.report.png")
# headless, as root, and nothing the browser does on its own (updates, sync) reaches the network
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"]


def make_page() -> None:
    done = subprocess.run([sys.executable, "-m", "engine.cli", "report", "examples/province_2025.csv", "--format", "html",
                           "--out", str(PAGE)], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"cdcs report failed ({done.returncode}):\n{done.stderr}")
    print(f"wrote {PAGE}")


def make_screenshot() -> None:
    """The picture is written beside its place and renamed when whole, as the engine writes its outputs."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit(f"no chromium on PATH: {SHOT} not made (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as profile:
        part = ROOT / SHOT.with_name(f".{SHOT.stem}.part.png")  # Chromium picks the format by the suffix
        done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={part}",
                               "--window-size=1280,2000", (ROOT / PAGE).as_uri()],
                              capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0 or not part.exists():
            raise SystemExit(f"chromium failed ({done.returncode}):\n{done.stderr[-2000:]}")
        os.replace(part, ROOT / SHOT)
    print(f"wrote {SHOT}")


if __name__ == "__main__":
    make_page()
    make_screenshot()
