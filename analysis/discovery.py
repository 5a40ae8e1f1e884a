"""Scenario discovery: under which conditions does an outcome hold? PRIM boxes, told as plain-language rules.

Reads stored results only. Each design point (a combination of levers and assumptions) ran under
the pooled regime and the baseline on the same seeds; an outcome holds at a point or not:

- a summary outcome (``summary``, ``above`` or ``below``): the paired difference pooled - baseline
  of a run summary (``analysis/compare.py`` SUMMARIES, e.g. ``outflow_work``), averaged over the
  point's replications, is above (or below) the threshold;
- a payback outcome (``pays_back_within = N``): the point's payback year is at most N. The payback
  year is the business case's (``analysis/compare.py`` ``payback``): the first year from which the
  mean over replications of the cumulative paired difference in the municipality's own result
  (budgets + safety net - spending, ``own_result_total``; pooled - baseline) stays at or above zero
  to the end of the horizon; none when that does not happen.

PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999) comes from the EMA Workbench
(``ema_workbench.analysis.prim``, pinned): maintained, the reference implementation of scenario
discovery (Kwakkel 2017), and it peels categorical dimensions (as sets of choices) as well as
numbers. Which box of the peeling trajectory is told, and how:

1. PRIM peels and pastes one box over all points (``peel_alpha``, ``paste_alpha``, ``mass_min``).
2. Of its trajectory, the box with the highest density whose coverage is at least ``min_coverage``
   (ties: fewer restricted dimensions, then higher coverage) is chosen.
3. Restrictions that do not matter are dropped, one at a time, the least significant first, while
   a restriction's quasi-p value (a one-sided binomial test of the density gained by it; Bryant and
   Lempert 2010) is above ``max_quasi_p``; coverage and density are recomputed after each drop.

Density is the share of the box's points where the outcome holds; coverage the share of all points
where it holds that lie in the box; mass the share of all points in the box; the base rate the
share of all points where it holds. A choice is given to PRIM as integer codes (deterministic
peeling order whatever the hash seed), so the same design and seed give the same boxes.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.compare import SUMMARIES, run_summaries

PRIM_DEFAULTS = {"min_coverage": 0.5, "peel_alpha": 0.05, "paste_alpha": 0.05, "mass_min": 0.05, "max_quasi_p": 0.05}
OWN_RESULT = "own_result_total"
YEAR_PREFIX = "own_result_year_"
NOT_RESTRICTED = -1  # what the EMA Workbench gives as the quasi-p value of a side that is not restricted
# PRIM's threshold on the 0/1 outcome: a point with 1 is a case of interest (y >= it), and a box with any case of
# interest is kept (its mean >= it), so the trajectory is always there to choose from.
INTEREST = 1e-9
LABELS = {s.name: s.label.strip() for s in SUMMARIES}


@dataclass(frozen=True)
class Outcome:
    """What is explained: a summary's paired difference above or below a threshold, or payback within N years."""

    name: str
    summary: str | None = None
    above: float | None = None
    below: float | None = None
    within_years: int | None = None
    says: str | None = None

    def words(self, pooled: str) -> str:
        """The outcome as the subject of a sentence, e.g. 'pooling raises outflow to paid work'."""
        if self.says:
            return self.says
        if self.within_years is not None:
            return f"{pooled} funding pays back within {self.within_years} years"
        verb = "above" if self.above is not None else "below"
        return f"{pooled} funding makes '{_lower(LABELS[self.summary])}' {verb} {self.threshold:g}"

    @property
    def threshold(self) -> float:
        """The summary outcome's threshold (above or below)."""
        return self.above if self.above is not None else self.below

    def definition(self, pooled: str, baseline: str) -> str:
        """The outcome's exact definition, for the report and discovery.json."""
        if self.within_years is not None:
            return (f"the payback year is at most {self.within_years}: the first year from which the mean over "
                    f"replications of the cumulative paired difference in the own result (budgets + safety net - "
                    f"spending), {pooled} - {baseline}, stays at or above 0 to the horizon")
        sign = ">" if self.above is not None else "<"
        return (f"mean over replications of the paired difference {pooled} - {baseline} in {self.summary} "
                f"({LABELS[self.summary]}) {sign} {self.threshold:g}")

    def as_dict(self) -> dict:
        """The outcome as stored (None fields left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _lower(text: str) -> str:
    """A label inside a sentence: its first letter lower-cased, unless it is an abbreviation (P-wet, LVB)."""
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


# ------------------------------------------------------------------ outcomes per point


# What ``run_summaries`` derives its summaries from besides each summary's own indicator (analysis/compare.py).
DERIVED_FROM = ("reached", "found_in_household", "savings_care_wmo", "savings_care_pooled")
DERIVED_PREFIXES = ("overspend_", "spend_instrument_")


def needed_indicators() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The indicators (names, and name prefixes) a run's summaries and its yearly own result are made from."""
    names = sorted({s.indicator for s in SUMMARIES} | set(DERIVED_FROM) | {OWN_RESULT})
    return tuple(names), DERIVED_PREFIXES


def run_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its keys, every run summary, and its own result per year (``own_result_year_<y>``, EUR).

    ``frame`` holds the runs' whole-population rows (``group_by == 'all'``) with ``run_id`` and ``point``.
    """
    summaries = run_summaries(frame.drop(columns=["run_id"]))
    whole = frame[frame["group_by"] == "all"]
    keys = ["point", "regime", "replication", "seed"]
    ids = whole.drop_duplicates(keys)[[*keys, "run_id"]]
    yearly = whole[whole["indicator"] == OWN_RESULT].pivot_table(index="run_id", columns="year", values="value")
    yearly.columns = [f"{YEAR_PREFIX}{int(y)}" for y in yearly.columns]
    out = summaries.merge(ids, on=keys).merge(yearly, left_on="run_id", right_index=True, how="left")
    return out.drop(columns=["arm"]).sort_values(["point", "regime", "replication"]).reset_index(drop=True)


def payback_year(cumulative: pd.Series) -> int | None:
    """The first year (index) from which ``cumulative`` stays at or above zero to the end; None if it never does."""
    if cumulative.empty:
        return None
    ok = (cumulative >= 0)[::-1].cummin()[::-1]
    return int(ok.idxmax()) if ok.any() else None


def point_outcomes(runs: pd.DataFrame, outcomes: list[Outcome], pooled: str, baseline: str) -> pd.DataFrame:
    """Per design point with both regimes in every stored replication: each outcome's value and whether it holds.

    Columns: ``point``, ``replications`` (paired), then per outcome ``<name>_value`` (the mean
    difference, or the payback year, NaN for none) and ``<name>`` (True where it holds).
    """
    both = runs[runs["regime"].isin([pooled, baseline])]
    pairs = both.pivot_table(index=["point", "replication"], columns="regime", values="run_id", aggfunc="count")
    paired = pairs.reindex(columns=[pooled, baseline]).notna().all(axis=1)
    keep = paired[paired].index
    indexed = both.set_index(["point", "replication"]).loc[lambda f: f.index.isin(keep)]
    a = indexed[indexed["regime"] == pooled].drop(columns=["regime", "run_id", "seed"]).sort_index()
    b = indexed[indexed["regime"] == baseline].drop(columns=["regime", "run_id", "seed"]).sort_index()
    diff = a - b
    out = pd.DataFrame({"replications": diff.groupby(level="point").size()})
    years = sorted((c for c in diff.columns if c.startswith(YEAR_PREFIX)), key=lambda c: int(c.removeprefix(YEAR_PREFIX)))
    for o in outcomes:
        if o.within_years is not None:
            cumulative = diff[years].T.cumsum().T.groupby(level="point").mean()
            cumulative.columns = [int(c.removeprefix(YEAR_PREFIX)) for c in years]
            value = cumulative.apply(lambda row: payback_year(row.dropna()), axis=1).astype(float)
            holds = value.le(o.within_years) & value.notna()
        else:
            value = diff[o.summary].groupby(level="point").mean()
            holds = value > o.above if o.above is not None else value < o.below
        out[f"{o.name}_value"] = value
        out[o.name] = holds.astype(bool)
    return out.reset_index()


# ------------------------------------------------------------------ PRIM


def _prim_module():
    """The EMA Workbench's PRIM, imported on first use (it takes seconds) without its optional-package warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.ERROR)
        from ema_workbench.analysis import prim
    return prim


def _coded(x: pd.DataFrame, dims: dict[str, dict]) -> pd.DataFrame:
    """The points as PRIM reads them: a choice as integer codes (a categorical), every number as a float.

    Whole numbers too: the Workbench's pasting writes fractional limits into their columns, which pandas refuses.
    """
    out = pd.DataFrame(index=range(len(x)))
    for path, dim in dims.items():
        col = x[path].reset_index(drop=True)
        if dim["kind"] == "choice":
            codes = col.map({c: k for k, c in enumerate(dim["choices"])}).astype(int)
            out[path] = pd.Categorical(codes, categories=range(len(dim["choices"])))
        else:
            out[path] = col.astype("float64")
    return out


def find_box(x: pd.DataFrame, holds: np.ndarray, dims: dict[str, dict], settings: dict | None = None) -> dict:
    """PRIM's box for where ``holds`` is true: its limits, coverage, density, mass and the peeling trajectory.

    Args:
        x: one row per point, one column per dimension (the path keys of ``dims``).
        holds: whether the outcome holds at each point.
        dims: per dimension its ``label``, ``kind`` ("choice", "int" or "float") and ``choices`` for a choice.
        settings: PRIM settings (``PRIM_DEFAULTS`` for those not given).

    Returns:
        ``status`` ("box", "none" when it holds nowhere, "all" when everywhere, "no-box" when no
        restriction survives), ``n``, ``n_holds``, ``base_rate``, and for a box ``limits`` (one per
        restricted dimension), ``coverage``, ``density``, ``mass``, ``n_in_box``, ``chosen`` (its index
        in ``trajectory``) and ``trajectory`` (coverage, density, mass, restricted dimensions per step).
    """
    settings = {**PRIM_DEFAULTS, **(settings or {})}
    holds = np.asarray(holds, dtype=bool)
    n, k = len(holds), int(holds.sum())
    result: dict[str, Any] = {"n": n, "n_holds": k, "base_rate": k / n if n else math.nan, "settings": settings}
    if k == 0 or k == n:
        return {**result, "status": "none" if k == 0 else "all"}
    prim = _prim_module()
    coded = _coded(x, dims)
    with warnings.catch_warnings():  # the Workbench's own deprecation warnings (pandas) are not the user's news
        warnings.simplefilter("ignore")
        p = prim.Prim(coded, holds.astype(float), threshold=INTEREST, peel_alpha=settings["peel_alpha"],
                      paste_alpha=settings["paste_alpha"], mass_min=settings["mass_min"], threshold_type=prim.ABOVE)
        box = p.find_box()  # kept whatever its density (INTEREST): its trajectory is there to choose from
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float)
    chosen = choose(trajectory, settings["min_coverage"])
    box.select(chosen)
    steps = len(trajectory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _prune(box, coded.columns, settings["max_quasi_p"])
    current = box._cur_box
    stats = box.peeling_trajectory.iloc[current]
    limits = describe_limits(box.box_lims[current], box.box_lims[0], dims, box.qp[current])
    result.update({"status": "box" if limits else "no-box", "coverage": float(stats["coverage"]),
                   "density": float(stats["density"]), "mass": float(stats["mass"]), "n_in_box": int(stats["n"]),
                   "limits": limits, "chosen": chosen,
                   "dropped": [d for d in _restricted(box.box_lims[chosen], box.box_lims[0])
                               if d not in {lim["path"] for lim in limits}],
                   "trajectory": [{"coverage": float(r.coverage), "density": float(r.density),
                                   "mass": float(r.mass), "restricted": int(r.res_dim)}
                                  for r in trajectory.iloc[:steps].itertuples()]})
    return result


def choose(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The box of the trajectory told: highest density with coverage at least ``min_coverage``.

    Ties: fewer restricted dimensions, then higher coverage, then the earlier step.
    """
    eligible = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if eligible.empty:
        return 0
    ranked = eligible.assign(step=eligible.index).sort_values(["density", "res_dim", "coverage", "step"],
                                                              ascending=[False, True, False, True], kind="stable")
    return int(ranked.index[0])


def _restricted(lims: pd.DataFrame, init: pd.DataFrame) -> list[str]:
    return [c for c in init.columns if not _same(lims[c], init[c])]


def _same(a: pd.Series, b: pd.Series) -> bool:
    return all((x == y) for x, y in zip(a.tolist(), b.tolist(), strict=True))


def _side_p(qp: list[float]) -> float:
    """A restriction's quasi-p value: that of its more significant restricted side."""
    sides = [v for v in qp if v != NOT_RESTRICTED and np.isfinite(v)]
    return min(sides) if sides else 0.0


def _prune(box, columns, max_quasi_p: float) -> None:
    """Drop the least significant restriction while its quasi-p value is above ``max_quasi_p``."""
    while True:
        current = box._cur_box
        restricted = _restricted(box.box_lims[current], box.box_lims[0])
        qp = box.qp[current]
        worst = max(restricted, key=lambda d: (_side_p(qp.get(d, [0.0])), -list(columns).index(d)), default=None)
        if worst is None or _side_p(qp.get(worst, [0.0])) <= max_quasi_p:
            return
        box.drop_restriction(worst)


def describe_limits(lims: pd.DataFrame, init: pd.DataFrame, dims: dict[str, dict], qp: dict) -> list[dict]:
    """The restricted dimensions of a box: a number's lower and/or upper limit, a choice's remaining choices."""
    out = []
    for path in _restricted(lims, init):
        dim = dims[path]
        entry: dict[str, Any] = {"path": path, "label": dim["label"], "kind": dim["kind"],
                                 "quasi_p": float(_side_p(qp.get(path, [0.0])))}
        if dim["kind"] == "choice":
            entry["choices"] = [dim["choices"][c] for c in sorted(lims[path].iloc[0])]
        else:
            lo, hi = float(lims[path].iloc[0]), float(lims[path].iloc[1])
            if dim["kind"] == "int":  # a limit between whole numbers: the whole numbers inside it
                lo, hi = float(math.ceil(lo)), float(math.floor(hi))
            entry["lower"] = lo if lo > float(init[path].iloc[0]) else None
            entry["upper"] = hi if hi < float(init[path].iloc[1]) else None
        out.append(entry)
    return out


# ------------------------------------------------------------------ words


def _number(x: float, kind: str) -> str:
    return f"{int(round(x)):,}" if kind == "int" else f"{x:.3g}"


def condition(limit: dict) -> str:
    """One restriction in words: 'the pooled share (transformation desk) is at least 0.62'."""
    # A label that is a heading ("Pooled desk: what its worker acts on") is quoted; any other reads as a noun.
    label = f"'{limit['label']}'" if ":" in limit["label"] else f"the {_lower(limit['label'])}"
    if limit["kind"] == "choice":
        choices = limit["choices"]
        return f"{label} is {choices[0]}" if len(choices) == 1 else \
            f"{label} is one of {', '.join(choices[:-1])} or {choices[-1]}"
    lo, hi, kind = limit.get("lower"), limit.get("upper"), limit["kind"]
    if lo is not None and hi is not None:
        return f"{label} is from {_number(lo, kind)} to {_number(hi, kind)}"
    if lo is not None:
        return f"{label} is at least {_number(lo, kind)}"
    return f"{label} is at most {_number(hi, kind)}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def rule(found: dict, subject: str) -> str:
    """The box as one plain-language rule with its density, coverage, mass and the base rate."""
    n, base = found["n"], found["base_rate"]
    cap = subject[:1].upper() + subject[1:]
    if found["status"] == "none":
        return f"{cap} in none of the {n} cases: there are no conditions to find."
    if found["status"] == "all":
        return f"{cap} in all {n} cases: it holds whatever the conditions varied here."
    if found["status"] == "no-box":
        return (f"{cap} in {base:.0%} of all {n} cases, and no condition on what was varied makes it clearly more "
                f"likely (no restriction is significant at quasi-p {found['settings']['max_quasi_p']:g} in a box "
                f"with coverage of at least {found['settings']['min_coverage']:g}).")
    return (f"{cap} in {found['density']:.0%} of the cases where {_join([condition(li) for li in found['limits']])} "
            f"(density {found['density']:.2f}; these cases hold {found['coverage']:.0%} of all cases where it does: "
            f"coverage {found['coverage']:.2f}; they are {found['mass']:.0%} of all cases: mass {found['mass']:.2f}). "
            f"Over all {n} cases it holds in {base:.0%} (the base rate).")
