"""The report of a discovery folder (``ontschot discover``): the Scenario discovery section and what was varied.

Reads only ``discovery.json`` and ``discovery_points.csv`` (one row per design point), never the
run files, so the report of a big discovery stays small and quick. Per outcome: its definition,
the rule in words, the box's restrictions with their quasi-p values, coverage, density and mass, the
peeling trajectory (the box told marked) and a scatter of the points over the box's two most
significant restrictions with the box drawn.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from functools import partial, wraps
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.discovery import condition  # noqa: E402
from analysis.report.figures import LITERAL_TEXT  # noqa: E402
from experiments.stored import check_discovery, is_regular, present, read_csv, read_json  # noqa: E402
from model.parameters import PARAMETERS, InputError, show_path  # noqa: E402

DISCOVERY_FILE, POINTS_FILE = "discovery.json", "discovery_points.csv"
DPI = 110
JITTER = 0.3  # of one step between a choice's positions
HOLDS_COLOUR, NOT_COLOUR, BOX_COLOUR = "#0072B2", "#BBBBBB", "#D55E00"


def is_discovery(folder: str | Path) -> bool:
    """Whether the folder holds a discovery (``ontschot discover``), analysed or not."""
    folder = Path(folder)
    if present(folder / DISCOVERY_FILE):  # a pipe or a folder too: the loader refuses it in one line
        return True
    if not is_regular(folder / "sweep.json"):
        return False  # absent, or a pipe or device: the loader that reads it says so
    try:
        return read_json(folder / "sweep.json", "sweep manifest")["design"]["kind"] == "discovery"
    except (InputError, KeyError, TypeError):
        return False


@dataclass
class Header:
    """What the page's title and footer need of a results folder."""

    folder: Path
    params: dict


def load(folder: Path) -> tuple[dict, pd.DataFrame]:
    """discovery.json and the points table.

    Raises:
        InputError: none analysed yet; StoredError (an InputError): either is not a regular file, too large, or
            does not hold what this version writes (experiments/stored.py ``check_discovery``).
    """
    if not present(folder / DISCOVERY_FILE):
        raise InputError(f"discovery folder {show_path(folder)} holds no {DISCOVERY_FILE} yet (its runs were never "
                         f"analysed): run the same ontschot discover command again, or ontschot discover DESIGN "
                         f"--analyse {show_path(folder)}")
    record = read_json(folder / DISCOVERY_FILE, "discovery record")
    points = read_csv(folder / POINTS_FILE)
    return check_discovery(record, points, folder / DISCOVERY_FILE, folder / POINTS_FILE)


def section(page, record: dict, points: pd.DataFrame, esc) -> None:
    """The Scenario discovery section: per outcome the rule, its restrictions, the numbers and two figures."""
    page.add("<section id='scenario-discovery'><h2>Scenario discovery</h2>")
    page.para(f"Under which conditions does it hold? {esc(record['points_analysed'])} of "
              f"{esc(record['points_planned'])} combinations of levers and assumptions (a Latin hypercube, seed "
              f"{esc(record['sampler']['seed'])}) each ran under <b>{esc(record['pooled'])}</b> and "
              f"<b>{esc(record['baseline'])}</b> funding on the same seeds, "
              f"{esc(record['replications'])} paired replication(s) each. PRIM (the EMA Workbench) finds the box of "
              "conditions in which the outcome holds most often; the box told is the one with the highest density "
              f"whose coverage is at least {record['setup']['prim']['min_coverage']:g}, without restrictions whose "
              f"quasi-p value is above {record['setup']['prim']['max_quasi_p']:g}.")
    page.para("<b>Density</b>: the share of the cases in the box where the outcome holds. <b>Coverage</b>: the "
              "share of all cases where it holds that lie in the box. <b>Mass</b>: the share of all cases in the "
              "box. <b>Base rate</b>: the share of all cases where it holds.", "note")
    for k, box in enumerate(record["boxes"]):
        name = box["outcome"]["name"]
        page.add(f"<h3 id='discovery-{esc(name)}'>{esc(box['says'])}</h3>")
        page.para(f"<span class='note'>Defined as: {esc(box['definition'])}.</span>")
        page.para(f"<b>{esc(box['rule'])}</b>", "answer")
        stats = [["base rate", f"{box['base_rate']:.2f}"], ["cases", f"{box['n']}"],
                 ["cases where it holds", f"{box['n_holds']}"]]
        if box["status"] in ("box", "no-box"):
            stats += [["density", f"{box['density']:.2f}"], ["coverage", f"{box['coverage']:.2f}"],
                      ["mass", f"{box['mass']:.2f}"], ["cases in the box", f"{box['n_in_box']}"]]
        page.table(f"discovery-{name}-stats", ["figure", "value"], stats, [r[0] for r in stats])
        limits = box.get("limits", [])
        if limits:
            rows = [[lim["path"], condition(lim), f"{lim['quasi_p']:.2g}"] for lim in limits]
            page.table(f"discovery-{name}-box", ["parameter", "condition", "quasi-p"], rows,
                       [lim["path"] for lim in limits], numeric_from=2,
                       data=pd.DataFrame([{**lim, "condition": condition(lim)} for lim in limits]))
        if box.get("trajectory"):
            page.figure(f"discovery-{name}-trajectory", partial(trajectory, box),
                        "PRIM's peeling trajectory: each box's coverage and density (colour: restricted "
                        "dimensions); the ring marks the box told before insignificant restrictions were dropped.")
        if limits:
            page.figure(f"discovery-{name}-scatter", partial(scatter, box, points, record["dimensions"], name),
                        "Every case over the box's two most significant restrictions (blue: the outcome holds); "
                        "the box in orange.")
        if k == 0:
            page.csv["discovery_points"] = points
    page.add("</section>")


def varied(page, record: dict) -> None:
    """What was varied: each dimension with its label, range or choices and status in the parameter set."""
    page.add("<section id='discovery-varied'><h2>What was varied</h2>")
    rows = []
    for path, dim in record["dimensions"].items():
        spread = ", ".join(map(str, dim["choices"])) if "choices" in dim else f"{dim['range'][0]:g} to {dim['range'][1]:g}"
        status = PARAMETERS.get(path).status if path in PARAMETERS else "?"
        rows.append([path, dim["label"], spread, dim.get("unit", ""), status])
    page.table("discovery-varied", ["parameter", "label", "range or choices", "unit", "status"], rows,
               list(record["dimensions"]), numeric_from=5)
    fixed = record.get("base") or {}
    if fixed:
        page.para("Fixed for every case: " + ", ".join(f"<code>{html.escape(str(k))}</code> = {html.escape(str(v))}"
                                                       for k, v in fixed.items()) + ".",
                  "note")
    commit = (record.get("code_version") or {}).get("commit", "unknown")
    page.para(f"Design {html.escape(str(record['design']))} (runs hash {html.escape(str(record['design_hash']))}); "
              f"code {html.escape(str(commit)[:12])}; the points and "
              "outcomes are in discovery_points.csv, the boxes in discovery.json.", "note")
    page.add("</section>")


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def literal(draw):
    """A figure drawn with every text literal (labels, choices, names: a '$' is a dollar sign, no LaTeX run).

    The settings hold while the figure is made and saved, whatever another module set globally.
    """
    @wraps(draw)
    def drawn(*args, **kwargs):
        with plt.rc_context(LITERAL_TEXT):
            return draw(*args, **kwargs)
    return drawn


@literal
def trajectory(box: dict) -> bytes:
    """Coverage against density along the peeling trajectory, the chosen box ringed."""
    steps = pd.DataFrame(box["trajectory"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    dots = ax.scatter(steps["coverage"], steps["density"], c=steps["restricted"], cmap="viridis", s=22)
    chosen = steps.iloc[box["chosen"]]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors=BOX_COLOUR, lw=2)
    if box["status"] == "box":
        ax.scatter([box["coverage"]], [box["density"]], marker="x", s=80, color=BOX_COLOUR, label="box told")
        ax.legend(loc="lower left")
    ax.axhline(box["base_rate"], color="#999", ls=":", lw=1)
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.colorbar(dots, ax=ax, label="restricted dimensions")
    return _png(fig)


def _axis(points: pd.DataFrame, path: str, dim: dict, rng: np.random.Generator) -> tuple[np.ndarray, list | None]:
    """Positions of the points on one axis (a choice: its index, jittered) and, for a choice, its tick labels."""
    if dim["kind"] == "choice":
        index = points[path].map({c: k for k, c in enumerate(dim["choices"])}).to_numpy(dtype=float)
        return index + rng.uniform(-JITTER, JITTER, len(index)), list(dim["choices"])
    return points[path].to_numpy(dtype=float), None


def _span(limit: dict | None, dim: dict, values: np.ndarray) -> tuple[float, float]:
    """The box's extent on one axis (the data's range where it is not restricted)."""
    if limit is None:
        return float(np.nanmin(values)) - JITTER, float(np.nanmax(values)) + JITTER
    if dim["kind"] == "choice":
        index = [dim["choices"].index(c) for c in limit["choices"]]
        return min(index) - JITTER - 0.05, max(index) + JITTER + 0.05
    lo = limit["lower"] if limit.get("lower") is not None else float(np.nanmin(values))
    hi = limit["upper"] if limit.get("upper") is not None else float(np.nanmax(values))
    return lo, hi


@literal
def scatter(box: dict, points: pd.DataFrame, dims: dict, name: str) -> bytes:
    """The cases over the box's two most significant restrictions (or one and the next dimension), the box drawn.

    With one dimension varied, the cases are spread over the height only to be seen apart.
    """
    limits = sorted(box["limits"], key=lambda lim: lim["quasi_p"])
    first = limits[0]["path"]
    others = [p for p in dims if p != first]
    second = limits[1]["path"] if len(limits) > 1 else (others[0] if others else None)
    by_path = {lim["path"]: lim for lim in limits}
    rng = np.random.default_rng(0)
    x, xticks = _axis(points, first, dims[first], rng)
    if second is None:
        y, yticks = rng.uniform(-JITTER, JITTER, len(points)), None
    else:
        y, yticks = _axis(points, second, dims[second], rng)
    holds = points[name].astype(bool).to_numpy()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.scatter(x[~holds], y[~holds], s=14, color=NOT_COLOUR, label="does not hold")
    ax.scatter(x[holds], y[holds], s=14, color=HOLDS_COLOUR, label="holds")
    x0, x1 = _span(by_path.get(first), dims[first], x)
    y0, y1 = _span(None, {}, y) if second is None else _span(by_path.get(second), dims[second], y)
    ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=BOX_COLOUR, lw=2))
    for ticks, setter in ((xticks, ax.set_xticks), (yticks, ax.set_yticks)):
        if ticks:
            setter(range(len(ticks)), ticks)
    ax.set_xlabel(dims[first]["label"])
    if second is None:
        ax.set_yticks([])
    else:
        ax.set_ylabel(dims[second]["label"])
    ax.legend(loc="best", fontsize="small")
    return _png(fig)


def build(folder: Path, out_html: Path, t=None) -> Path:
    """The report of a discovery folder: its Scenario discovery section and what was varied (in English)."""
    from analysis.report.build import Page, _e, _write, check_report_target, report_paths
    from analysis.report.sweep import analyst_note
    from experiments.store import check_output_folder

    record, points = load(folder)
    out_html, files = report_paths(out_html)
    check_output_folder(out_html.parent, "--out")
    check_report_target(out_html, files)
    page = Page()
    analyst_note(page, t)
    section(page, record, points, _e)
    varied(page, record)
    page.draw_figures()
    params = dict(PARAMETERS.resolve({k: v for k, v in (record.get("base") or {}).items() if k in PARAMETERS}))
    _write(page, Header(folder, params), out_html, files)
    return out_html
