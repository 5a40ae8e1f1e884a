"""Scenario discovery designs: a Latin hypercube over levers and uncertain assumptions, each point paired.

A discovery design is a TOML file::

    name = "discover-pooling"
    pooled = "gradual"               # the funding whose effect is explained (default integrated)
    baseline = "compartmentalised"   # what it is compared with, on the same seeds (default compartmentalised)
    replications = 2                 # paired replications per point; outcomes use their mean
    seed = 20261218                  # the replication seeds
    max_retries = 2

    [base]                           # fixed overrides, as in a sweep design
    "scenario.inhabitants" = 30000

    [sampler]
    samples = 256                    # Latin hypercube points (method "lhs", the only one)
    seed = 18                        # the hypercube's own seed (default: the design seed)

    [vary]
    "scenario.pooled_share" = { range = [0.1, 1] }     # a number: its range (or {} for the parameter's own)
    "practice.desk_objective" = ["all-budgets", "outflow-chance"]   # a list: each point takes one, equally often
    "firm.lock_in" = {}

    [outcomes.raises_outflow]        # what is explained: holds or not, per point
    summary = "outflow_work"         # a run summary (analysis/compare.py SUMMARIES) ...
    above = 0                        # ... whose paired difference pooled - baseline (mean over replications) is > 0
    says = "pooling raises outflow to paid work"       # optional: the words of the rules

    [outcomes.pays_back]
    pays_back_within = 10            # the payback year (analysis/discovery.py) is at most 10

    [prim]                           # optional; analysis/discovery.py says what each does
    min_coverage = 0.5
    max_quasi_p = 0.05

Every point runs under both regimes with the same replication seeds, on the sweep engine
(``experiments/sweep.py``): run files, resume, verification and the code version come from there.
The outcomes and PRIM settings are not part of the sweep's design hash, so changing them re-analyses
the stored runs without running anything again. Everything is checked before anything runs; an
error names the key, the value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.compare import SUMMARIES
from analysis.discovery import PRIM_DEFAULTS, Outcome, condition
from experiments.design import DESIGN, SEED, Design, _fail, read_base
from experiments.limits import Limits
from experiments.schema import (
    Choice,
    Context,
    Field,
    List,
    OneOf,
    ParameterTable,
    ParameterValue,
    Table,
    Text,
    Whole,
    check,
)
from experiments.store import OutputError
from model.parameters import PARAMETERS, InputError, read_toml, show, show_path

REGIMES = PARAMETERS.get("scenario.regime").choices
SUMMARY_NAMES = tuple(s.name for s in SUMMARIES)
NUMBER_KINDS = ("float", "int")
CHOICE_KINDS = ("choice",)
DEFAULT_POOLED, DEFAULT_BASELINE = "integrated", "compartmentalised"
MAX_OUTCOMES = 10
REGIMES_NOTE = "the regimes are set by pooled = ... and baseline = ..."
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
DISCOVERY_FILE, POINTS_FILE, TEXT_FILE = "discovery.json", "discovery_points.csv", "discovery.txt"


@dataclass(frozen=True)
class Real(Field):
    """A number (whole or decimal, never a bool) from ``lo`` to ``hi``."""

    lo: float = -math.inf
    hi: float = math.inf

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        if math.isinf(self.lo) and math.isinf(self.hi):
            return "a number"
        return f"a number from {self.lo:g} to {self.hi:g}"

    def read(self, value, key, ctx, parameter=None):
        """The number, checked."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not self.lo <= value <= self.hi:
            raise ctx.refuse(key, value, self.allowed(ctx))
        return float(value)


@dataclass(frozen=True)
class Named(Field):
    """A table of 1 to ``max_len`` entries under names of the caller's choosing, each read by ``value``."""

    value: Field
    max_len: int

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return (f"a table of 1 to {self.max_len} named entries (names of lower-case letters, digits and _), "
                f"each {self.value.allowed(ctx)}")

    def read(self, value, key, ctx, parameter=None):
        """Each entry read by ``value``; a bad name or size is refused."""
        if not isinstance(value, dict) or not 1 <= len(value) <= self.max_len:
            raise ctx.refuse(key, value, self.allowed(ctx))
        for name in value:
            if not name or not set(name) <= set(NAME_CHARS):
                raise ctx.refuse(f"{key}.{name}", value[name], f"a name of lower-case letters, digits and _ "
                                                              f"(as the key), not {show(name)}")
        return {name: self.value.read(v, f"{key}.{name}", ctx) for name, v in value.items()}


OUTCOME = Table({"summary": Choice(SUMMARY_NAMES), "above": Real(), "below": Real(),
                 "pays_back_within": Whole(1, int(PARAMETERS.get("scenario.years").range[1])),
                 "says": Text("the outcome in words, e.g. 'pooling raises outflow to paid work'")},
                "an outcome table: summary = NAME with above = X or below = X, or pays_back_within = N years")

# The discovery file's schema (experiments/schema.py); [base] and the run fields are the sweep design's own.
DISCOVERY = Table({
    "name": DESIGN.fields["name"],
    "pooled": Choice(tuple(r for r in REGIMES if r != "compartmentalised")),
    "baseline": Choice(REGIMES),
    "replications": DESIGN.fields["replications"],
    "seed": SEED,
    "max_retries": DESIGN.fields["max_retries"],
    "base": ParameterTable(ParameterValue(), nested=True, refuse_paths={"scenario.regime": REGIMES_NOTE},
                           reserved={"scenario": Text("a path to a scenario file (relative to the design)", 4096)}),
    "sampler": Table({"method": Choice(("lhs",)), "samples": Whole(2, limit="samples"), "seed": SEED},
                     "a table with samples = N (a Latin hypercube) and optionally seed = N"),
    "vary": ParameterTable(OneOf(((list, List(ParameterValue(), 2, limit="levels", distinct=True)),
                                  (dict, Table({"range": List(ParameterValue(), 2, 2,
                                                              what="two values [low, high] of the parameter")},
                                               "a table { range = [low, high] }, or {} for the parameter's range")))),
                           refuse_paths={"scenario.regime": REGIMES_NOTE}),
    "outcomes": Named(OUTCOME, MAX_OUTCOMES),
    "prim": Table({"min_coverage": Real(0.0, 1.0), "peel_alpha": Real(0.01, 0.5), "paste_alpha": Real(0.0, 0.5),
                   "mass_min": Real(0.0, 0.5), "max_quasi_p": Real(0.0, 1.0)}),
})


@dataclass
class DiscoveryDesign(Design):
    """A sweep design whose points are a Latin hypercube over ranges and lists, plus what discovery explains.

    ``vary`` holds ``{"range": [lo, hi]}`` for a number and ``{"choices": [...]}`` for a list. Its
    hash (``digest``) covers what is run only, so new outcomes or PRIM settings reuse the stored runs.
    """

    pooled: str = DEFAULT_POOLED
    baseline: str = DEFAULT_BASELINE
    discovery_outcomes: list[Outcome] = field(default_factory=list)
    prim: dict[str, float] = field(default_factory=dict)

    def points(self) -> list[dict[str, Any]]:
        """The Latin hypercube's points, in a fixed order: a number spread over its range, a list cut in equal parts."""
        unit = self.unit_sample()
        pts = []
        for row in unit:
            point = {}
            for (path, spec), u in zip(self.vary.items(), row, strict=True):
                point[path] = _take(path, spec, float(u))
            pts.append(point)
        return pts

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Ranges of the numeric varied parameters."""
        return {k: tuple(v["range"]) for k, v in self.vary.items() if "range" in v}


def _take(path: str, spec: dict, u: float) -> Any:
    """The value at ``u`` in [0, 1): a list's ``floor(u * k)``-th entry; a whole number's equal bins; else linear."""
    if "choices" in spec:
        options = spec["choices"]
        return options[min(int(u * len(options)), len(options) - 1)]
    lo, hi = spec["range"]
    if PARAMETERS.get(path).kind == "int":
        return int(min(math.floor(lo + u * (hi - lo + 1)), hi))
    return float(lo + u * (hi - lo))


def _outcome(path: Path, name: str, spec: dict, years: int) -> Outcome:
    where = f"outcomes.{name}"
    if "pays_back_within" in spec:
        extra = sorted(set(spec) & {"summary", "above", "below"})
        if extra:
            raise _fail(path, f"{where} has pays_back_within and {extra[0]}: an outcome is either "
                              "pays_back_within = N or summary = NAME with above/below = X")
        if spec["pays_back_within"] > years:
            raise _fail(path, f"{where}.pays_back_within = {spec['pays_back_within']} is not allowed: expected at "
                              f"most the horizon, scenario.years = {years}")
        return Outcome(name, within_years=spec["pays_back_within"], says=spec.get("says"))
    if "summary" not in spec:
        raise _fail(path, f"{where} needs summary = NAME with above = X or below = X, or pays_back_within = N "
                          f"(summaries: {', '.join(SUMMARY_NAMES)})")
    if ("above" in spec) == ("below" in spec):
        raise _fail(path, f"{where} needs exactly one of above = X or below = X (the paired difference "
                          f"pooled - baseline of {spec['summary']!r})")
    return Outcome(name, summary=spec["summary"], above=spec.get("above"), below=spec.get("below"),
                   says=spec.get("says"))


def _vary_entry(path: Path, key: str, spec: Any) -> dict:
    meta = PARAMETERS.get(key)
    where = f'vary."{key}"'
    if isinstance(spec, list):
        if meta.kind not in (*NUMBER_KINDS, *CHOICE_KINDS):
            raise _fail(path, f"{where}: a {meta.kind} parameter cannot vary in discovery (numbers and choices can)")
        return {"choices": list(spec)}
    if meta.kind not in NUMBER_KINDS:
        raise _fail(path, f"{where} is a {meta.kind} parameter: give a list of its choices "
                          f"({', '.join(map(str, meta.choices or ()))}), not a range")
    lo, hi = spec.get("range", meta.range)
    if not lo < hi:
        raise _fail(path, f"{where}.range = [{lo}, {hi}] is not allowed: expected low below high")
    return {"range": [float(lo), float(hi)] if meta.kind == "float" else [int(lo), int(hi)]}


def load_discovery(path: str | Path, limits: Limits | None = None) -> DiscoveryDesign:
    """Read and check a discovery design, and plan its runs (every point valid before anything runs).

    Raises:
        InputError: naming the file, the key, the value and what is allowed.
    """
    path = Path(path)
    limits = limits or Limits()
    raw = read_toml(path, "design file")
    ctx = Context(file=f"design {show_path(path)}", limits=limits)
    doc = check(DISCOVERY, raw, ctx)
    pooled = doc.get("pooled", DEFAULT_POOLED)
    baseline = doc.get("baseline", DEFAULT_BASELINE)
    if pooled == baseline:
        raise _fail(path, f"baseline = {baseline!r} is not allowed: expected another regime than pooled = {pooled!r}")
    replications = doc.get("replications", 1)
    seed = doc.get("seed", 0)
    retries = doc.get("max_retries", 2)
    if "sampler" not in doc or "samples" not in doc["sampler"]:
        raise _fail(path, "[sampler] needs samples = N (the Latin hypercube's points)")
    sampler = {"method": "lhs", "samples": doc["sampler"]["samples"], "seed": doc["sampler"].get("seed", seed)}

    base_doc = doc.get("base", {})
    base = read_base(path, base_doc, f"{REGIMES_NOTE}: remove it from the scenario file")
    vary_doc = doc.get("vary", {})
    if not vary_doc:
        raise _fail(path, "[vary] is empty: name at least one lever or assumption to vary")
    both = sorted(set(vary_doc) & set(base))
    if both:
        raise _fail(path, f"'{both[0]}' is both fixed in [base] and varied in [vary]: keep one")
    vary = {key: _vary_entry(path, key, spec) for key, spec in vary_doc.items()}
    if "outcomes" not in doc:
        raise _fail(path, "[outcomes] is missing: name at least one, e.g. [outcomes.raises_outflow] "
                          "summary = \"outflow_work\", above = 0")
    prim = {**PRIM_DEFAULTS, **doc.get("prim", {})}

    limits.runs(sampler["samples"] * 2 * replications,
                f"{sampler['samples']:,} points x 2 regimes x {replications:,} replication(s)", ctx.file)
    source = {"kind": "discovery", "regimes": [baseline, pooled], "replications": replications, "seed": seed,
              "base": base, "sampler": sampler, "vary": vary, "max_retries": retries}
    design = DiscoveryDesign(name=doc.get("name", path.stem), regimes=[baseline, pooled], replications=replications,
                             seed=seed, max_retries=retries, base=base, method="lhs", sampler=sampler, vary=vary,
                             source=source, pooled=pooled, baseline=baseline, prim=prim)
    try:
        plan = design.plan()
    except InputError as exc:
        raise _fail(path, f"a design point cannot run: {exc}") from None
    years = min(int(s.values["scenario.years"]) for s in plan)
    design.discovery_outcomes = [_outcome(path, name, spec, years) for name, spec in doc["outcomes"].items()]
    return design


def dimensions(vary: dict[str, dict]) -> dict[str, dict]:
    """What PRIM needs of each varied parameter: its label, unit, whether it is a choice, and its values or range."""
    out = {}
    for path, spec in vary.items():
        meta = PARAMETERS.get(path)
        choice = "choices" in spec and meta.kind in CHOICE_KINDS
        out[path] = {"label": meta.label, "unit": meta.unit, "kind": "choice" if choice else meta.kind,
                     **({"choices": spec["choices"]} if "choices" in spec else {"range": spec["range"]})}
    return out



# ------------------------------------------------------------------ analysing a discovery folder


def setup_of(design: DiscoveryDesign) -> dict:
    """What the analysis of a discovery needs besides its runs: regimes, outcomes, PRIM settings (stored with it)."""
    return {"name": design.name, "pooled": design.pooled, "baseline": design.baseline,
            "outcomes": [o.as_dict() for o in design.discovery_outcomes], "prim": dict(design.prim)}


def _manifest(folder: Path) -> dict:
    from experiments.sweep import MANIFEST, _read_manifest

    if not folder.is_dir():
        raise InputError(f"{show_path(folder)} is not a discovery folder (it does not exist or is not a folder)")
    manifest = _read_manifest(folder)
    if manifest is None:
        raise InputError(f"{show_path(folder)} is not a discovery folder (no {MANIFEST}): run ontschot discover "
                         "DESIGN --out DIR first")
    if manifest.get("design", {}).get("kind") != "discovery":
        raise InputError(f"{show_path(folder)} holds a sweep that is not a discovery (made by ontschot sweep or "
                         "sensitivity): give the folder of an ontschot discover run")
    return manifest


def stored_setup(folder: Path) -> dict:
    """The outcomes and PRIM settings of the folder's last analysis (discovery.json), checked as the analysis uses them.

    Raises:
        InputError: the folder holds no discovery.json yet; StoredError (an InputError): it is not a regular file,
            too large, or its ``setup`` is not what this version writes (experiments/stored.py).
    """
    from experiments.stored import StoredError, check_discovery_setup, present, read_json

    _manifest(folder)
    path = folder / DISCOVERY_FILE
    if not present(path):
        raise InputError(f"{show_path(folder)} holds no {DISCOVERY_FILE} yet (its runs were never analysed): give the "
                         f"design as well, ontschot discover DESIGN --analyse {show_path(folder)}")
    try:
        return check_discovery_setup(read_json(path, "discovery record").get("setup"), path)
    except StoredError as exc:
        raise StoredError(f"{exc}; or give the design as well, ontschot discover DESIGN --analyse "
                          f"{show_path(folder)}") from None


def check_same_runs(design: DiscoveryDesign, folder: Path) -> None:
    """The design's runs are the folder's (its outcomes and PRIM settings may differ).

    Raises:
        InputError: the folder holds another design's runs.
    """
    manifest = _manifest(folder)
    if manifest.get("design_hash") != design.digest:
        raise InputError(f"discovery folder {show_path(folder)} holds the runs of another design (hash "
                         f"{manifest.get('design_hash')}; this design's runs have hash {design.digest}): only its "
                         "[outcomes] and [prim] may change for --analyse")


def _stored_runs(folder: Path) -> pd.DataFrame:
    """The whole-population rows of the indicators the summaries need, from every sound run file.

    DuckDB reads only those columns and rows; the names put into the SQL are this code's own, never user input.
    """
    from analysis.discovery import needed_indicators
    from experiments.sweep import query

    names, prefixes = needed_indicators()
    wanted = " OR ".join([f"indicator IN ({', '.join(repr(n) for n in names)})",
                          *(f"starts_with(indicator, {p!r})" for p in prefixes)])
    return query(folder, "SELECT run_id, point, regime, replication, seed, year, indicator, group_by, value "
                         f"FROM runs WHERE group_by = 'all' AND ({wanted})")


def analyse_folder(folder: str | Path, setup: dict) -> dict:
    """PRIM per outcome on a discovery folder's stored runs; writes discovery.json, the points table and the rules.

    Only points with both regimes in every replication stored are analysed (a failed run leaves its
    point out, and says so). Nothing is written unless the whole analysis succeeded; each file is
    replaced atomically.

    Returns:
        The discovery record (as written to discovery.json), with ``text``: the rules in words.
    """
    from analysis.discovery import find_box, point_outcomes, rule, run_table
    from experiments.runfiles import publish
    from experiments.store import code_version, package_versions

    folder = Path(folder)
    manifest = _manifest(folder)
    source = manifest["design"]
    outcomes = [Outcome(**o) for o in setup["outcomes"]]
    dims = dimensions(source["vary"])
    points = pd.DataFrame([{"point": r["point"], **r["varied"]} for r in manifest["planned"]]) \
        .drop_duplicates("point").set_index("point").sort_index()
    runs = run_table(_stored_runs(folder))
    table = point_outcomes(runs, outcomes, setup["pooled"], setup["baseline"])
    replications = int(source["replications"])
    table = table[table["replications"] == replications]
    if table.empty:
        raise InputError(f"discovery folder {show_path(folder)} holds no design point with all its runs yet: run "
                         "the same ontschot discover command again to fill them (see failures/)")
    x = points.loc[table["point"]].reset_index(drop=True)
    found = []
    for o in outcomes:
        box = find_box(x, table[o.name].to_numpy(), dims, setup["prim"])
        box.update({"outcome": o.as_dict(), "says": o.words(setup["pooled"]),
                    "definition": o.definition(setup["pooled"], setup["baseline"])})
        box["rule"] = rule(box, box["says"])
        found.append(box)
    record = {"design": source.get("name", setup["name"]), "design_hash": manifest["design_hash"],
              "pooled": setup["pooled"], "baseline": setup["baseline"], "replications": replications,
              "seed": source["seed"], "sampler": source["sampler"], "base": source["base"],
              "points_planned": len(points), "points_analysed": len(table), "dimensions": dims, "boxes": found,
              "setup": setup, "method": METHOD, "code_version": code_version(),
              "package_versions": package_versions(),
              "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    record["text"] = format_discovery(record)
    out_points = x.assign(point=table["point"].to_numpy())
    out_points = out_points[["point", *dims]].join(table.drop(columns=["point"]).reset_index(drop=True))
    try:
        publish(folder / POINTS_FILE, out_points.to_csv(index=False).encode())
        publish(folder / TEXT_FILE, (record["text"] + "\n").encode())
        publish(folder / DISCOVERY_FILE, json.dumps(record, indent=2, default=str).encode())
    except OSError as exc:  # StoreWriteError is one
        raise OutputError(f"discovery folder {show_path(folder)}: the analysis could not be written ({exc}); the "
                          "runs are saved: run ontschot discover --analyse again") from None
    return record


METHOD = ("PRIM (EMA Workbench) on the 0/1 outcome per point; of the peeling trajectory the box with the highest "
          "density whose coverage is at least min_coverage; then restrictions with quasi-p above max_quasi_p "
          "dropped, least significant first (analysis/discovery.py)")


def format_discovery(record: dict) -> str:
    """The rules of a discovery in words, one paragraph per outcome, with each restriction's quasi-p value."""
    prim = record["setup"]["prim"]
    lines = [f"Scenario discovery '{record['design']}': {record['points_analysed']} of {record['points_planned']} "
             f"points (Latin hypercube, seed {record['sampler']['seed']}), each {record['pooled']} against "
             f"{record['baseline']} on the same seeds, {record['replications']} paired replication(s) per point.",
             f"PRIM: of the peeling trajectory, the box with the highest density among those with coverage of at "
             f"least {prim['min_coverage']:g}; restrictions with quasi-p above {prim['max_quasi_p']:g} dropped.", ""]
    for box in record["boxes"]:
        lines.append(f"{box['outcome']['name']}: {box['definition']}")
        lines.append(f"  {box['rule']}")
        for lim in box.get("limits", []):
            lines.append(f"    - {condition(lim)} (quasi-p {lim['quasi_p']:.2g})")
        lines.append("")
    return "\n".join(lines).rstrip()
