"""Global sensitivity analysis of a sweep with SALib: Sobol indices (first order, total) and Morris screening.

Reads only the stored runs of a sweep. The outcome of a sample point is a run summary from
``analysis/compare.py`` (e.g. ``outflow_work``), averaged over the replications of that point —
or, with ``difference = [A, B]``, the paired difference A - B per replication, then averaged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.compare import run_summaries
from model.parameters import InputError


def outcomes_by_point(design, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per design point, one column per outcome (mean over replications)."""
    per_run = run_summaries(frame.assign(point=frame["run_id"])).rename(columns={"point": "run_id"})
    per_run = per_run.drop(columns=["arm", "regime", "replication", "seed"]).set_index("run_id")
    if per_run.index.duplicated().any():  # a run counted twice would weigh its point twice: never average it in
        twice = per_run.index[per_run.index.duplicated()].unique().tolist()
        raise InputError(f"the sweep's results hold run(s) {twice[:3]} more than once: check the folder with "
                         "ontschot verify")
    plan = pd.DataFrame([{"point": s.point, "regime": s.regime, "replication": s.replication, "run_id": s.run_id}
                         for s in design.plan()])
    summaries = plan.join(per_run, on="run_id")
    indicators = design.outcomes.get("indicators") or ["outflow_work"]
    n_points = len(design.points())
    columns = {}
    diff = design.outcomes.get("difference")
    for ind in indicators:
        table = summaries.pivot_table(index=["point", "replication"], columns="regime", values=ind, dropna=False)
        if diff:
            a, b = diff
            columns[f"{ind} ({a} - {b})"] = (table[a] - table[b]).groupby(level="point").mean()
        else:
            for regime in design.regimes:
                columns[f"{ind} ({regime})"] = table[regime].groupby(level="point").mean()
    out = pd.DataFrame(columns).reindex(range(n_points))
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
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            for k, par in enumerate(problem["names"]):
                rows.append({"outcome": name, "parameter": par, "S1": res["S1"][k], "S1_conf": res["S1_conf"][k],
                             "ST": res["ST"][k], "ST_conf": res["ST_conf"][k]})
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
    rank_by = "ST" if design.method == "sobol" else "mu_star"
    table["rank"] = table.groupby("outcome")[rank_by].rank(ascending=False, method="first").astype(int)
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
