"""Global sensitivity analysis of a sweep with SALib: Sobol indices (first order, total) and Morris screening.

Reads only the stored runs of a sweep. The outcome of a sample point is a run summary from
``analysis/compare.py`` (e.g. ``outflow_work``), averaged over the replications of that point —
or, with ``difference = [A, B]``, the paired difference A - B per replication, then averaged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.aggregates import check_once, outcomes_from_runs
from analysis.compare import run_summaries
from model.parameters import InputError

DEFAULT_INDICATORS = ("outflow_work",)  # outcomes when a design names none


def outcomes_by_point(design, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design point, one column per outcome (mean over replications).

    Args:
        design: the design (its plan says which run belongs to which point, regime and replication).
        runs: per-run summaries (``analysis.aggregates.sweep_summaries``: one row per run, with ``run_id``),
            or a sweep's tidy frame (``experiments.sweep.load_sweep``), summarised here.
    """
    if "indicator" in runs.columns:  # the tidy rows of every run: summarise them first
        runs = run_summaries(runs.assign(point=runs["run_id"])).rename(columns={"point": "run_id"})
    check_once(runs)
    per_run = runs.drop(columns=[c for c in ("arm", "point", "regime", "replication", "seed") if c in runs.columns])
    per_run = per_run.set_index("run_id")
    plan = pd.DataFrame([{"point": s.point, "regime": s.regime, "replication": s.replication, "run_id": s.run_id}
                         for s in design.plan()])
    summaries = plan.join(per_run, on="run_id")
    indicators = design.outcomes.get("indicators") or list(DEFAULT_INDICATORS)
    out = outcomes_from_runs(summaries, indicators, design.regimes, design.outcomes.get("difference"),
                             len(design.points()))
    if out.isna().any().any():
        lacking = out.index[out.isna().any(axis=1)].tolist()
        raise InputError(f"the sweep lacks results for design points {lacking[:10]}{'...' if len(lacking) > 10 else ''}:"
                         " run the sweep again to fill them (see failures/)")
    return out


def analyse(design, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices per outcome and parameter, ranked; confidence intervals are 95% bootstrap intervals."""
    problem = design.salib_problem()
    seed = int(design.sampler.get("seed", design.seed))
    rows = []
    for name in outcomes.columns:
        y = outcomes[name].to_numpy(dtype=float)
        if design.method == "sobol":
            from analysis.convergence import sobol_indices  # the same call as the convergence table's largest size

            rows.extend(sobol_indices(problem, y, seed).assign(outcome=name).to_dict("records"))
        elif design.method == "morris":
            from SALib.analyze import morris

            x = np.array([[p[n] for n in problem["names"]] for p in design.points()], dtype=float)
            res = morris.analyze(problem, x, y, num_levels=int(design.sampler["levels"]), seed=seed)
            for k, par in enumerate(problem["names"]):
                rows.append({"outcome": name, "parameter": par, "mu_star": res["mu_star"][k],
                             "mu_star_conf": res["mu_star_conf"][k], "sigma": res["sigma"][k]})
        else:
            raise ValueError(f"sensitivity analysis needs sampler 'sobol' or 'morris', not {design.method!r}")
    table = pd.DataFrame(rows)
    table = table[["outcome", *[c for c in table.columns if c != "outcome"]]]
    rank_by = "ST" if design.method == "sobol" else "mu_star"
    # an outcome without variance has no indices (NaN) and no rank (0)
    table["rank"] = table.groupby("outcome")[rank_by].rank(ascending=False, method="first").fillna(0).astype(int)
    return table.sort_values(["outcome", "rank"]).reset_index(drop=True)


def format_sensitivity(table: pd.DataFrame, method: str) -> str:
    """Ranked table per outcome, with 95% confidence intervals."""
    lines = []
    for outcome, part in table.groupby("outcome", sort=False):
        lines.append(f"Outcome: {outcome}")
        if method == "sobol":
            lines.append(f"  {'rank':>4}  {'parameter':<42}{'first order S1':>22}{'total ST':>22}")
            for _, r in part.iterrows():
                lines.append(f"  {r['rank']:>4}  {r['parameter']:<42}{r['S1']:>12.3f} ± {r['S1_conf']:<7.3f}"
                             f"{r['ST']:>12.3f} ± {r['ST_conf']:<7.3f}")
        else:
            lines.append(f"  {'rank':>4}  {'parameter':<42}{'mu*':>22}{'sigma':>12}")
            for _, r in part.iterrows():
                lines.append(f"  {r['rank']:>4}  {r['parameter']:<42}{r['mu_star']:>12.3f} ± {r['mu_star_conf']:<7.3f}"
                             f"{r['sigma']:>12.3f}")
        lines.append("")
    return "\n".join(lines)
