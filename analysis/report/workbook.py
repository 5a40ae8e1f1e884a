"""The controller's workbook (``ontschot report RESULTS --xlsx``): the money of a run folder, adding up by formula.

``build_workbook(results_folder, out_path, lang="nl")`` writes one ``.xlsx`` file (xlsxwriter) with these sheets,
every amount in euros per simulated year, the mean over the run's replications:

- a read-me sheet: the scenario, the arms, the seeds, the code version, what each sheet holds, the units;
- spending per arm and year per cost line (``taskfields.COST_LINES``, as numbers), their total as a SUM formula
  and the spending as the model booked it (``spend_total``, a number);
- the task fields (taakvelden) per arm and year: each field a formula over its cost lines, the total a SUM;
- the business case per budget (the budget holder under partitions) and year: the baseline's spending minus the
  arm's (positive: the arm spends less), from the spending sheet by formula, with row and column totals;
- the own result per budget holder and year: grant, budget, safety net and spending as booked (numbers), the own
  result = budget + safety net - spending as a formula, next to the own result as booked;
- checks: formulas that are zero (to the cent) when the sheets agree with each other and with what the model booked.

The workbook states the language's number formats; thousands separators follow the spreadsheet program's locale
(the format codes are locale-neutral). The file carries a custom property naming ontschot, so that a later run
overwrites a workbook it wrote and refuses any other file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from analysis.i18n import LanguageError, Translator, check_language, translator
from analysis.report.load import Results, load_results
from analysis.report.tables import HOLDER_NAMES, line_costs, own_result_frame, whole
from analysis.report.taskfields import BUDGETS, COST_LINES, TASK_FIELDS
from experiments import stored
from experiments.arms import stored_from_year
from experiments.store import OutputError, code_version, os_reason, refuse_system_folder
from model.parameters import InputError, show_path

SUFFIX = ".xlsx"
MARK_NAME = "written_by"  # custom document property that says ontschot wrote the file
MARK_VALUE = "ontschot report --xlsx"
TOLERANCE = 0.01  # EUR: a check holds when its deviation is at most one cent
FIRST_DATA_ROW = 4  # rows above it: title, note, blank, header
# Number formats (format codes are locale-neutral: a Dutch spreadsheet shows '€ -1.234', an English one '-€1,234').
EURO = {"nl": "€ #,##0;€ -#,##0", "en": "€#,##0;-€#,##0"}
CENTS = {"nl": "€ #,##0.00;€ -#,##0.00", "en": "€#,##0.00;-€#,##0.00"}
WIDTH_LABEL, WIDTH_YEAR, WIDTH_MONEY, WIDTH_TEXT = 34, 8, 15, 90  # column widths in characters


def check_source(folder: str | Path, lang: str = "nl") -> None:
    """Refuse early what cannot become a workbook: an unknown language, a missing folder, a sweep folder.

    A ``sweep.json`` or ``discovery.json`` that is not a regular file (a named pipe, a device, a dangling link) is
    refused naming that file (``experiments/stored.py``), not taken for a run folder.

    Raises:
        InputError: one line (a missing or unusable folder: ``load_results``'s own message).
    """
    try:
        check_language(lang)
    except LanguageError as exc:
        raise InputError(str(exc)) from None
    folder = Path(folder)
    if not folder.is_dir():
        load_results(folder)  # raises, saying what is wrong with it
    for name in ("sweep.json", "discovery.json"):
        if stored.present(folder / name):  # a pipe, a device or a dangling link too: named here, never opened
            stored.check_regular(folder / name)
            raise InputError(
                f"results folder {show_path(folder)} is a sweep or discovery folder (it holds {name}): the workbook "
                "is made of a run folder (the folder of `ontschot run`)"
            )


def default_path(folder: Path, out_html: Path | None, lang: str) -> Path:
    """Where the workbook goes without a path: next to the HTML report (its name, .xlsx), else in the folder."""
    if out_html is not None:
        return out_html.with_suffix(SUFFIX)
    return folder / translator(lang, "workbook")("ontschot-workbook.xlsx")


def check_path(path: str | Path, what: str = "--xlsx") -> Path:
    """The workbook's path when it can be written: a ``.xlsx`` name, not a folder, not someone else's file.

    The folder it goes into is created; a probe file is written and removed.

    Raises:
        OutputError: one line naming the option, the path and what is allowed.
    """
    path = Path(path)
    if not str(path).strip():
        raise OutputError(f"{what} '' is not allowed: expected a file name ending in {SUFFIX}")
    if path.is_dir():
        raise OutputError(f"{what} {show_path(path)} is a folder: name the {SUFFIX} file to write in it")
    if path.suffix.lower() != SUFFIX:
        raise OutputError(f"{what} {show_path(path)} is not allowed: the workbook's name must end in {SUFFIX}")
    if path.exists() or path.is_symlink():
        if not path.is_file() or path.is_symlink():
            raise OutputError(f"{what} {show_path(path)} exists and is not a regular file: choose another name")
        if not written_by_ontschot(path):
            raise OutputError(
                f"{what} {show_path(path)} exists and was not written by ontschot: it is left alone; "
                "remove it or choose another name"
            )
    refuse_system_folder(path.parent, what)
    for parent in (path.parent, *path.parent.parents):
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{what} {show_path(path)} is not allowed: {show_path(parent)} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ontschot-write-test-", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{what} {show_path(path)} cannot be written: {os_reason(exc)}") from None
    return path


def written_by_ontschot(path: Path) -> bool:
    """Whether ``path`` is a workbook this program wrote (its custom property says so)."""
    try:
        with zipfile.ZipFile(path) as archive:
            custom = archive.read("docProps/custom.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return MARK_NAME in custom and MARK_VALUE in custom


# --- the figures ------------------------------------------------------------------------------------------------


@dataclass
class Money:
    """The run's money per (arm, year), means over replications, in EUR."""

    arms: list[str]
    years: list[int]
    lines: pd.DataFrame  # index (arm, year), one column per cost line
    books: pd.DataFrame  # index (arm, year): grant_/budget_/compensation_/spend_/own_result_ per holder and total
    spend_total: pd.Series  # index (arm, year): spending as booked
    replications: int


def money(results: Results) -> Money:
    """The means over replications per arm and year of the cost lines and the holders' books."""
    salary = {
        arm: float(results.arm_settings.get(arm, {}).get("staff.salary", results.params["staff.salary"]))
        for arm in results.arms
    }
    wide = whole(results.frame)
    wide = wide[wide.index.get_level_values("regime").isin(results.arms)]
    keys = ["regime", "year"]
    lines = line_costs(wide, salary).groupby(level=keys).mean()
    books = own_result_frame(wide).groupby(level=keys).mean()
    spend = wide["spend_total"].groupby(level=keys).mean()
    years = sorted(int(y) for y in wide.index.get_level_values("year").unique())
    return Money(list(results.arms), years, lines, books, spend, int(results.frame["replication"].nunique()))


# --- writing ------------------------------------------------------------------------------------------------------


@dataclass
class Book:
    """The open workbook, its formats, and where each figure landed (for the formulas that refer to it)."""

    wb: xlsxwriter.Workbook
    t: Translator
    formats: dict[str, xlsxwriter.format.Format] = field(default_factory=dict)
    cells: dict[tuple, str] = field(default_factory=dict)  # (sheet key, ...) -> 'Sheet'!A1
    checks: list[tuple[str, str, str, str]] = field(default_factory=list)  # (what, arm, year, formula)

    def ref(self, sheet, row: int, col: int) -> str:
        return f"{quote_sheetname(sheet.name)}!{xl_rowcol_to_cell(row, col)}"


def _formats(wb: xlsxwriter.Workbook, lang: str) -> dict:
    return {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "note": wb.add_format({"italic": True, "font_color": "#555555"}),
        "header": wb.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1, "text_wrap": True, "valign": "top"}),
        "sub": wb.add_format({"italic": True, "bg_color": "#F2F2F2", "text_wrap": True, "valign": "top"}),
        "text": wb.add_format({"valign": "top"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "bold": wb.add_format({"bold": True}),
        "year": wb.add_format({"num_format": "0"}),
        "euro": wb.add_format({"num_format": EURO[lang]}),
        "euro_total": wb.add_format({"num_format": EURO[lang], "bold": True, "top": 1}),
        "label_total": wb.add_format({"bold": True, "top": 1}),
        "cents": wb.add_format({"num_format": CENTS[lang]}),
        "cents_bold": wb.add_format({"num_format": CENTS[lang], "bold": True}),
    }


def arm_label(t: Translator, arm: str) -> str:
    """An arm's name in the workbook's language ('integrated + pooling practices' -> 'ontschot + ...')."""
    return " + ".join(t(part) for part in arm.split(" + "))


def _sheet(
    book: Book, title: str, note: str, header: list[str], widths: list[int], header_row: int = FIRST_DATA_ROW - 1
):
    sheet = book.wb.add_worksheet(book.t(title)[:31])
    f = book.formats
    sheet.write(0, 0, book.t(title), f["title"])
    sheet.write(1, 0, note, f["note"])
    for col, text in enumerate(header):
        sheet.write(header_row, col, text, f["header"])
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    return sheet


def _sum(refs: list[str]) -> str:
    return f"SUM({','.join(refs)})" if refs else "0"


def _spending(book: Book, m: Money) -> None:
    t, f = book.t, book.formats
    header = [
        t("Arm"),
        t("Year"),
        *(t(c.label) for c in COST_LINES),
        t("Total of the cost lines"),
        t("Spending as booked (spend_total)"),
    ]
    sheet = _sheet(
        book,
        "Spending",
        t(
            "EUR per year, mean over the replications. Rows 5 and 6: the budget that pays "
            "each cost line under partitions and its task field (taakveld)."
        ),
        header,
        [WIDTH_LABEL, WIDTH_YEAR, *[WIDTH_MONEY] * (len(COST_LINES) + 2)],
    )
    sheet.set_row(FIRST_DATA_ROW - 1, 60)
    sheet.write(FIRST_DATA_ROW, 0, t("Budget (under partitions)"), f["sub"])
    sheet.write(FIRST_DATA_ROW + 1, 0, t("Task field (taakveld)"), f["sub"])
    for k, c in enumerate(COST_LINES):
        sheet.write(FIRST_DATA_ROW, 2 + k, t(BUDGETS[c.budget]), f["sub"])
        sheet.write(FIRST_DATA_ROW + 1, 2 + k, c.task_field, f["sub"])
    first = FIRST_DATA_ROW + 2
    sheet.freeze_panes(first, 2)
    total_col, booked_col = 2 + len(COST_LINES), 3 + len(COST_LINES)
    row = first
    for arm in m.arms:
        top = row
        for year in m.years:
            sheet.write(row, 0, arm_label(t, arm))
            sheet.write_number(row, 1, year, f["year"])
            values = m.lines.loc[(arm, year)]
            for k, c in enumerate(COST_LINES):
                sheet.write_number(row, 2 + k, float(values[c.name]), f["euro"])
                book.cells[("line", arm, year, c.name)] = book.ref(sheet, row, 2 + k)
            span = f"{xl_rowcol_to_cell(row, 2)}:{xl_rowcol_to_cell(row, total_col - 1)}"
            sheet.write_formula(row, total_col, f"=SUM({span})", f["euro"])
            sheet.write_number(row, booked_col, float(m.spend_total.loc[(arm, year)]), f["euro"])
            book.cells[("lines_total", arm, year)] = book.ref(sheet, row, total_col)
            book.cells[("booked", arm, year)] = book.ref(sheet, row, booked_col)
            row += 1
        _total_row(book, sheet, row, top, arm, 2, booked_col)
        for k, c in enumerate(COST_LINES):
            book.cells[("line", arm, None, c.name)] = book.ref(sheet, row, 2 + k)
        book.cells[("lines_total", arm, None)] = book.ref(sheet, row, total_col)
        book.cells[("booked", arm, None)] = book.ref(sheet, row, booked_col)
        row += 1


def _total_row(book: Book, sheet, row: int, top: int, arm: str, first_col: int, last_col: int) -> None:
    """An arm's horizon row: SUM over its year rows (``top`` .. ``row - 1``) in columns first_col..last_col."""
    f = book.formats
    sheet.write(row, 0, arm_label(book.t, arm), f["label_total"])
    sheet.write(row, 1, book.t("all years"), f["label_total"])
    for col in range(first_col, last_col + 1):
        span = f"{xl_rowcol_to_cell(top, col)}:{xl_rowcol_to_cell(row - 1, col)}"
        sheet.write_formula(row, col, f"=SUM({span})", f["euro_total"])


def _task_fields(book: Book, m: Money) -> None:
    t, f = book.t, book.formats
    fields = list(TASK_FIELDS)
    header = [t("Arm"), t("Year"), *(f"{code} {name}" for code, name in TASK_FIELDS.items()), t("Total")]
    sheet = _sheet(
        book,
        "Task fields",
        t(
            "EUR per year: each task field (taakveld, BBV programme 6) is the sum of its "
            "cost lines on the spending sheet; 6.1, 6.6 and 6.81 are not modelled (0)."
        ),
        header,
        [WIDTH_LABEL, WIDTH_YEAR, *[WIDTH_MONEY] * (len(fields) + 1)],
    )
    sheet.set_row(FIRST_DATA_ROW - 1, 60)
    sheet.freeze_panes(FIRST_DATA_ROW, 2)
    total_col = 2 + len(fields)
    row = FIRST_DATA_ROW
    for arm in m.arms:
        top = row
        for year in m.years:
            sheet.write(row, 0, arm_label(t, arm))
            sheet.write_number(row, 1, year, f["year"])
            for k, code in enumerate(fields):
                refs = [book.cells[("line", arm, year, c.name)] for c in COST_LINES if c.task_field == code]
                if refs:
                    sheet.write_formula(row, 2 + k, "=" + "+".join(refs), f["euro"])
                else:
                    sheet.write_number(row, 2 + k, 0, f["euro"])
            span = f"{xl_rowcol_to_cell(row, 2)}:{xl_rowcol_to_cell(row, total_col - 1)}"
            sheet.write_formula(row, total_col, f"=SUM({span})", f["euro"])
            book.cells[("fields_total", arm, year)] = book.ref(sheet, row, total_col)
            row += 1
        _total_row(book, sheet, row, top, arm, 2, total_col)
        for k, code in enumerate(fields):
            book.cells[("field", arm, None, code)] = book.ref(sheet, row, 2 + k)
        book.cells[("fields_total", arm, None)] = book.ref(sheet, row, total_col)
        row += 1


def _business_case(book: Book, m: Money) -> None:
    t, f = book.t, book.formats
    base = m.arms[0]
    budgets = list(BUDGETS)
    header = [
        t("Arm"),
        t("Year"),
        *(t(BUDGETS[b]) for b in budgets),
        t("Municipality (all budgets)"),
        t("Cumulative (municipality)"),
    ]
    note = t(
        "Net position per budget against the baseline ({base}): the baseline's spending minus the arm's, EUR per "
        "year (positive: the arm spends less; negative: it invests). Each cost line counts for the budget that "
        "pays it under partitions."
    ).format(base=arm_label(t, base))
    sheet = _sheet(book, "Business case", note, header, [WIDTH_LABEL, WIDTH_YEAR, *[WIDTH_MONEY] * (len(budgets) + 2)])
    sheet.set_row(FIRST_DATA_ROW - 1, 45)
    sheet.freeze_panes(FIRST_DATA_ROW, 2)
    total_col = 2 + len(budgets)
    row = FIRST_DATA_ROW
    for arm in m.arms[1:]:
        top = row
        for year in m.years:
            sheet.write(row, 0, arm_label(t, arm))
            sheet.write_number(row, 1, year, f["year"])
            for k, budget in enumerate(budgets):
                names = [c.name for c in COST_LINES if c.budget == budget]
                base_refs = [book.cells[("line", base, year, n)] for n in names]
                arm_refs = [book.cells[("line", arm, year, n)] for n in names]
                sheet.write_formula(row, 2 + k, f"={_sum(base_refs)}-{_sum(arm_refs)}", f["euro"])
            span = f"{xl_rowcol_to_cell(row, 2)}:{xl_rowcol_to_cell(row, total_col - 1)}"
            sheet.write_formula(row, total_col, f"=SUM({span})", f["euro"])
            here = xl_rowcol_to_cell(row, total_col)
            before = f"{xl_rowcol_to_cell(row - 1, total_col + 1)}+" if row > top else ""
            sheet.write_formula(row, total_col + 1, f"={before}{here}", f["euro"])
            book.cells[("case_total", arm, year)] = book.ref(sheet, row, total_col)
            row += 1
        _total_row(book, sheet, row, top, arm, 2, total_col)
        book.cells[("case_total", arm, None)] = book.ref(sheet, row, total_col)
        row += 2  # a blank row between arms


OWN_COLUMNS = (
    ("grant_", "Grant"),
    ("budget_", "Budget"),
    ("compensation_", "Safety net (vangnet)"),
    ("spend_", "Spending"),
)


def _own_result(book: Book, m: Money) -> None:
    t, f = book.t, book.formats
    header = [
        t("Arm"),
        t("Year"),
        t("Budget holder"),
        *(t(what) for _, what in OWN_COLUMNS),
        t("Own result = budget + safety net − spending"),
        t("Own result as booked"),
    ]
    note = t(
        "EUR per year as each budget holder booked it; the own result is computed here by formula. The safety net "
        "(vangnet) goes to the income budget (BUIG) only."
    )
    sheet = _sheet(book, "Own result", note, header, [WIDTH_LABEL, WIDTH_YEAR, WIDTH_LABEL, *[WIDTH_MONEY] * 6])
    sheet.set_row(FIRST_DATA_ROW - 1, 45)
    sheet.freeze_panes(FIRST_DATA_ROW, 3)
    holders = [*HOLDER_NAMES, "total"]
    names = {**{h: t(n) for h, n in HOLDER_NAMES.items()}, "total": t("Municipality")}
    col_of = {prefix: 3 + k for k, (prefix, _) in enumerate(OWN_COLUMNS)}
    own_col, booked_col = 3 + len(OWN_COLUMNS), 4 + len(OWN_COLUMNS)
    row = FIRST_DATA_ROW
    for arm in m.arms:
        rows_of: dict[str, list[int]] = {h: [] for h in holders}
        for year in [*m.years, None]:
            first = row
            for h in holders:
                total = h == "total"
                fmt = f["euro_total"] if total or year is None else f["euro"]
                label_fmt = f["label_total"] if total or year is None else None
                sheet.write(row, 0, arm_label(t, arm), label_fmt)
                if year is None:
                    sheet.write(row, 1, t("all years"), label_fmt)
                else:
                    sheet.write_number(row, 1, year, f["year"])
                sheet.write(row, 2, names[h], label_fmt)
                for prefix, col in col_of.items():
                    if year is None:  # horizon: the holder's rows summed over the years
                        refs = [xl_rowcol_to_cell(r, col) for r in rows_of[h]]
                        sheet.write_formula(row, col, "=" + _sum(refs), fmt)
                    elif total:  # the municipality: the holders' rows above
                        span = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(row - 1, col)}"
                        sheet.write_formula(row, col, f"=SUM({span})", fmt)
                    else:
                        sheet.write_number(row, col, _book_value(m, arm, year, prefix, h), fmt)
                cell = {p: xl_rowcol_to_cell(row, c) for p, c in col_of.items()}
                sheet.write_formula(row, own_col, f"={cell['budget_']}+{cell['compensation_']}-{cell['spend_']}", fmt)
                if year is None:
                    refs = [xl_rowcol_to_cell(r, booked_col) for r in rows_of[h]]
                    sheet.write_formula(row, booked_col, "=" + _sum(refs), fmt)
                else:
                    sheet.write_number(row, booked_col, _book_value(m, arm, year, "own_result_", h), fmt)
                    rows_of[h].append(row)
                book.cells[("own", arm, year, h)] = book.ref(sheet, row, own_col)
                book.cells[("own_booked", arm, year, h)] = book.ref(sheet, row, booked_col)
                book.cells[("holder_spend", arm, year, h)] = book.ref(sheet, row, col_of["spend_"])
                row += 1


def _book_value(m: Money, arm: str, year: int, prefix: str, holder: str) -> float:
    """A holder's booked figure; 0 for a figure the results do not hold (a holder an older run did not report)."""
    column = f"{prefix}{holder}"
    return float(m.books.loc[(arm, year), column]) if column in m.books.columns else 0.0


def _checks(book: Book, m: Money) -> int:
    """Every check as a formula that is zero when the sheets agree; returns how many there are."""
    t = book.t
    base = m.arms[0]
    rows = []
    for arm in m.arms:
        for year in [*m.years, None]:
            booked = book.cells[("booked", arm, year)]
            rows.append(
                (
                    t("task fields total − spending as booked"),
                    arm,
                    year,
                    f"={book.cells[('fields_total', arm, year)]}-{booked}",
                )
            )
            rows.append(
                (
                    t("cost lines total − spending as booked"),
                    arm,
                    year,
                    f"={book.cells[('lines_total', arm, year)]}-{booked}",
                )
            )
            rows.append(
                (
                    t("budget holders' spending − spending as booked"),
                    arm,
                    year,
                    f"={book.cells[('holder_spend', arm, year, 'total')]}-{booked}",
                )
            )
            for h in [*HOLDER_NAMES, "total"]:
                name = t(HOLDER_NAMES[h]) if h in HOLDER_NAMES else t("Municipality")
                rows.append(
                    (
                        t("own result (formula) − own result as booked: {holder}").format(holder=name),
                        arm,
                        year,
                        f"={book.cells[('own', arm, year, h)]}-{book.cells[('own_booked', arm, year, h)]}",
                    )
                )
    for arm in m.arms[1:]:
        for year in [*m.years, None]:
            difference = f"({book.cells[('booked', arm, year)]}-{book.cells[('booked', base, year)]})"
            rows.append(
                (
                    t("business case (all budgets) + spending difference against the baseline"),
                    arm,
                    year,
                    f"={book.cells[('case_total', arm, year)]}+{difference}",
                )
            )
    f = book.formats
    header = [t("Check"), t("Arm"), t("Year"), t("Deviation (EUR)"), t("Holds (|deviation| ≤ tolerance)")]
    note = t("Every deviation is a formula over the other sheets and should be 0 (to the cent).")
    top = FIRST_DATA_ROW + 4
    sheet = _sheet(book, "Checks", note, header, [60, WIDTH_LABEL, WIDTH_YEAR + 4, WIDTH_MONEY, 22], top - 1)
    last = top + len(rows) - 1
    values = f"{xl_rowcol_to_cell(top, 3)}:{xl_rowcol_to_cell(last, 3)}"
    verdicts = f"{xl_rowcol_to_cell(top, 4)}:{xl_rowcol_to_cell(last, 4)}"
    tol = xl_rowcol_to_cell(FIRST_DATA_ROW, 3, row_abs=True, col_abs=True)
    sheet.write(FIRST_DATA_ROW, 0, t("Tolerance (EUR)"), f["bold"])
    sheet.write_number(FIRST_DATA_ROW, 3, TOLERANCE, f["cents_bold"])
    sheet.write(FIRST_DATA_ROW + 1, 0, t("Largest |deviation| (EUR)"), f["bold"])
    sheet.write_formula(FIRST_DATA_ROW + 1, 3, f"=MAX(MAX({values}),-MIN({values}))", f["cents_bold"])
    sheet.write(FIRST_DATA_ROW + 2, 0, t("All checks hold"), f["bold"])
    sheet.write_formula(FIRST_DATA_ROW + 2, 3, f"=AND({verdicts})", f["bold"])
    sheet.freeze_panes(top, 1)
    for k, (what, arm, year, formula) in enumerate(rows):
        row = top + k
        sheet.write(row, 0, what)
        sheet.write(row, 1, arm_label(t, arm))
        if year is None:
            sheet.write(row, 2, t("all years"))
        else:
            sheet.write_number(row, 2, year, f["year"])
        sheet.write_formula(row, 3, formula, f["cents"])
        sheet.write_formula(row, 4, f"=ABS({xl_rowcol_to_cell(row, 3)})<={tol}")
    sheet.autofilter(top - 1, 0, last, 4)
    return len(rows)


def _readme(book: Book, results: Results, m: Money, sheets: dict[str, str]) -> None:
    t, f = book.t, book.formats
    sheet = book.wb.add_worksheet(t("Read me")[:31])
    sheet.set_column(0, 0, WIDTH_LABEL)
    sheet.set_column(1, 1, WIDTH_TEXT)
    sheet.write(0, 0, t("Ontschot: the controller's workbook"), f["title"])
    manifest, params = results.manifest, results.params
    code = manifest.get("code_version") or {}
    now = code_version()
    commit = code.get("commit", code.get("package", t("unknown")))
    overrides = manifest.get("overrides") or {}
    seeds = manifest.get("replication_seeds") or []
    rows = [
        (t("Results folder"), str(results.folder)),
        (t("Scenario"), manifest.get("scenario_file") or t("the default scenario")),
        (t("Changed from the defaults"), ", ".join(f"{k} = {v}" for k, v in overrides.items()) or t("nothing")),
        (t("Inhabitants"), t.persons(params["scenario.inhabitants"])),
        (t("Years simulated"), str(len(m.years))),
        (t("Regime from year"), str(stored_from_year(params))),
        (t("Replications"), str(m.replications)),
        (t("Root seed"), str(manifest.get("root_seed", t("unknown")))),
        (t("Seeds of the replications"), ", ".join(str(s) for s in seeds) or t("unknown")),
        (t("Baseline arm"), arm_label(t, m.arms[0])),
        (t("Arms"), "; ".join(arm_label(t, a) for a in m.arms)),
        (t("Run made"), str(manifest.get("created", t("unknown")))),
        (t("Code version of the run"), f"{commit}" + (t(" (with uncommitted changes)") if code.get("dirty") else "")),
        (t("Workbook written"), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
        (t("Workbook written by code"), str(now.get("commit", now.get("package", t("unknown"))))),
        (
            t("Units"),
            t(
                "euros (EUR) per simulated year, the mean over the replications; a horizon row ('all years') "
                "sums the years. Number formats follow the spreadsheet program's language settings."
            ),
        ),
        (
            t("Sign of the business case"),
            t(
                "positive: the arm spends less than the baseline on that budget (a "
                "saving); negative: it spends more (an investment)"
            ),
        ),
    ]
    row = 2
    for key, value in rows:
        sheet.write(row, 0, key, f["bold"])
        sheet.write(row, 1, value, f["wrap"])
        row += 1
    row += 1
    sheet.write(row, 0, t("Sheets"), f["header"])
    sheet.write(row, 1, t("What it holds"), f["header"])
    for name, text in sheets.items():
        row += 1
        sheet.write(row, 0, name, f["bold"])
        sheet.write(row, 1, text, f["wrap"])


def build_workbook(results_folder: str | Path, out_path: str | Path, lang: str = "nl") -> Path:
    """Write the controller's workbook of a run folder to ``out_path`` (a ``.xlsx`` file); return its path.

    The file is written under a temporary name next to it and renamed into place, so a failure leaves no
    half-written workbook.

    Raises:
        InputError: the results folder is missing, incompatible, or not a run folder; a bad language.
        OutputError: ``out_path`` is a folder, has another suffix, is a file ontschot did not write, or
            cannot be written.
    """
    check_source(results_folder, lang)
    t = translator(lang, "workbook")
    results = load_results(results_folder)
    out = check_path(out_path)
    m = money(results)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=SUFFIX, dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False})
        wb.set_properties(
            {"title": t("Ontschot: the controller's workbook"), "author": "ontschot", "comments": str(results.folder)}
        )
        wb.set_custom_property(MARK_NAME, MARK_VALUE)
        book = Book(wb, t, _formats(wb, lang))
        sheets = {
            t("Read me"): t("this page: the scenario, the seeds, the code version, the units"),
            t("Spending"): t(
                "spending per arm and year per cost line (numbers), their total (formula) and the spending "
                "as the model booked it"
            ),
            t("Task fields"): t(
                "the task fields (taakvelden) per arm and year, each the sum of its cost lines "
                "(formulas); the total equals the spending"
            ),
            t("Business case"): t(
                "per budget and year the baseline's spending minus the arm's (formulas), with "
                "totals per year, per budget and cumulative"
            ),
            t("Own result"): t(
                "per budget holder and year: grant, budget, safety net, spending (numbers) and the own "
                "result = budget + safety net − spending (formula), next to the own result as booked"
            ),
            t("Checks"): t(
                "formulas that are 0 when the sheets add up: task fields and cost lines against spending, "
                "the holders' spending, each own result, the business case against the spending difference"
            ),
        }
        _readme(book, results, m, sheets)
        _spending(book, m)
        _task_fields(book, m)
        _business_case(book, m)
        _own_result(book, m)
        _checks(book, m)
        wb.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except (OSError, XlsxWriterException) as exc:
        tmp.unlink(missing_ok=True)
        reason = os_reason(exc) if isinstance(exc, OSError) else " ".join(str(exc).split())[:120]
        raise OutputError(f"--xlsx {show_path(out)}: the workbook could not be written ({reason})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
