"""The controller's workbook (``ontschot report RESULTS --xlsx``) adds up by formula.

A small real run (three regimes, so the pooled desk and the transformation desk's arms appear) becomes a workbook;
openpyxl reads it (the totals are formulas, not values) and the ``formulas`` package evaluates every formula as a
spreadsheet program would. The evaluated totals are compared with the run's own ``results.parquet`` (read here
directly, not through the workbook's code), every check cell must be 0 to the cent, and a number changed by hand
must make the checks fail. Bad paths are refused in one line with exit status 2 and leave other files alone.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import formulas
import openpyxl
import pandas as pd
import pytest

from analysis.report import workbook
from analysis.report.load import load_results
from analysis.report.tables import HOLDER_NAMES, business_case
from analysis.report.taskfields import BUDGETS, TASK_FIELDS
from experiments.cli import main

CENT = 0.01  # EUR
RUN = [
    "--regimes",
    "compartmentalised,integrated,gradual",
    "--set",
    "scenario.pooled_share=0.3",
    "--set",
    "scenario.inhabitants=4000",
    "--years",
    "3",
    "--replications",
    "2",
    "--seed",
    "5",
    "--no-progress",
    "--no-explain",
]
SHEETS = {
    "nl": ["Lees mij", "Uitgaven", "Taakvelden", "Businesscase", "Eigen resultaat", "Controles"],
    "en": ["Read me", "Spending", "Task fields", "Business case", "Own result", "Checks"],
}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    parent = tmp_path_factory.mktemp("workbook")
    assert main(["run", *RUN, "--out", str(parent)]) == 0
    (folder,) = [p for p in parent.iterdir() if p.is_dir()]
    return folder


@pytest.fixture(scope="module")
def dutch(run_folder) -> Path:
    assert main(["report", str(run_folder), "--xlsx"]) == 0
    path = run_folder / "ontschot-werkboek.xlsx"
    assert path.is_file()
    return path


def evaluate(path: Path) -> dict[tuple[str, str], object]:
    """Every cell's value after the workbook's formulas are calculated: (SHEET NAME in capitals, 'A1') -> value."""
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    values = {}
    for key, value in solution.items():
        found = re.fullmatch(r"'\[[^\]]+\](.+)'!([A-Z]+[0-9]+)", key)
        if found:
            values[(found.group(1), found.group(2))] = value.value[0][0] if hasattr(value, "value") else value
    return values


def rows(sheet, first: int = 1):
    """Each row as (row number, values) from ``first`` on."""
    for row in sheet.iter_rows(min_row=first):
        yield row[0].row, [c.value for c in row]


def is_formula(value) -> bool:
    return isinstance(value, str) and value.startswith("=")


def booked(folder: Path) -> pd.DataFrame:
    """The run's whole-population indicators per (arm, replication, year), straight from results.parquet."""
    frame = pd.read_parquet(folder / "results.parquet")
    frame = frame[frame["group_by"] == "all"]
    arm = "arm" if "arm" in frame.columns else "regime"
    return frame.pivot_table(index=[arm, "replication", "year"], columns="indicator", values="value", aggfunc="sum")


def horizon_mean(wide: pd.DataFrame, column: str) -> pd.Series:
    """Per arm: the indicator summed over the years, the mean over the replications (EUR)."""
    return wide[column].groupby(level=[0, 1]).sum().groupby(level=0).mean()


def check_cells(book, values, sheet_name: str):
    """The checks sheet's deviation cells: (formula, evaluated value) for every check row."""
    sheet = book[sheet_name]
    out = []
    for number, cells in rows(sheet, 9):
        if is_formula(cells[3]):
            out.append((cells[3], values[(sheet_name.upper(), f"D{number}")]))
    return out


def test_the_dutch_workbook_holds_formulas_that_reconcile_with_the_run(run_folder, dutch):
    book = openpyxl.load_workbook(dutch)  # formulas as written, not cached values
    assert book.sheetnames == SHEETS["nl"]
    values = evaluate(dutch)
    results = load_results(run_folder)
    wide = booked(run_folder)
    years = sorted(wide.index.get_level_values("year").unique())
    labels = {a: workbook.arm_label(workbook.translator("nl", "workbook"), a) for a in results.arms}
    assert labels["compartmentalised"] == "verkokerd" and labels["integrated"] == "ontschot"

    spending = book["Uitgaven"]
    numbers = [c for _, cells in rows(spending, 7) if cells[0] and cells[1] != "alle jaren" for c in cells[2:19]]
    assert numbers and all(isinstance(c, (int, float)) for c in numbers)  # the cost lines are numbers
    assert all(is_formula(cells[19]) for _, cells in rows(spending, 7) if cells[0])  # their total a SUM

    # Task fields: each field refers to the spending sheet, the total is a SUM, and it equals the run's spending.
    fields = book["Taakvelden"]
    spend = horizon_mean(wide, "spend_total")
    seen = {}
    for number, cells in rows(fields, 5):
        if cells[1] == "alle jaren":
            assert all(is_formula(c) for c in cells[2:11])
            seen[cells[0]] = float(values[("TAAKVELDEN", f"K{number}")])
        elif cells[0]:
            assert is_formula(cells[4]) and "Uitgaven!" in cells[4] and cells[10].startswith("=SUM(")
    for arm in results.arms:
        assert seen[labels[arm]] == pytest.approx(spend[arm], abs=CENT)

    # Business case: per budget the baseline's spending minus the arm's; its totals equal the report's own table.
    salary = float(results.params["staff.salary"])
    case_sheet = book["Businesscase"]
    totals = {}
    for number, cells in rows(case_sheet, 5):
        if cells[1] == "alle jaren":
            totals[cells[0]] = [float(values[("BUSINESSCASE", f"{col}{number}")]) for col in "CDEF"]
        elif cells[0]:
            assert all(is_formula(c) for c in cells[2:7])
    assert set(totals) == {labels[a] for a in results.others}
    for arm in results.others:
        case = business_case(results.frame, results.base, arm, salary).totals.set_index("budget")["net"] * 1e6
        for k, budget in enumerate(BUDGETS):
            assert totals[labels[arm]][k] == pytest.approx(case[budget], abs=CENT)
        assert totals[labels[arm]][3] == pytest.approx(spend[results.base] - spend[arm], abs=CENT)

    # Own result per holder: budget + safety net - spending by formula, equal to the run's own result as booked.
    own_sheet = book["Eigen resultaat"]
    names = {workbook.translator("nl", "workbook")(n): h for h, n in HOLDER_NAMES.items()}
    found = {}
    for number, cells in rows(own_sheet, 5):
        if cells[0]:
            assert is_formula(cells[7]) and "+" in cells[7] and "-" in cells[7]
        if cells[1] == "alle jaren":
            found[(cells[0], names.get(cells[2], "total"))] = float(values[("EIGEN RESULTAAT", f"H{number}")])
    for arm in results.arms:
        for h in HOLDER_NAMES:
            assert found[(labels[arm], h)] == pytest.approx(horizon_mean(wide, f"own_result_{h}")[arm], abs=CENT)
        assert found[(labels[arm], "total")] == pytest.approx(horizon_mean(wide, "own_result_total")[arm], abs=CENT)

    # Checks: every deviation a formula, every one 0 to the cent, as many as the arms, years and holders make.
    checks = check_cells(book, values, "Controles")
    arms, periods = len(results.arms), len(years) + 1
    assert len(checks) == arms * periods * (3 + len(HOLDER_NAMES) + 1) + (arms - 1) * periods
    assert all(is_formula(f) for f, _ in checks)
    assert max(abs(float(v)) for _, v in checks) <= CENT
    assert float(values[("CONTROLES", "D6")]) <= CENT and bool(values[("CONTROLES", "D7")]) is True
    assert list(TASK_FIELDS)[0] in str(fields["C4"].value)


def test_a_number_changed_by_hand_makes_the_checks_fail(dutch, tmp_path):
    book = openpyxl.load_workbook(dutch)
    sheet = book["Uitgaven"]
    sheet["C8"] = float(sheet["C8"].value) + 1000.0  # one year's benefits of the baseline, 1,000 euros more
    changed = tmp_path / "changed.xlsx"
    book.save(changed)
    values = evaluate(changed)
    deviations = [abs(float(v)) for _, v in check_cells(openpyxl.load_workbook(changed), values, "Controles")]
    assert max(deviations) == pytest.approx(1000.0, abs=CENT)
    assert bool(values[("CONTROLES", "D7")]) is False


def test_the_english_workbook(run_folder, tmp_path):
    path = workbook.build_workbook(run_folder, tmp_path / "wb.xlsx", lang="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == SHEETS["en"]
    assert book["Spending"]["A4"].value == "Arm" and book["Spending"]["C4"].value.startswith("Social assistance")
    values = evaluate(path)
    checks = check_cells(book, values, "Checks")
    assert checks and max(abs(float(v)) for _, v in checks) <= CENT
    assert workbook.default_path(run_folder, None, "en").name == "ontschot-workbook.xlsx"


def test_next_to_the_html_report_and_overwriting_its_own_workbook(run_folder, tmp_path, capsys):
    html = tmp_path / "memo" / "report.html"
    assert main(["report", str(run_folder), "--out", str(html), "--xlsx"]) == 0
    assert html.is_file() and (tmp_path / "memo" / "report.xlsx").is_file()
    assert "Workbook written to" in capsys.readouterr().out
    assert main(["report", str(run_folder), "--xlsx", str(tmp_path / "memo" / "report.xlsx")]) == 0  # its own file
    assert not [p for p in (tmp_path / "memo").iterdir() if p.name.startswith(".")]  # no temporary file left


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


def test_bad_paths_are_refused_in_one_line_and_other_files_are_left_alone(run_folder, tmp_path, capsys):
    assert main(["report", str(run_folder), "--xlsx", str(tmp_path)]) == 2  # an existing folder
    assert "is a folder" in one_error_line(capsys)
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert main(["report", str(run_folder), "--xlsx", str(notes)]) == 2  # not an .xlsx name
    assert "must end in .xlsx" in one_error_line(capsys) and notes.read_text() == "mine"
    foreign = tmp_path / "budget.xlsx"
    foreign.write_bytes(b"someone else's spreadsheet")
    assert main(["report", str(run_folder), "--xlsx", str(foreign)]) == 2  # an .xlsx ontschot did not write
    assert "was not written by ontschot" in one_error_line(capsys)
    assert foreign.read_bytes() == b"someone else's spreadsheet"
    assert main(["report", str(run_folder), "--xlsx", str(notes / "wb.xlsx")]) == 2  # a file where a folder goes
    assert "is a file, not a folder" in one_error_line(capsys)
    assert main(["report", str(tmp_path / "missing"), "--xlsx"]) == 2  # no results folder: nothing is created
    assert "does not exist" in one_error_line(capsys) and not (tmp_path / "missing").exists()


def test_an_unwritable_folder_is_refused_before_anything_is_written(run_folder, tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(workbook.tempfile, "mkstemp", refuse)  # as root, a read-only folder is still writable
    target = tmp_path / "locked" / "wb.xlsx"
    assert main(["report", str(run_folder), "--xlsx", str(target)]) == 2
    assert "cannot be written: Permission denied" in one_error_line(capsys) and not target.exists()


KINDS = {  # what may stand where a sweep's or discovery's record should be, and how the refusal names it
    "named pipe": (lambda p: os.mkfifo(p), "is a named pipe, not a regular file"),
    "link to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), "is a character device, not a regular file"),
    "dangling link": (lambda p: p.symlink_to(p.with_name("gone.json")), "is a symbolic link to nothing"),
    "folder": (lambda p: p.mkdir(), "is a folder, not a regular file"),
}


@pytest.mark.parametrize("name", ["discovery.json", "sweep.json"])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("with_results", [True, False], ids=["in a run folder", "alone"])
def test_a_sweep_or_discovery_record_that_is_not_a_file_is_named_never_taken_for_a_run_folder(
    name, kind, with_results, run_folder, tmp_path, capsys
):
    folder = tmp_path / "results"
    if with_results:
        shutil.copytree(run_folder, folder, ignore=shutil.ignore_patterns("*.xlsx"))
    else:
        folder.mkdir()
    make, words = KINDS[kind]
    make(folder / name)
    target = tmp_path / "wb.xlsx"
    assert main(["report", str(folder), "--xlsx", str(target)]) == 2
    line = one_error_line(capsys)
    assert f"{name}' {words}" in line and "not a results folder" not in line, line
    assert not target.exists()
