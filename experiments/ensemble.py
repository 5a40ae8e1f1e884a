"""The comparison over the calibrated ensemble: how sure the answer is once the parameters are uncertain too.

The run's own intervals come from replications at one parameter set (chance only). Here every
parameter set of the ensemble (``ontschot calibrate``: sets that hold every published target, with
the assumptions drawn over their ranges) runs the same arms on ``replications`` paired seeds of its
own. Per headline figure and arm, against the baseline arm:

* the mean paired difference over every set and seed;
* the interval that holds parameter uncertainty as well as chance: the 2.5th to 97.5th percentile of
  the sets' mean differences (each set's mean over its seeds, so it carries that much chance too);
* the probability that the difference is above zero: the share of sets whose mean difference is;
* the share of the spread that is the parameters' (between-set variance less what chance alone
  gives a mean over that many seeds, over the between-set variance).

The user's own overrides (``--scenario``, ``--set``) win over a set's values: a lever the user names is
the same in every set. The assumptions the calibration did not vary (an ensemble calibrated with
``--spread 0`` varies the calibrated parameters only) are drawn here over their ranges, one Latin-hypercube
row per set (``with_assumptions``): the targets do not pin them, so they are as uncertain as their ranges say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.compare import SUMMARIES, run_summaries
from experiments.arms import Arm
from model.parameters import InputError, Values

DEFAULT_ENSEMBLE_REPLICATIONS = 2
INTERVAL = (2.5, 97.5)  # percentiles of the sets' mean differences: a 95% interval
# The figures the command line shows (every summary is in ensemble.csv): what a council asks first.
HEADLINE = ("outflow_work", "benefit_stock_end", "wmo_clients", "hidden_end", "spend_total", "own_result_total")


@dataclass(frozen=True)
class EnsemblePlan:
    """The ensemble's runs: per set and replication, every arm on one seed (one spin-up shared)."""

    items: list[tuple[int, int, int, list[tuple[str, Values]]]]  # (set, replication, seed, [(arm, values)])
    sets: int
    replications: int

    @property
    def runs(self) -> int:
        return sum(len(arms) for *_, arms in self.items)


DRAWS_PER_SET = 4  # Latin-hypercube rows drawn per set, so a row the model refuses can be skipped


def with_assumptions(sets: pd.DataFrame, record: dict, base: Values, spread: float, seed: int) -> tuple[pd.DataFrame, int]:
    """The sets with every assumption the calibration did not vary drawn over its range; and how many were drawn.

    The ranges are the calibration's own (``experiments.calibrate.ensemble_prior``: value +/- ``spread``).
    Each set takes the next Latin-hypercube row that the model accepts together with the set's values.

    Raises:
        InputError: no acceptable row is left for a set.
    """
    from scipy.stats import qmc

    from experiments.calibrate import ensemble_prior
    from model.parameters import check_combinations

    varied = {d["parameter"] for d in record.get("prior", [])}
    dims = [d for d in ensemble_prior(base, spread).dims if d.group == "assumption" and d.path not in varied]
    if not dims or len(sets) == 0:
        return sets, 0
    rows = qmc.LatinHypercube(d=len(dims), seed=seed).random(DRAWS_PER_SET * len(sets))
    draws, used = [], 0
    for k, own in enumerate(sets.to_dict(orient="records")):
        while True:
            if used == len(rows):
                raise InputError(f"ensemble set {k + 1}: no draw of the assumptions (--assumption-spread {spread}) "
                                 "holds together with it; use a smaller spread")
            drawn = {d.path: d.at(x) for d, x in zip(dims, rows[used], strict=True)}
            used += 1
            try:
                check_combinations({**base, **own, **drawn})
            except InputError:
                continue
            draws.append(drawn)
            break
    return pd.concat([sets.reset_index(drop=True), pd.DataFrame(draws)], axis=1), len(dims)


def set_seeds(root_seed: int, index: int, replications: int) -> list[int]:
    """The seeds of one set's replications: its own stream, so chance is independent between sets."""
    state = np.random.SeedSequence([root_seed, index]).generate_state(replications, dtype=np.uint32)
    return [int(s) for s in state]


def plan_ensemble(arms: Sequence[Arm], sets: pd.DataFrame, replications: int, root_seed: int) -> EnsemblePlan:
    """Every arm at every set, on the set's own seeds.

    A set's values apply except those an arm's own overrides name (the user's scenario, ``--set``, the
    arm's practices), which stay as the user asked.

    Raises:
        InputError: a set that the scenario's values cannot take (named with its row).
    """
    items = []
    for k, row in enumerate(sets.to_dict(orient="records")):
        changes = {path: _plain(v) for path, v in row.items()}
        try:
            valued = [(arm.name, arm.values.with_changes({p: v for p, v in changes.items()
                                                           if p not in arm.values.overrides}, f"ensemble set {k + 1}"))
                      for arm in arms]
        except InputError as exc:
            raise InputError(f"ensemble set {k + 1} cannot be combined with the scenario: {exc}") from None
        items += [(k, r, seed, valued) for r, seed in enumerate(set_seeds(root_seed, k, replications))]
    return EnsemblePlan(items, len(sets), replications)


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def run_item(item: tuple[int, int, int, list[tuple[str, Values]]]) -> pd.DataFrame:
    """One set and seed: every arm one after another in this process (they share the spun-up state)."""
    from experiments.runner import run_values

    k, r, seed, valued = item
    frames = []
    for name, values in valued:
        frame = run_values(values, seed, breakdowns=False)
        frame.insert(0, "arm", name)
        frame.insert(2, "replication", r)
        frames.append(frame)
    summaries = run_summaries(pd.concat(frames, ignore_index=True))
    summaries.insert(0, "set", k)
    return summaries


def run_ensemble(plan: EnsemblePlan, workers: int | None = None, scheduler: str | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
    """One row per run (set, arm, replication) with every summary; on local processes or Dask by address."""
    from experiments.batch import map_calls

    parts = map_calls(run_item, plan.items, workers=workers, scheduler=scheduler, progress=progress,
                      unit="set-seed")
    return pd.concat(parts, ignore_index=True)


def summarise(runs: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Per arm against the first and per summary: mean, the parameters-and-chance interval, P(> 0), the parameters' share."""
    base = arms[0]
    index = ["set", "replication"]
    by_arm = {a: runs[runs["arm"] == a].set_index(index).sort_index() for a in arms}
    rows = []
    for arm in arms[1:]:
        for s in SUMMARIES:
            diff = (by_arm[arm][s.name] - by_arm[base][s.name]).dropna()
            per_set = diff.groupby(level="set").mean()
            reps = diff.groupby(level="set").size()
            row = {"arm": arm, "summary": s.name, "label": s.label, "unit": s.unit, "sets": int(len(per_set)),
                   "replications": int(reps.max()) if len(reps) else 0}
            if len(per_set):
                lo, hi = np.percentile(per_set, INTERVAL)
                between = float(per_set.var(ddof=1)) if len(per_set) > 1 else float("nan")
                within = diff.groupby(level="set").var(ddof=1).mean() if reps.min() > 1 else float("nan")
                share = max(0.0, between - within / reps.mean()) / between if between > 0 else float("nan")
                row.update(mean=float(diff.mean()), lo=float(lo), hi=float(hi),
                           p_above_zero=float((per_set > 0).mean()), parameter_share=float(share))
            else:
                row.update(mean=float("nan"), lo=float("nan"), hi=float("nan"), p_above_zero=float("nan"),
                           parameter_share=float("nan"))
            rows.append(row)
    return pd.DataFrame(rows)


def side_by_side(table: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    """The ensemble's figures next to the run's chance-only interval (its paired difference at the default values)."""
    rows = []
    chance = comparison.set_index("summary")
    for _, r in table.iterrows():
        c = chance.loc[r["summary"]] if r["summary"] in chance.index else None
        key = f"diff_{r['arm']}"
        rows.append({**r.to_dict(),
                     "chance_mean": float(c[key]) if c is not None and key in c else float("nan"),
                     "chance_lo": float(c[f"{key}_lo"]) if c is not None and key in c else float("nan"),
                     "chance_hi": float(c[f"{key}_hi"]) if c is not None and key in c else float("nan")})
    return pd.DataFrame(rows)


def format_ensemble_table(table: pd.DataFrame, meta: dict, shown: Sequence[str] = HEADLINE) -> str:
    """The headline figures: chance alone next to parameters and chance, and the probability of a rise."""
    lines = ["", "How sure: chance alone against parameters and chance (difference against "
             f"{meta['baseline']}, paired seeds)",
             f"  chance only: the default parameter values, {meta['replications']} replications (95% interval of "
             "the mean)",
             f"  parameters + chance: {meta['sets']} calibrated parameter sets x {meta['ensemble_replications']} "
             "seeds each (2.5-97.5% of the sets' means)" + (f", {meta['drawn']} assumptions drawn per set over "
                                                              "their ranges" if meta.get("drawn") else ""),
             "  P(>0): the share of sets whose mean difference is above zero; param.: the parameters' share of the "
             "spread between sets"]

    def num(x: float) -> str:
        if not np.isfinite(x):
            return "n/a"
        return f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"

    for arm, part in table.groupby("arm", sort=False):
        lines += ["", f"  {arm} minus {meta['baseline']}",
                  f"  {'indicator':<52}{'unit':>9}{'chance only':>30}{'parameters + chance':>30}{'P(>0)':>8}"
                  f"{'param.':>8}"]
        for _, r in part[part["summary"].isin(shown)].iterrows():
            chance = f"{num(r['chance_mean'])} [{num(r['chance_lo'])}, {num(r['chance_hi'])}]"
            both = f"{num(r['mean'])} [{num(r['lo'])}, {num(r['hi'])}]"
            share = f"{r['parameter_share']:.0%}" if np.isfinite(r["parameter_share"]) else "n/a"
            lines.append(f"  {r['label'][:52]:<52}{r['unit']:>9}{chance:>30}{both:>30}{r['p_above_zero']:>8.2f}"
                         f"{share:>8}")
    return "\n".join(lines)
