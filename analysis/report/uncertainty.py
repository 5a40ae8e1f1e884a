"""The report's "How sure" section: chance alone next to parameters and chance, from ``run --ensemble``.

Reads ``ensemble.csv`` (per arm and figure: both intervals, P(> 0), the parameters' share) and
``ensemble_runs.parquet`` (one row of summaries per run: small) of a run folder. A folder without
them gets a short section that says how to make them.
"""

from __future__ import annotations

import html
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.i18n import Translator
from analysis.report.words import ENGLISH, arm_name, percent, shower, signed, summary

ENSEMBLE_TABLE = "ensemble.csv"
ENSEMBLE_RUNS = "ensemble_runs.parquet"
SHOWN = ("outflow_work", "benefit_stock_end", "wmo_clients", "hidden_end", "spend_total", "own_result_total")


def _e(text) -> str:
    return html.escape(str(text))


def read(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The folder's ensemble table and its per-set mean differences, or None when the run had no ensemble."""
    folder = Path(folder)
    from experiments import stored

    if not stored.present(folder / ENSEMBLE_TABLE) or not stored.present(folder / ENSEMBLE_RUNS):
        return None
    # regular files of bounded size, read without blocking, with the columns and types read here
    table = stored.check_table(stored.read_csv(folder / ENSEMBLE_TABLE), folder / ENSEMBLE_TABLE,
                               ("arm", "summary", "label", "unit"), ("sets", "replications", "chance_mean", "chance_lo",
                                                                     "chance_hi", "mean", "lo", "hi", "p_above_zero",
                                                                     "parameter_share"), ("arm", "summary"))
    runs = stored.check_table(stored.read_parquet(folder / ENSEMBLE_RUNS), folder / ENSEMBLE_RUNS, ("arm",),
                              ("set", "replication", *SHOWN), ("set", "arm", "replication"), rows=10**7)
    for column in ("sets", "replications"):
        if not (table[column].notna() & (table[column] >= 1)).all():
            raise stored.refuse(folder / ENSEMBLE_TABLE, f"column {column}", table[column].min(),
                                "whole numbers of at least 1")
    runs = runs[["set", "arm", "replication", *SHOWN]]
    return table, set_means(runs, list(dict.fromkeys(runs["arm"])))


def set_means(runs: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Per arm (but the first), set and figure: the set's mean paired difference against the first arm."""
    base = runs[runs["arm"] == arms[0]].set_index(["set", "replication"])
    parts = []
    for arm in arms[1:]:
        diff = runs[runs["arm"] == arm].set_index(["set", "replication"])[list(SHOWN)] - base[list(SHOWN)]
        means = diff.groupby(level="set").mean().reset_index().melt(id_vars="set", var_name="summary",
                                                                     value_name="difference")
        parts.append(means.assign(arm=arm))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["set", "summary", "difference", "arm"])


def _num(x: float, t: Translator = ENGLISH, unit: str = "") -> str:
    if not np.isfinite(x):
        return t("n/a")
    return signed(shower(unit, t)(x))


def answer_line(table: pd.DataFrame, arm: str, t: Translator = ENGLISH) -> str:
    """One line for the report's answer: the outflow and own-result figures over the ensemble, with P(> 0)."""
    rows = table[(table["arm"] == arm)].set_index("summary")
    parts = []
    for key, what, unit in (("outflow_work", "moves into paid work", "persons"),
                            ("own_result_total", "own result (EUR m)", "EUR m")):
        if key in rows.index:
            r = rows.loc[key]
            parts.append(t("{what} {mean} [{lo}, {hi}], probability above zero {p}").format(
                what=t(what), mean=_num(r["mean"], t, unit), lo=_num(r["lo"], t, unit), hi=_num(r["hi"], t, unit),
                p=percent(r["p_above_zero"], t)))
    if not parts:
        return ""
    n = int(rows["sets"].max())
    return ("<li>" + html.escape(t("with parameter uncertainty as well as chance ({n} calibrated parameter sets):")
                                 .format(n=n) + " " + "; ".join(parts)) + ".</li>")


def section(page, folder: str | Path, baseline: str, t: Translator = ENGLISH) -> None:
    """The section's body (the caller opens it): the two intervals side by side, P(> 0), and the figure."""
    found = read(folder)
    if found is None:
        page.para(_e(t("This run has intervals from chance only (replications at one parameter set). To see how sure "
                       "the answer is once the uncertain parameters vary too, run it again with ontschot run "
                       "--ensemble: every arm then also runs over the calibrated ensemble (ontschot calibrate), the "
                       "parameter sets that hold every published target.")), "note")
        return
    table, means = found
    sets, reps = int(table["sets"].max()), int(table["replications"].max())
    page.para(_e(t("Two intervals for the same difference against {baseline}. Chance only: the default parameter "
                   "values, the run's replications; the 95% interval of the mean difference. Parameters and chance: "
                   "{sets} parameter sets from the calibration (each holds every published target; the assumptions "
                   "are drawn over their ranges) with {reps} paired seeds each; the 2.5–97.5% range of the sets' mean "
                   "differences. P(above 0) is the share of sets whose mean difference is above zero; parameters' "
                   "share is how much of the spread between sets the parameters make (the rest is the chance left in "
                   "a mean over that many seeds).")).format(baseline=f"<b>{_e(arm_name(baseline, t))}</b>",
                                                             sets=sets, reps=reps))
    rows, keys = [], []
    shown = table[table["summary"].isin(SHOWN)]
    for _, r in shown.iterrows():
        unit = r["unit"]
        share = percent(r["parameter_share"], t)
        rows.append([arm_name(r["arm"], t), t(r["label"].strip()), t(unit),
                     f"{_num(r['chance_mean'], t, unit)} [{_num(r['chance_lo'], t, unit)}, "
                     f"{_num(r['chance_hi'], t, unit)}]",
                     f"{_num(r['mean'], t, unit)} [{_num(r['lo'], t, unit)}, {_num(r['hi'], t, unit)}]",
                     percent(r["p_above_zero"], t), share])
        keys.append(f"{r['arm']}:{r['summary']}")
    page.table("uncertainty", [t("arm"), t("indicator"), t("unit"), t("chance only"), t("parameters and chance"),
                               t("P(above 0)"), t("parameters' share")], rows, keys, numeric_from=3, data=table)
    page.figure("uncertainty", partial(draw, means, table, t), t(
        "Each dot is one calibrated parameter set's mean difference against the baseline. Black bar: the 2.5–97.5% "
        "range of the sets (parameters and chance); grey bar: the 95% interval from chance alone at the default "
        "values."))


def draw(means: pd.DataFrame, table: pd.DataFrame, t: Translator = ENGLISH) -> bytes:
    """Per figure a panel: the sets' mean differences per arm, with both intervals."""
    from analysis.report.figures import _png, plt, sns

    units = table.drop_duplicates("summary").set_index("summary")["unit"]
    arms = list(dict.fromkeys(means["arm"]))
    means = means.assign(arm=means["arm"].map(lambda a: arm_name(a, t)))
    fig, axes = plt.subplots(len(SHOWN), 1, figsize=(8.5, 1.35 * len(SHOWN) * max(1, len(arms)) ** 0.5 + 1),
                             squeeze=False)
    for ax, key in zip(axes[:, 0], SHOWN, strict=True):
        part = means[means["summary"] == key]
        sns.stripplot(data=part, x="difference", y="arm", order=[arm_name(a, t) for a in arms], ax=ax, size=3, alpha=0.45, color="#4477aa",
                      jitter=0.2)
        for y, arm in enumerate(arms):
            row = table[(table["arm"] == arm) & (table["summary"] == key)]
            if row.empty:
                continue
            r = row.iloc[0]
            ax.plot([r["lo"], r["hi"]], [y - 0.3, y - 0.3], color="black", lw=2.5)
            ax.plot([r["mean"]], [y - 0.3], "o", color="black", ms=4)
            if np.isfinite(r["chance_lo"]):
                ax.plot([r["chance_lo"], r["chance_hi"]], [y + 0.3, y + 0.3], color="#999999", lw=2.5)
                ax.plot([r["chance_mean"]], [y + 0.3], "o", color="#999999", ms=4)
        ax.axvline(0, color="#cc3311", lw=1)
        ax.set_ylabel("")
        ax.set_xlabel(t("{indicator} ({unit}): difference").format(indicator=summary(key, t),
                                                                    unit=t(units.get(key, ""))))
    fig.tight_layout()
    return _png(fig)
