"""Read a stored result for the report: a run folder (``ontschot run``) or a sweep folder (``ontschot sweep``).

Both become one tidy frame whose ``regime`` column names an *arm* (a regime, or a design point and
regime of a sweep), the first arm being the baseline every other arm is paired with. A folder that
is missing, empty, unreadable or from a version without the indicators the report needs is refused
with one clear line (``InputError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.compare import SUMMARIES
from analysis.report.taskfields import COST_LINES
from experiments import stored
from experiments.arms import stored_from_year
from experiments.runfiles import param_key
from model.constants import Holder
from model.parameters import PARAMETERS, InputError, show_path
from model.reporters import INDICATORS

COLUMNS = ("regime", "replication", "seed", "year", "indicator", "group_by", "group", "value")
HOLDERS = tuple(h.name.lower() for h in Holder)
# Indicators the report reads; a results frame without one of them is from an incompatible version.
NEEDED = tuple(sorted({
    "outflow_work", "outflow_regular_work", "outflow_subsidised_work", "outflow_sheltered_work", "benefit_stock",
    "wmo_clients", "in_day_activities", "guidance_hours", "spend_total", "own_result_total", "vangnet_compensation",
    "firm_places", "firm_occupied", "firm_utilisation", "lock_ins", "firm_trajectories_ended",
    "firm_trajectories_to_work", "firm_result", "firm_contract_income",
    "reached", "found_in_household", "savings_care_wmo", "savings_care_pooled",  # what run_summaries derives from
    *(s.indicator for s in SUMMARIES if s.indicator in INDICATORS),
    *(c.column for c in COST_LINES), *(f"{k}_{h}" for k in ("spend", "grant", "budget", "own_result") for h in HOLDERS)}))
GROUPS = ("age_band", "disability", "wage_band")
DECOMPOSITION = "decomposition.csv"
DECOMPOSITION_COLUMNS = ("indicator", "part", "mean", "ci_low", "ci_high", "replications")
SENSITIVITY = "sensitivity.csv"


@dataclass
class Results:
    """A stored result ready for the report."""

    folder: Path
    kind: str  # "run" or "sweep"
    frame: pd.DataFrame  # tidy; ``regime`` holds the arm label
    arms: list[str]  # baseline first
    params: dict[str, Any]  # resolved parameter values of the scenario (a sweep: its fixed part)
    manifest: dict[str, Any]
    arm_settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # per arm: regime and varied values
    # per arm what it holds (experiments.arms.Arm.contents: regime, pooled share, every practice lever's value)
    arm_contents: dict[str, dict[str, Any]] = field(default_factory=dict)
    decomposition: pd.DataFrame | None = None
    decomposition_problem: str | None = None
    sensitivity: pd.DataFrame | None = None

    @property
    def base(self) -> str:
        """The baseline arm."""
        return self.arms[0]

    @property
    def others(self) -> list[str]:
        """The arms compared with the baseline."""
        return self.arms[1:]


def latest_run(parent: str | Path) -> Path:
    """The newest complete run folder inside ``parent`` (by its manifest's creation time, then name).

    Raises:
        InputError: ``parent`` is not a folder or holds no run folder.
    """
    parent = Path(parent)
    if not parent.is_dir():
        raise InputError(f"results folder {show_path(parent)} does not exist or is not a folder")
    runs = []
    for sub in parent.iterdir():
        if sub.is_dir() and not sub.name.startswith(".") and stored.present(sub / "manifest.json") \
                and stored.present(sub / "results.parquet"):
            created = _read_json(sub / "manifest.json").get("created")
            runs.append((created if isinstance(created, str) else "", sub.name, sub))  # a number or null: oldest
    if not runs:
        raise InputError(f"{show_path(parent)} holds no run folder (no sub-folder with results.parquet and "
                         "manifest.json): run `ontschot run` first")
    return max(runs)[2]


def load_results(folder: str | Path) -> Results:
    """Read a run or sweep folder.

    Raises:
        InputError: missing, not a folder, empty, not a results folder, unreadable, fewer than two
            arms, or from an incompatible version (indicators the report needs are missing).
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"results folder {show_path(folder)} does not exist")
    if not folder.is_dir():
        raise InputError(f"results folder {show_path(folder)} is not a folder")
    if not any(folder.iterdir()):
        raise InputError(f"results folder {show_path(folder)} is empty: expected the output of `ontschot run` "
                         "(results.parquet, manifest.json) or of `ontschot sweep` (sweep.json, runs/)")
    if stored.present(folder / "sweep.json"):
        results = _load_sweep(folder)
    elif stored.present(folder / "results.parquet"):
        results = _load_run(folder)
    elif any((sub / "results.parquet").is_file() for sub in folder.iterdir() if sub.is_dir()):
        raise InputError(f"{show_path(folder)} holds run folders, not results: name one of them, or add --latest "
                         "for the newest")
    else:
        raise InputError(f"{show_path(folder)} is not a results folder: it holds neither results.parquet (ontschot "
                         "run) nor sweep.json (ontschot sweep)")
    _check_compatible(results)
    _attach_extras(results)
    return results


def _read_json(path: Path) -> dict:
    return read_json(path, "result manifest")


def read_json(path: Path, what: str) -> dict:
    """A JSON object from a stored file (a regular file of bounded size); anything else is one line.

    Raises:
        InputError: not a regular file, too large, unreadable, not JSON, or not an object.
    """
    return stored.read_json(path, what)


def _load_run(folder: Path) -> Results:
    manifest_path = folder / "manifest.json"
    if not stored.present(manifest_path):
        raise InputError(f"{show_path(folder)} has results.parquet but no manifest.json: it is not a complete run "
                         "folder (run `ontschot run` again)")
    manifest = _read_json(manifest_path)
    if manifest.get("kind") == "validate":
        raise InputError(f"{show_path(folder)} holds a validation run (compartmentalised only); the report compares "
                         "regimes: use the folder of `ontschot run`")
    if not isinstance(manifest.get("parameters"), dict):
        raise InputError(f"{show_path(folder / 'manifest.json')} lists no parameters: it comes from an incompatible "
                         "version of ontschot (run `ontschot run` again)")
    manifest = stored.check_run_manifest(manifest, manifest_path)
    blob = stored.read_bytes(folder / "results.parquet", "parquet")
    frame = stored.read_parquet(folder / "results.parquet", blob)
    _check_columns(frame, folder, manifest)
    stored.check_run_folder(folder, manifest, frame, blob)
    params = manifest["parameters"]
    contents = arm_contents(manifest, params)
    if "arm" in frame.columns:  # the report's frame names the arm in ``regime``
        frame = frame.assign(regime=frame["arm"]).drop(columns="arm")
    arms = list(contents) or list(dict.fromkeys(frame.get("regime", pd.Series(dtype=str))))
    settings = {}
    for arm in arms:
        c = contents.get(arm, {"regime": arm, "practices": {}})
        settings[arm] = {"scenario.regime": c["regime"], **({"scenario.pooled_share": c["pooled_share"]}
                                                           if "pooled_share" in c else {}), **c["practices"]}
        arm_params = (manifest.get("arm_parameters") or {}).get(arm, {})
        if "staff.salary" in arm_params:
            settings[arm]["staff.salary"] = arm_params["staff.salary"]
    return Results(folder, "run", frame, arms, params, manifest, settings, contents)


def arm_contents(manifest: dict, params: dict) -> dict[str, dict[str, Any]]:
    """Each arm's contents from the manifest; a folder from before arms had names is read as it ran.

    Before named arms, the regimes were the arms and the practice bundle (``practices.levers``) was
    applied to every arm but the compartmentalised one; the contents say so.
    """
    if isinstance(manifest.get("arms"), list):
        return {a["name"]: a for a in manifest["arms"] if isinstance(a, dict) and "name" in a}
    regimes = manifest.get("regimes") or []
    bundle = (manifest.get("practices") or {}).get("levers") or {}
    shares = {"compartmentalised": 0.0, "integrated": 1.0}
    out = {}
    for regime in regimes:
        practices = {k: v for k, v in params.items() if k.startswith("practice.")}
        carried = regime != "compartmentalised" and bundle
        if carried:
            practices.update(bundle)
        out[regime] = {"name": regime, "regime": regime,
                       "pooled_share": shares.get(regime, params.get("scenario.pooled_share", 0.0)),
                       "from_year": stored_from_year(params), "practices": practices,
                       "bundle": {"name": "practice bundle", "source": (manifest.get("practices") or {}).get("bundle", ""),
                                  "levers": bundle} if carried else None}
    return out


def _load_sweep(folder: Path) -> Results:
    from experiments.sweep import load_sweep

    manifest = stored.check_sweep_manifest(_read_json(folder / "sweep.json"), folder / "sweep.json")
    frame = load_sweep(folder)
    if frame.empty:
        raise InputError(f"sweep folder {show_path(folder)} holds no finished run yet: run the sweep command first")
    design = manifest.get("design", {})
    try:
        params = dict(PARAMETERS.resolve(design.get("base", {})))
    except InputError as exc:
        raise InputError(f"sweep folder {show_path(folder)}: its design no longer fits this version ({exc})") from None
    varied = [c for c in frame.columns if param_key(c)]
    keys = frame[["point", "regime", *varied]].drop_duplicates(["point", "regime"]).sort_values(["point", "regime"])
    order = {r: k for k, r in enumerate(design.get("regimes", []))}
    keys = keys.assign(_order=keys["regime"].map(order).fillna(len(order))).sort_values(["point", "_order"])
    labels, settings = {}, {}
    for row in keys.to_dict("records"):
        values = {param_key(c): row[c] for c in varied}
        text = ", ".join(f"{k.split('.')[-1]}={_short(v)}" for k, v in values.items())
        label = f"point {row['point']}: {row['regime']}" + (f" ({text})" if text else "")
        labels[(row["point"], row["regime"])] = label
        settings[label] = {"scenario.regime": row["regime"], **values}
    frame = frame.copy()
    frame["regime"] = [labels[k] for k in zip(frame["point"], frame["regime"], strict=True)]
    frame = frame.drop(columns=["run_id", "point", *varied])
    contents = {}
    for label, s in settings.items():
        arm_params = {**params, **s}
        regime = s["scenario.regime"]
        contents[label] = {"name": label, "regime": regime,
                           "pooled_share": {"compartmentalised": 0.0, "integrated": 1.0}.get(
                               regime, float(arm_params.get("scenario.pooled_share", 0.0))),
                           "from_year": stored_from_year(arm_params),
                           "practices": {k: v for k, v in arm_params.items() if k.startswith("practice.")},
                           "bundle": None}
    return Results(folder, "sweep", frame, list(labels.values()), params, manifest, settings, contents)


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _made_by(manifest: dict) -> str:
    code = manifest.get("code_version")
    commit = code.get("commit") if isinstance(code, dict) else None
    return commit[:10] if isinstance(commit, str) and commit else "an unknown version"


def _check_columns(frame: pd.DataFrame, folder: Path, manifest: dict) -> None:
    missing_cols = [c for c in COLUMNS if c not in frame.columns]
    if missing_cols:
        raise InputError(f"results in {show_path(folder)} come from an incompatible version of ontschot "
                         f"({_made_by(manifest)}): the results frame lacks column(s) {', '.join(missing_cols)}; run "
                         "`ontschot run` again with this version")


def _check_compatible(results: Results) -> None:
    frame, where = results.frame, show_path(results.folder)
    made_by = _made_by(results.manifest)
    _check_columns(frame, results.folder, results.manifest)
    present = set(frame.loc[frame["group_by"] == "all", "indicator"].unique())
    missing = [i for i in NEEDED if i not in present]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(f"results in {where} come from an incompatible version of ontschot ({made_by}): missing "
                         f"indicator(s) {shown}; run `ontschot run` again with this version")
    found = list(dict.fromkeys(frame["regime"]))
    arms = [a for a in results.arms if a in found]
    if len(arms) < 2:
        raise InputError(f"results in {where} hold {len(arms)} regime(s) ({', '.join(arms) or 'none'}); the report "
                         "compares a regime with a baseline: run `ontschot run` with two regimes (the default)")
    results.arms = arms


def _attach_extras(results: Results) -> None:
    """decomposition.csv (a problem is named in its section, nothing drawn) and sensitivity.csv (refused if wrong)."""
    path = results.folder / DECOMPOSITION
    if stored.present(path):
        try:
            table = stored.read_csv(path)
        except InputError as exc:
            results.decomposition_problem = f"{DECOMPOSITION}: {' '.join(str(exc).split()).split(': ', 1)[-1][:160]}"
        else:
            missing = [c for c in DECOMPOSITION_COLUMNS if c not in table.columns]
            if missing:
                results.decomposition_problem = f"{DECOMPOSITION} lacks column(s) {', '.join(missing)}"
            elif table.empty:
                results.decomposition_problem = f"{DECOMPOSITION} is empty"
            elif problem := stored.decomposition_problem(table):
                results.decomposition_problem = f"{DECOMPOSITION}: {problem}"
            else:
                totals = set(table.loc[table["part"] == "total", "indicator"])
                without = sorted(str(i) for i in set(table["indicator"]) - totals)
                if without:
                    results.decomposition_problem = f"{DECOMPOSITION} has no 'total' row for {', '.join(without)}"
                else:
                    results.decomposition = table
    path = results.folder / SENSITIVITY
    if stored.present(path):
        results.sensitivity = check_sensitivity(stored.read_csv(path), path)


def check_sensitivity(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """sensitivity.csv as the report reads it: parameter paths of this version, and finite indices.

    Raises:
        InputError: naming the file, the column and what is allowed.
    """
    if "parameter" not in table.columns:
        raise stored.refuse(path, "its columns", list(table.columns)[:8], "a column 'parameter' (ontschot sensitivity)")
    bad = ~table["parameter"].map(lambda v: isinstance(v, str) and v in PARAMETERS)
    if bad.any():
        raise stored.refuse(path, "column parameter", table["parameter"][bad].iloc[0],
                            "a parameter path of this version (see: ontschot params)")
    for column in ("ST", "mu_star"):
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            wrong = values.isna() & table[column].notna() | values.abs().eq(float("inf"))
            if wrong.any():
                raise stored.refuse(path, f"column {column}", table[column][wrong].iloc[0], "finite numbers")
    return table
