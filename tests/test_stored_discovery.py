"""A discovery folder as a hostile user leaves it (issue #22): discovery.json and discovery_points.csv tampered.

A real tiny discovery is made once; each test copies its files and changes one thing: a field of the
wrong type, out of range or missing, a name with HTML or mathtext, a million boxes, the points table
without a column or with a row twice, a file replaced by a named pipe. ``ontschot report`` answers
each with one line naming the file and the field, exit 2, no traceback and no page; ``ontschot
discover --analyse`` reads the stored outcomes and PRIM settings through the same checks. Texts that
are free words (an outcome's ``says``, a dimension's label) are accepted and shown as written: escaped
in the page, drawn literally in the figures.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.cli import main
from tests.test_discovery import write_tiny

ROOT = Path(__file__).resolve().parent.parent
GUARD = 60  # seconds: a command that has not answered by then hangs
FILES = ("sweep.json", "discovery.json", "discovery_points.csv")  # what the report of a discovery reads
DROP = object()  # a field removed
DJ, DP = "discovery.json", "discovery_points.csv"


@pytest.fixture(scope="module")
def discovery(tmp_path_factory) -> Path:
    """A tiny real discovery folder (10 points, 2 outcomes; the payback outcome has a box on the pooled share)."""
    parent = tmp_path_factory.mktemp("stored-discovery")
    out = parent / "out"
    assert main(["discover", str(write_tiny(parent)), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    record = json.loads((out / DJ).read_text())
    assert [b["status"] for b in record["boxes"]] == ["no-box", "box"], "the fixture needs a box with a restriction"
    return out


@pytest.fixture()
def folder(discovery, tmp_path) -> Path:
    """A copy of the discovery folder's files the report reads."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in FILES:
        shutil.copy(discovery / name, copy / name)
    return copy


def edit(*path, value=DROP):
    """A tampering that sets (or removes) one field of discovery.json."""
    def tamper(folder: Path) -> None:
        record = json.loads((folder / DJ).read_text())
        target = record
        for key in path[:-1]:
            target = target[key]
        if value is DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        (folder / DJ).write_text(json.dumps(record, allow_nan=True))
    return tamper


def points(change):
    """A tampering that rewrites discovery_points.csv."""
    def tamper(folder: Path) -> None:
        change(pd.read_csv(folder / DP)).to_csv(folder / DP, index=False)
    return tamper


def replace(name: str, how: str):
    """A tampering that puts a named pipe, a link to /dev/zero or a folder where a file was."""
    def tamper(folder: Path) -> None:
        (folder / name).unlink()
        {"pipe": lambda p: os.mkfifo(p), "zero": lambda p: p.symlink_to("/dev/zero"),
         "folder": lambda p: p.mkdir()}[how](folder / name)
    return tamper


NAN, INF = float("nan"), float("inf")
BOX, LIMIT = ("boxes", 1), ("boxes", 1, "limits", 0)
DIM = ("dimensions", "scenario.pooled_share")

# (tampering, the file the message names, what it names of the field)
TAMPERED = {
    "points_analysed text": (edit("points_analysed", value="10"), DJ, "points_analysed = '10'"),
    "points_analysed above planned": (edit("points_analysed", value=11), DJ, "points_analysed = 11"),
    "points_planned negative": (edit("points_planned", value=-1), DJ, "points_planned = -1"),
    "points_planned missing": (edit("points_planned"), DJ, "points_planned = None"),
    "sampler a list": (edit("sampler", value=[]), DJ, "sampler = []"),
    "sampler.seed text": (edit("sampler", "seed", value="x"), DJ, "sampler.seed = 'x'"),
    "sampler.seed NaN": (edit("sampler", "seed", value=NAN), DJ, "sampler.seed = nan"),
    "pooled HTML": (edit("pooled", value="<b>x</b>"), DJ, "pooled = '<b>x</b>'"),
    "baseline a number": (edit("baseline", value=7), DJ, "baseline = 7"),
    "replications decimal": (edit("replications", value=1.5), DJ, "replications = 1.5"),
    "design a table": (edit("design", value={"x": 1}), DJ, "design = {'x': 1}"),
    "design a huge text": (edit("design", value="x" * 10**6), DJ, "design = "),
    "code_version text": (edit("code_version", value="x"), DJ, "code_version = 'x'"),
    "base out of range": (edit("base", "scenario.inhabitants", value=-5), DJ, 'base."scenario.inhabitants" = -5'),
    "base a list value": (edit("base", "no.such", value=[1] * 10), DJ, 'base."no.such"'),
    "setup text": (edit("setup", value="x"), DJ, "setup = 'x'"),
    "setup.pooled another": (edit("setup", "pooled", value="integrated"), DJ, "setup.pooled = 'integrated'"),
    "min_coverage text": (edit("setup", "prim", "min_coverage", value="0.5"), DJ, "setup.prim.min_coverage = '0.5'"),
    "min_coverage above 1": (edit("setup", "prim", "min_coverage", value=2), DJ, "setup.prim.min_coverage = 2"),
    "min_coverage NaN": (edit("setup", "prim", "min_coverage", value=NAN), DJ, "setup.prim.min_coverage = nan"),
    "max_quasi_p missing": (edit("setup", "prim", "max_quasi_p"), DJ, "setup.prim lacks max_quasi_p"),
    "setup without outcomes": (edit("setup", "outcomes", value=[]), DJ, "setup.outcomes = []"),
    "an outcome's summary unknown": (edit("setup", "outcomes", 0, "summary", value="happiness"), DJ,
                                     "setup.outcomes[0].summary = 'happiness'"),
    "discovery.json a list": (lambda f: (f / DJ).write_text("[]"), DJ, "is not a discovery record"),
    "HTML in an outcome's name": (edit("boxes", 0, "outcome", "name", value="<script>alert(1)</script>"), DJ,
                                  "boxes[0].outcome.name = '<script>alert(1)</script>'"),
    "mathtext in an outcome's name": (edit("boxes", 0, "outcome", "name", value="$x$"), DJ,
                                      "boxes[0].outcome.name = '$x$'"),
    "a path in an outcome's name": (edit("boxes", 1, "outcome", "name", value="../../x"), DJ,
                                    "boxes[1].outcome.name = '../../x'"),
    "an outcome missing": (edit("boxes", 1, "outcome"), DJ, "boxes[1].outcome = None"),
    "boxes renamed": (edit("boxes", 1, "outcome", "name", value="other"), DJ, "boxes = ['raises_outflow', 'other']"),
    "says a number": (edit("boxes", 0, "says", value=5), DJ, "boxes[0].says = 5"),
    "rule a list": (edit("boxes", 0, "rule", value=["x"]), DJ, "boxes[0].rule = ['x']"),
    "rule over two lines": (edit("boxes", 0, "rule", value="a\nb"), DJ, "boxes[0].rule = 'a\\nb'"),
    "definition missing": (edit("boxes", 0, "definition"), DJ, "boxes[0].definition = None"),
    "status unknown": (edit("boxes", 0, "status", value="maybe"), DJ, "boxes[0].status = 'maybe'"),
    "status none with a box": (edit("boxes", 1, "status", value="none"), DJ, "boxes[1].status = 'none'"),
    "base_rate above 1": (edit("boxes", 0, "base_rate", value=1.5), DJ, "boxes[0].base_rate = 1.5"),
    "base_rate NaN": (edit("boxes", 0, "base_rate", value=NAN), DJ, "boxes[0].base_rate = nan"),
    "base_rate text": (edit("boxes", 0, "base_rate", value="0.1"), DJ, "boxes[0].base_rate = '0.1'"),
    "n text": (edit("boxes", 0, "n", value="10"), DJ, "boxes[0].n = '10'"),
    "n_holds negative": (edit("boxes", 0, "n_holds", value=-1), DJ, "boxes[0].n_holds = -1"),
    "n_holds decimal": (edit("boxes", 0, "n_holds", value=2.5), DJ, "boxes[0].n_holds = 2.5"),
    "density above 1": (edit(*BOX, "density", value=1.2), DJ, "boxes[1].density = 1.2"),
    "coverage null": (edit(*BOX, "coverage", value=None), DJ, "boxes[1].coverage = None"),
    "mass infinite": (edit(*BOX, "mass", value=INF), DJ, "boxes[1].mass = inf"),
    "n_in_box above n": (edit(*BOX, "n_in_box", value=11), DJ, "boxes[1].n_in_box = 11"),
    "limits text": (edit(*BOX, "limits", value="x"), DJ, "boxes[1].limits = 'x'"),
    "a limit on an unknown path": (edit(*LIMIT, "path", value="no.such"), DJ, "boxes[1].limits[0].path = 'no.such'"),
    "a limit's path HTML": (edit(*LIMIT, "path", value="<i>x</i>"), DJ, "boxes[1].limits[0].path = '<i>x</i>'"),
    "quasi_p above 1": (edit(*LIMIT, "quasi_p", value=2), DJ, "boxes[1].limits[0].quasi_p = 2"),
    "quasi_p NaN": (edit(*LIMIT, "quasi_p", value=NAN), DJ, "boxes[1].limits[0].quasi_p = nan"),
    "upper text": (edit(*LIMIT, "upper", value="x"), DJ, "boxes[1].limits[0].upper = 'x'"),
    "no lower and no upper": (edit(*LIMIT, "upper", value=None), DJ, "boxes[1].limits[0] = "),
    "a limit's kind another": (edit(*LIMIT, "kind", value="choice"), DJ, "boxes[1].limits[0].kind = 'choice'"),
    "trajectory of a million steps": (edit(*BOX, "trajectory", value=[{}] * 10**6), DJ,
                                      "boxes[1].trajectory = <a list of 1,000,000>"),
    "a step's coverage text": (edit(*BOX, "trajectory", 0, "coverage", value="x"), DJ,
                               "boxes[1].trajectory[0].coverage = 'x'"),
    "chosen beyond the trajectory": (edit(*BOX, "chosen", value=999), DJ, "boxes[1].chosen = 999"),
    "a million boxes": (edit("boxes", value=[{}] * 10**6), DJ, "boxes = <a list of 1,000,000>"),
    "boxes a table": (edit("boxes", value={}), DJ, "boxes = {}"),
    "dimensions a list": (edit("dimensions", value=[]), DJ, "dimensions = []"),
    "a dimension's label a number": (edit(*DIM, "label", value=7), DJ,
                                     'dimensions."scenario.pooled_share".label = 7'),
    "a dimension's kind unknown": (edit(*DIM, "kind", value="x"), DJ, 'dimensions."scenario.pooled_share".kind = '),
    "a dimension's range reversed": (edit(*DIM, "range", value=[1, 0]), DJ,
                                     'dimensions."scenario.pooled_share".range = [1, 0]'),
    "a dimension's range text": (edit(*DIM, "range", value=["a", "b"]), DJ,
                                 'dimensions."scenario.pooled_share".range[0] = '),
    "a dimension's choices empty": (edit("dimensions", "practice.desk_objective", "choices", value=[]), DJ,
                                    'dimensions."practice.desk_objective".choices = []'),
    "a dimension named in HTML": (lambda f: edit("dimensions", value={
        "<b>x</b>": json.loads((f / DJ).read_text())["dimensions"]["scenario.pooled_share"]})(f), DJ,
                                  "dimensions (a key) = '<b>x</b>'"),
    "points without a varied column": (points(lambda t: t.drop(columns=["scenario.pooled_share"])), DP,
                                       "lacks column(s) scenario.pooled_share"),
    "points without an outcome": (points(lambda t: t.drop(columns=["pays_back"])), DP, "lacks column(s) pays_back"),
    "points duplicated": (points(lambda t: pd.concat([t, t])), DP, "its rows = 20"),
    "a point given twice": (points(lambda t: t.assign(point=[0, *t["point"][1:-1], 0])), DP, "point 0"),
    "a point negative": (points(lambda t: t.assign(point=t["point"] - 1)), DP, "column point (row 0) = -1"),
    "replications text": (points(lambda t: t.assign(replications="x")), DP, "column replications = "),
    "a choice unknown": (points(lambda t: t.assign(**{"practice.desk_objective": "cheapest"})), DP,
                         "column practice.desk_objective (row 0) = 'cheapest'"),
    "an outcome not True or False": (points(lambda t: t.assign(pays_back="maybe")), DP, "column pays_back = 'maybe'"),
    "a varied value text": (points(lambda t: t.assign(**{"scenario.pooled_share": "x"})), DP,
                            "column scenario.pooled_share = 'x'"),
    "a varied value infinite": (points(lambda t: t.assign(**{"scenario.pooled_share": np.inf})), DP,
                                "column scenario.pooled_share = inf"),
    "a varied value empty": (points(lambda t: t.assign(**{"scenario.pooled_share": np.nan})), DP,
                             "column scenario.pooled_share = nan"),
}
KINDS = {
    "discovery.json a named pipe": (replace(DJ, "pipe"), DJ, "is a named pipe"),
    "discovery.json a link to /dev/zero": (replace(DJ, "zero"), DJ, "is a character device"),
    "discovery.json a folder": (replace(DJ, "folder"), DJ, "is a folder"),
    "discovery_points.csv a named pipe": (replace(DP, "pipe"), DP, "is a named pipe"),
}
# Free words (an outcome's, a restriction's and a dimension's): accepted, escaped in the page, drawn literally.
FREE_WORDS = (edit("boxes", 1, "says", value="<script>alert(1)</script> $\\frac{$"),
              edit("boxes", 1, "rule", value="<img src=x onerror=alert(1)>"),
              edit("boxes", 1, "limits", 0, "label", value="<b>$\\frac{$</b>"),
              edit(*DIM, "label", value="$\\frac{$ <i>share</i>"), edit(*DIM, "unit", value="<u>u</u>"))
MARKUP = ("<script>alert", "<img src=x", "<b>$", "<i>share", "<u>u")  # none of it may reach the page as markup


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ontschot: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_the_untampered_folder_reports(folder, tmp_path, capsys):
    page = tmp_path / "r.html"
    assert main(["report", str(folder), "--out", str(page)]) == 0, capsys.readouterr().err
    text = page.read_text()
    assert "<h2>Scenario discovery</h2>" in text and "id='fig-discovery-pays_back-scatter'" in text


@pytest.mark.parametrize("case", [*TAMPERED, *KINDS])
def test_a_tampered_discovery_is_one_line_naming_the_file_and_field(case, folder, tmp_path, capsys):
    tamper, name, field = {**TAMPERED, **KINDS}[case]
    tamper(folder)
    page = tmp_path / "r.html"
    assert main(["report", str(folder), "--out", str(page)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert f"{folder / name}" in line and field in line, line
    assert not page.exists() and not (tmp_path / "r_files").exists()


def test_a_named_pipe_is_refused_by_its_own_process_without_hanging(folder, tmp_path):
    """The installed way: a separate process, a deadline (the pipe is never opened for a blocking read)."""
    replace(DJ, "pipe")(folder)
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "report", str(folder), "--out",
                           str(tmp_path / "r.html")], capture_output=True, text=True, timeout=GUARD, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "is a named pipe" in one_line_error(proc.stderr)


def test_free_words_are_escaped_in_the_page_and_drawn_literally(folder, tmp_path, capsys, monkeypatch):
    """An outcome's words and a dimension's label may hold anything printable: shown as written, never as markup.

    Mathtext is switched on globally (after a first report has imported every module that sets the literal
    default): the discovery figures must draw literally whatever was set before ('$\\frac{$' would stop the
    drawing as mathtext).
    """
    assert main(["report", str(folder), "--out", str(tmp_path / "first.html")]) == 0
    for tamper in FREE_WORDS:
        tamper(folder)
    monkeypatch.setitem(matplotlib.rcParams, "text.parse_math", True)
    page = tmp_path / "r.html"
    assert main(["report", str(folder), "--out", str(page)]) == 0, capsys.readouterr().err
    text = page.read_text()
    for markup in MARKUP:
        assert markup not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; $\\frac{$" in text and "&lt;i&gt;share&lt;/i&gt;" in text
    assert (tmp_path / "r_files" / "discovery-pays_back-scatter.png").stat().st_size > 0


def test_one_varied_dimension_draws_its_scatter():
    """A discovery of one dimension: the scatter spreads the cases over the height (there is no second dimension)."""
    from analysis.report.discovery import scatter

    dims = {"scenario.pooled_share": {"label": "Pooled share", "kind": "float", "range": [0.1, 1.0]}}
    box = {"limits": [{"path": "scenario.pooled_share", "kind": "float", "quasi_p": 0.01, "lower": 0.5,
                       "upper": None}]}
    table = pd.DataFrame({"scenario.pooled_share": np.linspace(0.1, 1, 20), "o": np.linspace(0.1, 1, 20) > 0.5})
    assert scatter(box, table, dims, "o")[:8] == b"\x89PNG\r\n\x1a\n"


SETUP_TAMPERED = {
    "summary unknown": (edit("setup", "outcomes", 0, "summary", value="x"), "setup.outcomes[0].summary = 'x'"),
    "above and below": (edit("setup", "outcomes", 0, "below", value=1), "setup.outcomes[0] = "),
    "within_years text": (edit("setup", "outcomes", 1, "within_years", value="2"),
                          "setup.outcomes[1].within_years = '2'"),
    "an unknown key": (edit("setup", "outcomes", 1, "colour", value=1), "setup.outcomes[1] (a key) = 'colour'"),
    "a name twice": (edit("setup", "outcomes", 1, "name", value="raises_outflow"), "setup.outcomes = "),
    "peel_alpha too large": (edit("setup", "prim", "peel_alpha", value=0.9), "setup.prim.peel_alpha = 0.9"),
    "an unknown PRIM setting": (edit("setup", "prim", "speed", value=1), "unknown key 'speed' in [setup.prim]"),
    "pooled the baseline": (edit("setup", "pooled", value="compartmentalised"), "setup.pooled = 'compartmentalised'"),
    "setup missing": (edit("setup"), "setup = None"),
}


@pytest.mark.parametrize("case", list(SETUP_TAMPERED))
def test_discover_analyse_reads_the_stored_setup_through_the_checks(case, folder, capsys):
    tamper, field = SETUP_TAMPERED[case]
    tamper(folder)
    assert main(["discover", "--analyse", str(folder)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert f"{folder / DJ}" in line and field in line and "or give the design as well" in line, line


def test_discover_analyse_refuses_a_named_pipe_without_hanging(folder):
    replace(DJ, "pipe")(folder)
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "discover", "--analyse", str(folder)],
                          capture_output=True, text=True, timeout=GUARD, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "is a named pipe" in one_line_error(proc.stderr)


# ------------------------------------------------------------------ fuzzed: whatever a leaf holds


HOSTILE = st.sampled_from([None, True, -1, 0, 1, 2, 10**40, 0.5, NAN, INF, -INF, "", "x", "<b>x</b>", "$\\frac{$",
                           "a\nb", [], {}, [1], {"x": 1}])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=10)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


def leaves(value, path=()) -> list[tuple]:
    """Every place in a JSON value (a list's first two entries only: the rest are alike)."""
    out = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            out += leaves(inner, (*path, key))
    elif isinstance(value, list):
        for k, inner in enumerate(value[:2]):
            out += leaves(inner, (*path, k))
    return out


def rendered(record: dict, table: pd.DataFrame) -> None:
    """The discovery's sections and figures, as the report makes them (one process)."""
    from analysis.report.build import Page, _e
    from analysis.report.discovery import section, varied

    page = Page()
    section(page, record, table, _e)
    varied(page, record)
    page.draw_figures(workers=1)


def read_or_refused(record: dict, table: pd.DataFrame) -> None:
    """check_discovery either refuses in one line (a StoredError) or passes what the report renders without error."""
    from experiments.stored import StoredError, check_discovery

    try:
        record, table = check_discovery(record, table, Path(DJ), Path(DP))
    except StoredError as exc:
        assert len(str(exc).splitlines()) == 1, exc
        return
    rendered(record, table)


@FUZZ
@given(data=st.data())
def test_fuzzed_discovery_json_is_rendered_or_refused_in_one_line(discovery, data):
    record = json.loads((discovery / DJ).read_text())
    where = data.draw(st.sampled_from([p for p in leaves(record) if p[0] not in ("package_versions", "text")]))
    target = record
    for key in where[:-1]:
        target = target[key]
    if data.draw(st.booleans()) and isinstance(target, dict):
        del target[where[-1]]
    else:
        target[where[-1]] = data.draw(HOSTILE | JSON)
    read_or_refused(record, pd.read_csv(discovery / DP))


CELL = st.one_of(st.text(max_size=12), st.floats(allow_nan=True), st.integers(-10**6, 10**6), st.none(), st.booleans())


@FUZZ
@given(data=st.data())
def test_fuzzed_points_csv_is_rendered_or_refused_in_one_line(discovery, data):
    table = pd.read_csv(discovery / DP)
    column = data.draw(st.sampled_from(list(table.columns)))
    row = data.draw(st.integers(0, len(table) - 1))
    values = table[column].astype(object).tolist()
    values[row] = data.draw(CELL)
    table[column] = values
    text = table.to_csv(index=False)  # as it would be stored, then read back as the report reads it
    read_or_refused(json.loads((discovery / DJ).read_text()), pd.read_csv(io.StringIO(text)))
