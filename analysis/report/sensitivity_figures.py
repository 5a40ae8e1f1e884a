"""Figures of a sweep and its sensitivity analysis (seaborn on Agg), each returned as PNG bytes.

Drawn from tables only (``analysis/sensitivity.py``, ``analysis/convergence.py``, the outcomes per
point), so ``ontschot sensitivity`` and ``ontschot report`` draw the same figure from the same table.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams.update({"text.parse_math": False, "text.usetex": False})  # names drawn literally

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis.report.figures import _png  # noqa: E402

INDEX_COLOURS = dict(zip(("S1", "ST"), sns.color_palette("colorblind", 2), strict=True))
INDEX_NAMES = {"S1": "first order S1", "ST": "total ST", "mu_star": "mu* (mean |elementary effect|)"}
OFFSET = 0.18  # vertical distance of S1 and ST around a parameter's row
PANEL_WIDTH = 7.5
ROW_HEIGHT = 0.45  # inches per parameter in the index figure
MIN_PANEL_HEIGHT = 2.2
MAX_PANELS = 8  # outcome-against-parameter panels per row of the points figure
POINT_ALPHA = 0.6
DODGE = 0.04  # distance (in doublings) between the parameters' error bars at one N
TITLE_WIDTH = 32  # characters per line of a panel's title


def _short(parameter: str) -> str:
    return parameter.split(".", 1)[-1]


def indices(table: pd.DataFrame) -> bytes:
    """Per outcome a panel: per parameter (ranked) the index as a point with its 95% interval as an error bar.

    Sobol tables show S1 and ST side by side; Morris tables mu* with its interval.
    """
    outcomes = list(dict.fromkeys(table["outcome"]))
    kinds = [k for k in ("S1", "ST") if k in table.columns] or ["mu_star"]
    n_par = table.groupby("outcome")["parameter"].nunique().max()
    height = max(MIN_PANEL_HEIGHT, ROW_HEIGHT * n_par + 1)
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(PANEL_WIDTH, height * len(outcomes)), squeeze=False)
    palette = {**INDEX_COLOURS, "mu_star": INDEX_COLOURS["ST"]}
    for ax, outcome in zip(axes[:, 0], outcomes, strict=True):
        part = table[table["outcome"] == outcome].sort_values("rank", ascending=False)
        y = np.arange(len(part))
        for k, kind in enumerate(kinds):
            shift = (k - (len(kinds) - 1) / 2) * 2 * OFFSET
            ax.errorbar(part[kind], y + shift, xerr=part[f"{kind}_conf"], fmt="o", capsize=3,
                        color=palette[kind], label=INDEX_NAMES[kind])
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(y, list(part["parameter"]))
        ax.set_title(outcome)
        ax.set_xlabel("index (95% interval)")
        ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return _png(fig)


def convergence(table: pd.DataFrame) -> bytes:
    """Per outcome S1 and ST of every parameter against the base samples N, with their 95% intervals as bands."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    parameters = list(dict.fromkeys(table["parameter"]))
    colours = dict(zip(parameters, sns.color_palette("colorblind", len(parameters)), strict=True))
    fig, axes = plt.subplots(len(outcomes), 2, figsize=(11, 3.4 * len(outcomes)), squeeze=False)
    for row, outcome in enumerate(outcomes):
        part = table[table["outcome"] == outcome].assign(log2n=lambda t: np.log2(t["n"]))
        sizes = sorted(part["n"].unique())
        for col, kind in enumerate(("S1", "ST")):
            ax = axes[row, col]
            sns.lineplot(data=part, x="log2n", y=kind, hue="parameter", palette=colours, marker="o", ax=ax,
                         legend=row == 0 and col == 1)
            for j, (parameter, d) in enumerate(part.groupby("parameter", sort=False)):
                ax.fill_between(d["log2n"], d[kind] - d[f"{kind}_conf"], d[kind] + d[f"{kind}_conf"],
                                color=colours[parameter], alpha=0.15, linewidth=0)
                dodge = DODGE * (j - (len(parameters) - 1) / 2)  # side by side at one N
                ax.errorbar(d["log2n"] + dodge, d[kind], yerr=d[f"{kind}_conf"], fmt="none", capsize=2,
                            color=colours[parameter], alpha=0.8)
            ax.axhline(0, color="grey", linewidth=0.8)
            ax.set_xticks(np.log2(sizes), [str(m) for m in sizes])
            ax.set_xlabel("base samples N (doubling)")
            ax.set_ylabel(INDEX_NAMES[kind])
            ax.set_title(outcome, fontsize="medium")
    if axes[0, 1].get_legend() is not None:
        sns.move_legend(axes[0, 1], "upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    fig.tight_layout()
    return _png(fig)


def outcomes_by_parameter(points: pd.DataFrame, parameters: list[str], outcomes: list[str]) -> bytes:
    """One panel per outcome and varied parameter: each design point's outcome against the parameter's value."""
    cols = min(len(parameters), MAX_PANELS)
    rows_per_outcome = math.ceil(len(parameters) / cols)
    fig, axes = plt.subplots(len(outcomes) * rows_per_outcome, cols, figsize=(2.9 * cols, 2.6 * len(outcomes)
                                                                              * rows_per_outcome), squeeze=False)
    for o, outcome in enumerate(outcomes):
        for k in range(rows_per_outcome * cols):
            ax = axes[o * rows_per_outcome + k // cols, k % cols]
            if k >= len(parameters):
                ax.set_visible(False)
                continue
            parameter = parameters[k]
            sns.scatterplot(data=points, x=parameter, y=outcome, ax=ax, s=14, alpha=POINT_ALPHA, edgecolor=None)
            ax.set_xlabel(_short(parameter))
            ax.set_ylabel("")
            ax.set_title(textwrap.fill(outcome, TITLE_WIDTH), fontsize="small")
    fig.tight_layout()
    return _png(fig)
