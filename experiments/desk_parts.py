"""What pooling the money consists of: the one pot, and each field in which the pooled desk decides differently.

The funding alone (compartmentalised against integrated, the same practices) changes who pays and who
decides. In this model the pooled desk is a configuration of the one allocation pipeline
(``model/desks.py``): one pot for both laws (the money, its staff, its place ledger and caseload) plus
fields set by scenario choices (its ranking, its firm referral, parallel help, care to work without a
new intake, lock-in monitoring, whose view makes a benefit client known for a Wmo assessment). This
module measures, on paired seeds:

- ``total``: integrated minus compartmentalised;
- ``one pot``: integrated with the desk configured as the law-based desks (``as_law_desks``) minus
  compartmentalised, the money pooled and nothing else;
- per field: integrated minus integrated with that one field set as the law-based desks have it (its
  marginal effect in the full pooled desk);
- ``interactions``: what the one pot and the fields one at a time leave of the total.

One-at-a-time parts need 2 + fields runs per replication instead of the 2^fields of a Shapley
decomposition (``experiments/explain.py``); they do not add up by construction, and the remainder
says how much they interact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.compare import run_summaries, t_interval
from experiments.batch import Result, Task, complete
from experiments.runner import replication_seeds
from model.desks import as_law_desks
from model.parameters import PARAMETERS, Values

TOTAL = "total"
ONE_POT = "one pot (the desk decides as the law-based desks)"
INTERACTIONS = "interactions (total - one pot - fields)"
INDICATORS = ("outflow_work", "outflow_subsidised", "benefit_stock_end", "wmo_clients", "spend_total",
              "own_result_total")
COLUMNS = ["indicator", "part", "key", "mean", "ci_low", "ci_high", "replications"]


def desk_runs(baseline: Values, pooled: Values) -> dict[str, tuple[str, Values]]:
    """The runs of the attribution: part name -> (parameter key or '', values), baseline and pooled first."""
    law = as_law_desks(pooled)
    runs = {"baseline": ("", baseline), "pooled": ("", pooled),
            ONE_POT: ("", pooled.with_changes(law, origin="desk parts"))}
    for key, value in law.items():
        if dict.__getitem__(pooled, key) != value:
            runs[PARAMETERS.get(key).label] = (key, pooled.with_changes({key: value}, origin="desk parts"))
    return runs


def desk_plan(baseline: Values, pooled: Values, replications: int, seed: int) -> list[tuple[int, str, Task]]:
    """The attribution's runs: (replication, part name, task) for every replication and run of ``desk_runs``."""
    runs = desk_runs(baseline, pooled)
    return [(rep, name, Task(values, run_seed, breakdowns=False)) for rep, run_seed in enumerate(replication_seeds(seed, replications))
            for name, (_, values) in runs.items()]


def desk_parts(baseline: Values, pooled: Values, replications: int, seed: int,
               results: Mapping[str, Result] | None = None, workers: int | None = None) -> dict[str, Any]:
    """Run the attribution on paired seeds; returns ``{"table", "per_replication"}`` (means and 95% t intervals).

    Runs already in ``results`` (run id -> result) are not made again; the rest run on ``workers`` processes.
    """
    runs = desk_runs(baseline, pooled)
    plan = desk_plan(baseline, pooled, replications, seed)
    done = complete([task for _, _, task in plan], results, workers, progress=False)
    frames = []
    for rep, name, task in plan:
        frame = done[task.run_id].frame.copy()
        frame.insert(0, "arm", name)
        frame.insert(1, "replication", rep)
        frames.append(frame)
    summaries: dict[int, dict[str, pd.Series]] = {}
    for _, row in run_summaries(pd.concat(frames, ignore_index=True)).iterrows():
        summaries.setdefault(int(row["replication"]), {})[row["arm"]] = row
    rows = []
    for rep, summary in summaries.items():
        for indicator in INDICATORS:
            base, full = summary["baseline"][indicator], summary["pooled"][indicator]
            parts = {TOTAL: full - base, ONE_POT: summary[ONE_POT][indicator] - base}
            for name, (key, _) in runs.items():
                if key:
                    parts[name] = full - summary[name][indicator]
            fields = sum(v for k, v in parts.items() if k not in (TOTAL, ONE_POT))
            parts[INTERACTIONS] = parts[TOTAL] - parts[ONE_POT] - fields
            rows += [{"replication": rep, "indicator": indicator, "part": part, "value": value}
                     for part, value in parts.items()]
    per_rep = pd.DataFrame(rows)
    keys = {name: key for name, (key, _) in runs.items()}
    table = []
    for (indicator, part), group in per_rep.groupby(["indicator", "part"], sort=False):
        mean, lo, hi = t_interval(group["value"].to_numpy())
        table.append({"indicator": indicator, "part": part, "key": keys.get(part, ""), "mean": mean, "ci_low": lo,
                      "ci_high": hi, "replications": len(group)})
    return {"table": pd.DataFrame(table, columns=COLUMNS), "per_replication": per_rep}


def format_desk_parts(table: pd.DataFrame, labels: dict[str, tuple[str, str]]) -> str:
    """Per indicator: the total, the one pot, each field's marginal effect and the interactions, mean [95% interval]."""
    if table.empty:
        return ""
    n = int(table["replications"].iloc[0])
    lines = [f"What pooling the money consists of (integrated minus compartmentalised, the same practices; "
             f"{n} paired replications, mean [95% interval]):",
             "  one pot = the money pooled with the desk deciding as the law-based desks; a field's part = the full "
             "pooled desk minus the same desk with that one field as the law-based desks have it"]
    for indicator, rows in table.groupby("indicator", sort=False):
        label, unit = labels.get(indicator, (indicator, ""))
        lines.append(f"  {label} ({unit})")
        for r in rows.itertuples():
            key = f" [{r.key}]" if r.key else ""
            lines.append(f"    {r.part + key:78s} {r.mean:+10.2f}  [{r.ci_low:+.2f}, {r.ci_high:+.2f}]")
    return "\n".join(lines)


def finite(table: pd.DataFrame) -> bool:
    """Whether every mean in the table is a number."""
    return bool(np.isfinite(table["mean"]).all())
