"""The source documents' own cases: each a scenario file, each claim reproduced or not, with its mechanism.

A case file (``experiments/scenarios/cases/*.toml``) is an ordinary scenario file (parameter overrides)
with a ``[case]`` table: the document, the place in it, the setting, named variants (overrides on top of
the file, all run with the same seeds) and the claims. A claim names a measure (a yearly indicator of
``model/reporters.py`` reduced over the years, optionally per another, or a named measure), the variant
it is read in (or a contrast of two variants, paired by seed), the expectation the document states, and
the mechanism in the model that decides it.

``run_cases`` runs every variant of every case ``replications`` times; ``claim_table`` computes the table
from those stored runs alone (``cases_runs.parquet``), so the table can be recomputed from a results
folder; ``format_table`` prints it and ``markdown`` writes ``docs/cases.md``.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from experiments.batch import Task, complete
from experiments.runner import replication_seeds
from model.constants import WHOLE_POPULATION
from model.parameters import PARAMETERS, InputError, Values, flatten, read_toml, show_path
from model.reporters import INDICATORS

CASES_DIR = Path(__file__).with_name("scenarios") / "cases"
REDUCTIONS = ("sum", "mean", "last", "first")
CASE_FIELDS = {"title", "document", "where", "setting", "variants", "claims"}
CLAIM_FIELDS = {"claim", "quote", "where", "measure", "reduce", "per", "variant", "contrast", "expect", "mechanism",
                "by_construction"}
REQUIRED_CLAIM = ("claim", "quote", "where", "measure", "expect", "mechanism")
EXPECT_KEYS = {"at_least", "at_most"}
CONFIDENCE = 0.95  # the chance interval shown per claim (replications)
BASE_VARIANT = "base"  # the file's own scenario when it names no variants
# Modules holding named measures: each has MEASURES = {name: measure(frame, values) -> float}.
MEASURE_MODULES = ("experiments.case_measures", "experiments.lever_measures", "analysis.business_case")
VERDICTS = ("reproduced", "not reproduced")


@dataclass(frozen=True)
class Claim:
    """One claim of a document, as the model can test it."""

    claim: str
    quote: str
    where: str
    measure: str
    expect: dict[str, float]
    mechanism: str
    reduce: str = "mean"
    per: str | None = None
    variant: str | None = None
    contrast: tuple[str, str] | None = None
    by_construction: bool = False  # the case's own parameters set what the claim says: shown, but no evidence

    @property
    def read_in(self) -> str:
        """The variant, or the contrast 'a - b', the claim is read in."""
        return f"{self.contrast[0]} - {self.contrast[1]}" if self.contrast else str(self.variant)

    def expectation(self) -> str:
        """The expectation in words, e.g. '0.25 to 0.35', '>= 0', '<= 10'."""
        lo, hi = self.expect.get("at_least"), self.expect.get("at_most")
        if lo is not None and hi is not None:
            return f"{_num(lo)} to {_num(hi)}"
        return f">= {_num(lo)}" if lo is not None else f"<= {_num(hi)}"

    def holds(self, value: float) -> bool:
        """Whether a value meets the expectation (NaN never does)."""
        if value is None or not math.isfinite(value):
            return False
        lo, hi = self.expect.get("at_least", -math.inf), self.expect.get("at_most", math.inf)
        return lo <= value <= hi


@dataclass(frozen=True)
class Case:
    """A case file: its document, setting, the overrides of its variants and its claims."""

    key: str
    path: Path
    title: str
    document: str
    where: str
    setting: str
    overrides: dict[str, Any]
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()

    def values(self, variant: str, extra: Mapping[str, Any] | None = None) -> Values:
        """The resolved parameter values of a variant (the file, then the variant, then ``extra``)."""
        return PARAMETERS.resolve({**self.overrides, **self.variants[variant], **(extra or {})},
                                  origin=f"case {self.key} variant {variant}")


def _num(x: float) -> str:
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _refuse(where: str, key: str, value: Any, allowed: str) -> InputError:
    return InputError(f"{where}: {key} = {value!r} is not allowed; expected {allowed}")


def read_case(path: str | Path) -> Case:
    """Read and validate one case file; any problem is an InputError naming the file, the key and what is allowed."""
    path = Path(path)
    where = f"case file {show_path(path)}"
    doc = read_toml(path, "case file")
    meta = doc.pop("case", None)
    if not isinstance(meta, dict):
        raise InputError(f"{where} has no [case] table: a case names its document, setting and claims there")
    unknown = sorted(set(meta) - CASE_FIELDS)
    if unknown:
        raise _refuse(where, f"case.{unknown[0]}", meta[unknown[0]], f"one of {', '.join(sorted(CASE_FIELDS))}")
    for name in ("title", "document", "where", "setting"):
        if not isinstance(meta.get(name), str) or not meta[name].strip():
            raise _refuse(where, f"case.{name}", meta.get(name), "a non-empty text")
    origin = str(path)
    overrides = PARAMETERS.validate(flatten(doc, origin=origin), origin=origin)
    raw_variants = meta.get("variants", {BASE_VARIANT: {}})
    if not isinstance(raw_variants, dict) or not raw_variants:
        raise _refuse(where, "case.variants", raw_variants, "a table of named variants, each a table of overrides")
    variants = {}
    for name, table in raw_variants.items():
        if not isinstance(table, dict):
            raise _refuse(where, f"case.variants.{name}", table, "a table of parameter overrides")
        variants[name] = PARAMETERS.validate(flatten(table, origin=f"{origin} variant {name}"),
                                             origin=f"{origin} variant {name}")
        PARAMETERS.resolve({**overrides, **variants[name]}, origin=f"{origin} variant {name}")
    claims = meta.get("claims")
    if not isinstance(claims, list) or not claims:
        raise _refuse(where, "case.claims", claims, "one or more [[case.claims]] tables")
    return Case(key=path.stem, path=path, title=meta["title"], document=meta["document"], where=meta["where"],
                setting=meta["setting"], overrides=overrides, variants=variants,
                claims=tuple(_claim(c, k, variants, where) for k, c in enumerate(claims, 1)))


def _claim(raw: Any, k: int, variants: Mapping[str, Any], where: str) -> Claim:
    here = f"{where} claim {k}"
    if not isinstance(raw, dict):
        raise _refuse(here, "claim", raw, "a table")
    unknown = sorted(set(raw) - CLAIM_FIELDS)
    if unknown:
        raise _refuse(here, unknown[0], raw[unknown[0]], f"one of {', '.join(sorted(CLAIM_FIELDS))}")
    for name in REQUIRED_CLAIM:
        if name not in raw:
            raise _refuse(here, name, None, "a value (required)")
    for name in ("claim", "quote", "where", "mechanism"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise _refuse(here, name, raw[name], "a non-empty text")
    measure = raw["measure"]
    if not isinstance(measure, str) or (measure not in INDICATORS and measure not in named_measures()):
        raise _refuse(here, "measure", measure, "a yearly indicator of model/reporters.py or a named measure ("
                      + ", ".join(sorted(named_measures())) + ")")
    per = raw.get("per")
    if per is not None and per not in INDICATORS:
        raise _refuse(here, "per", per, "a yearly indicator of model/reporters.py")
    if per is not None and measure not in INDICATORS:
        raise _refuse(here, "per", per, "no 'per' with a named measure")
    reduce = raw.get("reduce", "mean")
    if reduce not in REDUCTIONS:
        raise _refuse(here, "reduce", reduce, f"one of {', '.join(REDUCTIONS)}")
    expect = raw["expect"]
    if (not isinstance(expect, dict) or not expect or set(expect) - EXPECT_KEYS
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in expect.values())):
        raise _refuse(here, "expect", expect, "a table with at_least and/or at_most, finite numbers")
    if "at_least" in expect and "at_most" in expect and expect["at_least"] > expect["at_most"]:
        raise _refuse(here, "expect", expect, "at_least <= at_most")
    by_construction = raw.get("by_construction", False)
    if not isinstance(by_construction, bool):
        raise _refuse(here, "by_construction", by_construction, "true or false")
    variant, contrast = raw.get("variant"), raw.get("contrast")
    if (variant is None) == (contrast is None) and len(variants) > 1:
        raise _refuse(here, "variant", variant, "exactly one of variant or contrast when a case has variants")
    if contrast is not None:
        if (not isinstance(contrast, list) or len(contrast) != 2 or contrast[0] == contrast[1]
                or any(c not in variants for c in contrast)):
            raise _refuse(here, "contrast", contrast, f"two different variants of {', '.join(variants)}")
        contrast = (contrast[0], contrast[1])
    elif variant is None:
        variant = next(iter(variants))
    elif variant not in variants:
        raise _refuse(here, "variant", variant, f"one of {', '.join(variants)}")
    return Claim(claim=raw["claim"], quote=raw["quote"], where=raw["where"], measure=measure,
                 expect={k: float(v) for k, v in expect.items()}, mechanism=raw["mechanism"], reduce=reduce, per=per,
                 variant=variant, contrast=contrast, by_construction=by_construction)


def named_measures() -> dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], float]]:
    """Every named measure, from the modules in ``MEASURE_MODULES``."""
    found: dict[str, Callable] = {}
    for name in MEASURE_MODULES:
        found.update(importlib.import_module(name).MEASURES)
    return found


def case_files(folder: Path = CASES_DIR) -> list[Path]:
    """The case files, by name."""
    return sorted(folder.glob("*.toml"))


def load_cases(names: Sequence[str] | None = None, folder: Path = CASES_DIR) -> list[Case]:
    """The cases named (file stems), or all of them; an unknown name is refused naming the known ones."""
    files = {f.stem: f for f in case_files(folder)}
    if names:
        unknown = [n for n in names if n not in files]
        if unknown:
            raise InputError(f"--case {unknown[0]!r} is not a case; allowed: {', '.join(files)}")
        files = {n: files[n] for n in dict.fromkeys(names)}
    return [read_case(f) for f in files.values()]


@dataclass(frozen=True)
class CaseRun:
    """One run of the plan: which case and variant, which replication, its task."""

    case: str
    variant: str
    replication: int
    task: Task


def plan_cases(cases: Sequence[Case], replications: int, root_seed: int,
               extra: Mapping[str, Any] | None = None) -> list[CaseRun]:
    """Every variant of every case, ``replications`` times with the same seeds (paired)."""
    seeds = replication_seeds(root_seed, replications)
    return [CaseRun(case.key, variant, rep, Task(case.values(variant, extra), seed, breakdowns=False))
            for case in cases for variant in case.variants for rep, seed in enumerate(seeds)]


def run_cases(plan: Sequence[CaseRun], workers: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Run the plan; the whole-population yearly rows: case, variant, replication, seed, year, indicator, value."""
    results = complete([r.task for r in plan], workers=workers, progress=progress)
    parts = []
    for r in plan:
        frame = results[r.task.run_id].frame
        frame = frame[frame["group_by"] == WHOLE_POPULATION]
        parts.append(pd.DataFrame({"case": r.case, "variant": r.variant, "replication": r.replication,
                                   "seed": r.task.seed, "year": frame["year"].to_numpy(),
                                   "indicator": frame["indicator"].to_numpy(), "value": frame["value"].to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _reduce(series: pd.Series, how: str) -> float:
    if series.empty:
        return math.nan
    ordered = series.sort_index()
    return float({"sum": ordered.sum, "mean": ordered.mean, "last": lambda: ordered.iloc[-1],
                  "first": lambda: ordered.iloc[0]}[how]())


def claim_value(claim: Claim, frame: pd.DataFrame, values: Mapping[str, Any]) -> float:
    """A claim's measure in one run (``frame``: that run's whole-population rows: year, indicator, value)."""
    if claim.measure not in INDICATORS:
        return float(named_measures()[claim.measure](frame, values))
    wide = frame.pivot_table(index="year", columns="indicator", values="value", aggfunc="first")
    top = _reduce(wide[claim.measure], claim.reduce) if claim.measure in wide else math.nan
    if claim.per is None:
        return top
    bottom = _reduce(wide[claim.per], claim.reduce) if claim.per in wide else math.nan
    return top / bottom if bottom else math.nan


def interval(samples: Sequence[float]) -> tuple[float, float, float]:
    """Mean and the chance interval over replications (t distribution); NaN replications left out."""
    x = np.asarray([s for s in samples if s is not None and math.isfinite(s)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def claim_table(cases: Sequence[Case], runs: pd.DataFrame, extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per claim, computed from the stored runs alone: result with its interval and the verdict.

    verdict: *reproduced* when the mean over replications meets the document's expectation;
    ``sure`` says whether the whole chance interval does (or none of it, for a claim not reproduced).
    """
    rows = []
    groups = {key: part for key, part in runs.groupby(["case", "variant", "replication"], sort=False)}
    for case in cases:
        for k, claim in enumerate(case.claims, 1):
            reps = sorted({r for (c, _, r) in groups if c == case.key})
            samples, never = [], 0
            for rep in reps:
                if claim.contrast:
                    a, b = (_run_value(claim, case, v, rep, groups, extra) for v in claim.contrast)
                    value = a - b
                else:
                    value = _run_value(claim, case, claim.variant, rep, groups, extra)
                never += not math.isfinite(value)
                samples.append(value)
            mean, lo, hi = interval(samples)
            ok = claim.holds(mean)
            inside = claim.holds(lo) and claim.holds(hi)
            # Never reached in any run: surely not reproduced; else the interval must miss the expectation.
            outside = not math.isfinite(mean) or (math.isfinite(lo) and not _overlaps(claim, lo, hi))
            rows.append({
                "case": case.key, "claim_no": k, "document": case.document, "where": claim.where,
                "claim": claim.claim, "quote": claim.quote, "read_in": claim.read_in, "measure": claim.measure,
                "expected": claim.expectation(), "result": mean, "low": lo, "high": hi,
                "replications": len(samples), "not_reached": never,
                "verdict": VERDICTS[0] if ok else VERDICTS[1], "sure": inside if ok else outside,
                "by_construction": claim.by_construction, "mechanism": claim.mechanism,
            })
    return pd.DataFrame(rows)


def _overlaps(claim: Claim, lo: float, hi: float) -> bool:
    """Whether the interval [lo, hi] meets the expectation's range anywhere."""
    a, b = claim.expect.get("at_least", -math.inf), claim.expect.get("at_most", math.inf)
    return lo <= b and hi >= a


def _run_value(claim: Claim, case: Case, variant: str, rep: int, groups: Mapping, extra) -> float:
    part = groups.get((case.key, variant, rep))
    if part is None:
        return math.nan
    return claim_value(claim, part[["year", "indicator", "value"]], case.values(variant, extra))


def _cell(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else _num(x)


def result_text(row: Mapping[str, Any]) -> str:
    """'0.31 [0.27, 0.35]' (mean and chance interval), 'n/a' when never reached."""
    if not math.isfinite(row["result"]):
        return "not reached in any run"
    text = _cell(row["result"])
    if math.isfinite(row["low"]):
        text += f" [{_cell(row['low'])}, {_cell(row['high'])}]"
    if row.get("not_reached"):
        text += f" ({row['not_reached']} of {row['replications']} runs: not reached)"
    return text


def verdict_text(row: Mapping[str, Any]) -> str:
    """The verdict, noting an interval that crosses the expectation's bound and a claim that holds by construction."""
    notes = [] if row["sure"] else ["interval crosses the bound"]
    if row.get("by_construction"):
        notes.append("by construction: the case's parameters set it, no evidence")
    return row["verdict"] + (f" ({'; '.join(notes)})" if notes else "")


def summary_line(table: pd.DataFrame) -> str:
    """The summary: how many claims are reproduced (how many of them by construction) and how many not."""
    n = len(table)
    yes = table["verdict"] == VERDICTS[0]
    built = int((yes & table["by_construction"].astype(bool)).sum())
    return (f"{int(yes.sum())} of {n} claims reproduced ({built} of them by construction, no evidence), "
            f"{n - int(yes.sum())} not reproduced.")


def format_table(table: pd.DataFrame, cases: Sequence[Case]) -> str:
    """The table for the terminal: per case its title, then one block per claim."""
    titles = {c.key: c for c in cases}
    lines = []
    for key, part in table.groupby("case", sort=False):
        case = titles[key]
        lines.append(f"{case.title}  [{case.document}, {case.where}]  scenario: {case.path.name}")
        for _, row in part.iterrows():
            lines.append(f"  {row['claim_no']}. {row['claim']}  ({row['document']}, {row['where']})")
            lines.append(f"     {row['measure']} in {row['read_in']}: {result_text(row)}; expected {row['expected']}"
                         f" -> {row['verdict'].upper()}{verdict_text(row)[len(row['verdict']):]}")
            lines.append(f"     mechanism: {row['mechanism']}")
        lines.append("")
    lines.append(summary_line(table))
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(table: pd.DataFrame, cases: Sequence[Case], meta: Mapping[str, Any]) -> str:
    """``docs/cases.md``: how the table was made, one row per claim, then each case's setting and mechanisms."""
    titles = {c.key: c for c in cases}
    out = [
        "# The documents' cases: claims reproduced or not",
        "",
        "Written by `ontschot cases --doc docs/cases.md` (do not edit by hand). Each case is a scenario file under",
        "experiments/scenarios/cases/ that names its document, the place in it and the claim; every variant of a",
        "case runs with the same seeds, so a contrast between variants is paired. The result is the mean over",
        f"replications with its {CONFIDENCE:.0%} chance interval (replications only: parameter uncertainty is not in",
        "it; see docs/calibration.md for the ensemble). *Reproduced* means the mean meets the document's",
        "expectation; where the interval crosses the bound the verdict is marked so. A claim marked *by construction*",
        "holds because the case's own parameters set it (a price, a rule): it is shown so the setting can be checked,",
        "and it is no evidence for the model.",
        "",
        f"Run: {meta.get('replications')} replications, root seed {meta.get('seed')}, code "
        f"{meta.get('code', 'unknown')}. {summary_line(table)}",
        "",
        "| case | claim | document, place | scenario (read in) | result [interval] | expected | verdict | mechanism |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, row in table.iterrows():
        case = titles[row["case"]]
        out.append(f"| {_md(case.title)} | {_md(row['claim'])} | [{row['document']}] {_md(row['where'])} | "
                   f"{case.path.name} ({_md(row['read_in'])}) | {_md(result_text(row))} | {_md(row['expected'])} | "
                   f"**{_md(verdict_text(row))}** | {_md(row['mechanism'])} |")
    out += ["", "## The cases", ""]
    for case in cases:
        out += [f"### {case.title}", "", f"[{case.document}] {case.where}. {case.setting}", "",
                f"Scenario file: experiments/scenarios/cases/{case.path.name}; variants: "
                + ", ".join(f"{name} ({_overrides_text(ov)})" for name, ov in case.variants.items()) + ".", ""]
        for claim in case.claims:
            out.append(f"- *\"{_md(claim.quote)}\"* ({claim.where}): {_md(claim.claim)}")
        out.append("")
    return "\n".join(out)


def _overrides_text(overrides: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in overrides.items()) or "the file as it is"


RUNS_FILE = "cases_runs.parquet"
TABLE_FILE = "claims.csv"
TEXT_FILE = "cases.txt"


def file_hash(path: Path) -> str:
    """sha256 of a case file's bytes (a stored table names the files it was computed from)."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def store(folder: Path, cases: Sequence[Case], runs: pd.DataFrame, table: pd.DataFrame, meta: Mapping[str, Any]) -> None:
    """Write a cases folder: the runs, the claim table, its text, and a manifest naming every case file by hash."""
    from experiments.runfiles import write_indicators
    from experiments.store import write_manifest

    write_indicators(runs, folder / RUNS_FILE)
    table.to_csv(folder / TABLE_FILE, index=False)
    (folder / TEXT_FILE).write_text(format_table(table, cases) + "\n")
    write_manifest(folder, kind="cases", **meta,
                   cases={c.key: {"file": c.path.name, "sha256": file_hash(c.path),
                                  "variants": {v: {k: _plain(x) for k, x in c.values(v, meta.get("extra")).items()}
                                               for v in c.variants}} for c in cases})


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def recompute(folder: str | Path, cases_dir: Path = CASES_DIR) -> tuple[list[Case], pd.DataFrame, dict]:
    """The claim table of a stored cases folder, from its runs alone (no model run).

    The case files must be those the runs were made with (same sha256): a changed file is refused, naming it.
    """
    import json

    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        runs = pd.read_parquet(folder / RUNS_FILE)
    except (OSError, ValueError) as exc:
        raise InputError(f"{show_path(folder)} is not a readable cases folder ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})") from None
    if manifest.get("kind") != "cases" or not isinstance(manifest.get("cases"), dict):
        raise InputError(f"{show_path(folder)}: manifest.json is not that of `ontschot cases`")
    cases = []
    for entry in manifest["cases"].values():
        path = cases_dir / entry["file"]
        if not path.is_file() or file_hash(path) != entry["sha256"]:
            raise InputError(f"case file {entry['file']} changed since {show_path(folder)} was made "
                             "(its sha256 differs): run `ontschot cases` again")
        cases.append(read_case(path))
    return cases, claim_table(cases, runs, manifest.get("extra")), manifest
