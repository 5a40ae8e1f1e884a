"""Redraw the README's picture of the Dutch report: ``python -m tests.report_screenshot [RESULTS]`` (not collected by pytest).

Without RESULTS it makes a run of a mid-sized municipality (its three arms, no decomposition runs) in a temporary
folder, writes its report in Dutch (the default) and saves the first screen, as Debian's Chromium shows it at
1280 x 900, to ``docs/report-first-screen-nl.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from analysis.report import build_report
from analysis.report.load import latest_run
from experiments.cli import main as cli
from tests.browser import ROOT, launch

OUT = ROOT / "docs" / "report-first-screen-nl.png"
VIEWPORT = {"width": 1280, "height": 900}  # a laptop's screen
RUN = ["--set", "scenario.inhabitants=20000", "--years", "5", "--replications", "4", "--no-progress", "--no-explain"]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        if argv:
            results = Path(argv[0])
        else:
            if cli(["run", "--out", folder, *RUN]) != 0:
                return 1
            results = latest_run(folder)
        report = build_report(results, Path(folder) / "report.html", lang="nl")
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(report.as_uri())
            page.screenshot(path=str(OUT))
            browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
