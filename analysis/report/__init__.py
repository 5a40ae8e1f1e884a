"""The policymaker's report: one self-contained HTML file from a stored run or sweep, with its tables and figures.

``build_report(results_folder, out_html)`` reads the folder (``load.py``), computes the tables
(``tables.py``) and figures (``figures.py``), and writes ``out_html`` with every figure embedded as
a base64 PNG (no network needed to open it), plus a folder ``<name>_files/`` next to it holding
each table as CSV and each figure as PNG.
"""

from __future__ import annotations

from analysis.report.build import build_report, report_paths

__all__ = ["build_report", "report_paths"]
