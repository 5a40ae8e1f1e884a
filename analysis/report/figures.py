"""The report's figures (seaborn on matplotlib's Agg backend), each returned as PNG bytes.

Every figure is drawn from a table of ``tables.py`` only, so it can be redrawn without re-running.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from analysis.i18n import Translator  # noqa: E402
from analysis.report.tables import SERIES, BusinessCase  # noqa: E402
from analysis.report.taskfields import BUDGETS  # noqa: E402
from analysis.report.words import ENGLISH, GROUP_VALUES, arm_name, minus, percent, summary  # noqa: E402

DPI = 110
sns.set_theme(style="whitegrid", context="notebook")
# Names from a stored folder (arms, indicators, parts) are drawn as they are written: a '$' is a dollar sign, never
# the start of mathtext, and no LaTeX is run.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}
matplotlib.rcParams.update(LITERAL_TEXT)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _years(ax, t: Translator = ENGLISH) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("year"))


def _numbers(ax, t: Translator, axis: str = "y") -> None:
    """The axis' tick labels in the language's number form (a decimal comma in Dutch)."""
    def tick(x, _pos):
        return minus(t.number(x, 0 if float(x).is_integer() else (1 if abs(x) >= 1 else 2)))
    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(tick))


def _palette(arms: list[str]) -> dict[str, tuple]:
    return dict(zip(arms, sns.color_palette("colorblind", len(arms)), strict=True))


def timeseries(series: pd.DataFrame, arms: list[str], switch: int | None, t: Translator = ENGLISH) -> bytes:
    """One panel per indicator: the mean per arm and year with its 95% band; a dashed line at a regime switch."""
    indicators = list(dict.fromkeys(series["indicator"]))
    cols = 2
    rows = int(np.ceil(len(indicators) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.6 * rows), squeeze=False)
    colours = _palette(arms)
    for ax, ind in zip(axes.flat, indicators, strict=False):
        part = series[series["indicator"] == ind]
        for arm in arms:
            d = part[part["arm"] == arm]
            ax.plot(d["year"], d["mean"], marker="o", color=colours[arm], label=arm_name(arm, t))
            ax.fill_between(d["year"], d["ci_low"].fillna(d["mean"]), d["ci_high"].fillna(d["mean"]),
                            color=colours[arm], alpha=0.2, linewidth=0)
        title, unit, _ = SERIES.get(ind, (summary(ind, t), "", 1.0))
        ax.set_title(t(title))
        ax.set_ylabel(t(unit))
        _years(ax, t)
        _numbers(ax, t)
        if switch:
            ax.axvline(switch - 0.5, color="black", linestyle="--", linewidth=1)
            ax.annotate(t("regime switch (from year {year})").format(year=switch), xy=(switch - 0.5, 0.98),
                        xycoords=("data", "axes fraction"), ha="left", va="top", fontsize=8)
    for ax in list(axes.flat)[len(indicators):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(arms), 3), bbox_to_anchor=(0.5, -0.02 * rows))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _png(fig)


def business_case(cases: list[BusinessCase], t: Translator = ENGLISH) -> bytes:
    """Cumulative net position per budget (EUR m) by year, one panel per compared arm; payback marked."""
    fig, axes = plt.subplots(1, len(cases), figsize=(6.5 * len(cases), 4.2), squeeze=False)
    colours = dict(zip(BUDGETS, sns.color_palette("deep", len(BUDGETS)), strict=True))
    for ax, case in zip(axes.flat, cases, strict=True):
        for budget, part in case.yearly.groupby("budget", sort=False):
            ax.plot(part["year"], part["cumulative_net"], marker="o", color=colours[budget], label=t(BUDGETS[budget]))
        ax.plot(case.cumulative.index, case.cumulative.values, color="black", linewidth=2.5, label=t("Municipality"))
        ax.axhline(0, color="grey", linewidth=1)
        if case.payback_year:
            ax.axvline(case.payback_year, color="green", linestyle=":", linewidth=1.5)
        status = (t("pays back in year {year}").format(year=case.payback_year) if case.payback_year
                  else t(case.payback_status))
        ax.set_title(f"{arm_name(case.arm, t)}: {status}", fontsize=10)
        _years(ax, t)
        _numbers(ax, t)
        ax.set_ylabel(t("cumulative net position, EUR m\n(+ = saves against the baseline)"))
    axes.flat[0].legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _png(fig)


def wrong_pocket(matrices: dict[str, pd.DataFrame], t: Translator = ENGLISH) -> bytes:
    """Heat map per compared arm: rows pay, columns gain the savings (EUR m over the horizon)."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(6.2 * len(matrices), 4.6), squeeze=False)
    short = {"pwet_income": "P-wet income", "pwet_participation": "P-wet particip.", "wmo": "Wmo",
             "pooled": "Integrated access"}
    for ax, (arm, matrix) in zip(axes.flat, matrices.items(), strict=True):
        names = {k: t(v) for k, v in short.items()}
        shown = matrix.rename(index=names, columns=names)
        labels = shown.map(lambda x: minus(t.number(x, 2)))
        sns.heatmap(shown, annot=labels, fmt="", cmap="Blues", cbar=False, ax=ax, linewidths=0.5)
        ax.set_title(arm_name(arm, t), fontsize=10)
        ax.set_ylabel(t("pays for the extra spending"))
        ax.set_xlabel(t("gains the saving"))
    fig.tight_layout()
    return _png(fig)


def task_fields(table: pd.DataFrame, arms: list[str], t: Translator = ENGLISH) -> bytes:
    """Horizon spending per BBV task field and arm (EUR m) with 95% intervals."""
    shown = table[table[[f"{a}_mean" for a in arms]].abs().sum(axis=1) > 0]
    rows = []
    for _, r in shown.iterrows():
        for arm in arms:
            rows.append({"task field": f"{r['task_field']} {r['name']}", "arm": arm, "mean": r[f"{arm}_mean"],
                         "lo": r[f"{arm}_lo"], "hi": r[f"{arm}_hi"]})
    data = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(shown) * len(arms) + 1.5))
    _bars(ax, data, "task field", arms, t)
    ax.set_xlabel(t("EUR m over the horizon"))
    _numbers(ax, t, "x")
    ax.set_ylabel("")
    fig.tight_layout()
    return _png(fig)


def _bars(ax, data: pd.DataFrame, category: str, arms: list[str], t: Translator = ENGLISH) -> None:
    """Horizontal bars per category and arm with error bars (the 95% interval)."""
    cats = list(dict.fromkeys(data[category]))
    colours = _palette(arms)
    height = 0.8 / len(arms)
    for k, arm in enumerate(arms):
        d = data[data["arm"] == arm].set_index(category).reindex(cats)
        y = np.arange(len(cats)) + k * height
        err = np.vstack([(d["mean"] - d["lo"]).clip(lower=0).fillna(0), (d["hi"] - d["mean"]).clip(lower=0).fillna(0)])
        ax.barh(y, d["mean"], height=height, color=colours[arm], label=arm_name(arm, t), xerr=err, capsize=2)
    ax.set_yticks(np.arange(len(cats)) + 0.4 - height / 2)
    ax.set_yticklabels(cats)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="best")


def groups(table: pd.DataFrame, arms: list[str], t: Translator = ENGLISH, indicator: str = "outflow_work") -> bytes:
    """Moves into paid work over the horizon by age band and by disability type, per arm (95% intervals)."""
    panels = [g for g in ("age_band", "disability", "wage_band") if g in set(table["group_by"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False)
    titles = {"age_band": "by age band", "disability": "by disability type", "wage_band": "by wage value"}
    for ax, g in zip(axes.flat, panels, strict=True):
        part = table[(table["group_by"] == g) & (table["indicator"] == indicator)]
        rows = [{"group": t(GROUP_VALUES.get(r["group"], r["group"])), "arm": arm, "mean": r[f"{arm}_mean"], "lo": r[f"{arm}_lo"], "hi": r[f"{arm}_hi"]}
                for _, r in part.iterrows() for arm in arms]
        _bars(ax, pd.DataFrame(rows), "group", arms, t)
        ax.set_title(t("Moves into paid work, {group}").format(group=t(titles[g])), fontsize=10)
        ax.set_xlabel(t("persons over the horizon"))
        _numbers(ax, t, "x")
    fig.tight_layout()
    return _png(fig)


def firm(series: pd.DataFrame, arms: list[str], switch: int | None, t: Translator = ENGLISH) -> bytes:
    """Social-firm utilisation per year and arm with its 95% band."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    colours = _palette(arms)
    for arm in arms:
        d = series[series["arm"] == arm]
        ax.plot(d["year"], d["mean"], marker="o", color=colours[arm], label=arm_name(arm, t))
        ax.fill_between(d["year"], d["ci_low"].fillna(d["mean"]), d["ci_high"].fillna(d["mean"]), color=colours[arm],
                        alpha=0.2, linewidth=0)
    if switch:
        ax.axvline(switch - 0.5, color="black", linestyle="--", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(t("occupied share of places"))
    _years(ax, t)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: percent(x, t)))
    ax.set_title(t("Social-firm utilisation"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def waterfall(table: pd.DataFrame, t: Translator = ENGLISH) -> bytes:
    """Per indicator: the paired difference built up from pooling the money and each practice lever, then the total."""
    indicators = list(dict.fromkeys(table["indicator"]))
    fig, axes = plt.subplots(len(indicators), 1, figsize=(9, 3.4 * len(indicators)), squeeze=False)
    for ax, ind in zip(axes.flat, indicators, strict=True):
        part = table[table["indicator"] == ind]
        pieces = part[part["part"] != "total"]
        total = part[part["part"] == "total"].iloc[0]
        start = np.concatenate([[0.0], np.cumsum(pieces["mean"].to_numpy())[:-1]])
        labels = [t(p) for p in [*pieces["part"], "total"]]
        x = np.arange(len(labels))
        colours = ["#4c72b0" if v >= 0 else "#c44e52" for v in pieces["mean"]] + ["#333333"]
        heights = np.array([*pieces["mean"], total["mean"]], dtype=float)
        bottoms = np.array([*start, 0.0])
        ax.bar(x, heights, bottom=bottoms, color=colours)
        lo = np.array([*pieces["ci_low"], total["ci_low"]], dtype=float)
        hi = np.array([*pieces["ci_high"], total["ci_high"]], dtype=float)
        lo, hi = np.where(np.isnan(lo), heights, lo), np.where(np.isnan(hi), heights, hi)  # no interval: no bar
        tops = bottoms + heights
        err = np.vstack([np.clip(heights - lo, 0, None), np.clip(hi - heights, 0, None)])
        ax.errorbar(x, tops, yerr=err, fmt="none", ecolor="black", capsize=3)
        ax.axhline(0, color="grey", linewidth=1)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=20, ha="right")
        _numbers(ax, t)
        arms = (f"{arm_name(part['arm'].iloc[0], t)} − {arm_name(part['against'].iloc[0], t)}"
                if {"arm", "against"} <= set(part.columns) and isinstance(part["arm"].iloc[0], str)
                else t("the two arms"))
        ax.set_title(t("{indicator}: what makes up the difference ({arms})").format(indicator=summary(ind, t),
                                                                                  arms=arms), fontsize=10)
    fig.tight_layout()
    return _png(fig)


def own_result(table: pd.DataFrame, arms: list[str], t: Translator = ENGLISH) -> bytes:
    """Own result (budget + safety net - spending) next to gross spending per holder, horizon, EUR m."""
    keep = table[table["key"].str.startswith(("own_result_", "spend_"))]
    from analysis.report.build import own_label

    rows = [{"measure": own_label(r["measure"], t), "arm": arm, "mean": r[f"{arm}_mean"], "lo": r[f"{arm}_lo"], "hi": r[f"{arm}_hi"]}
            for _, r in keep.iterrows() for arm in arms]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(keep) * len(arms) + 1.5))
    _bars(ax, pd.DataFrame(rows), "measure", arms, t)
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_xlabel(t("EUR m over the horizon"))
    _numbers(ax, t, "x")
    fig.tight_layout()
    return _png(fig)
