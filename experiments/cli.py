"""The ``ontschot`` command line.

ontschot run          compare funding regimes on a scenario (paired replications): every arm with the same
                      practices, plus one named arm with the practice bundle, and that arm's decomposition;
                      what the funding alone consists of (the one pot, each pooled-desk field); the audit
ontschot explain      decompose the bundle arm's difference into pooling the money and each practice lever
ontschot validate     check the compartmentalised baseline against the published figures
ontschot persona      follow a scripted household under two regimes
ontschot cases        run the source documents' own cases and print one row per claim: reproduced or not, and why
ontschot query        SQL over a result folder's Parquet files (DuckDB, read-only)
ontschot sweep        run a design file on Dask (resumable)
ontschot sensitivity  Sobol / Morris sensitivity analysis of a design, with the indices' convergence
                      (--until-stable: double n until they are stable, bounded by --max-runs)
ontschot sensitivity  Sobol / Morris sensitivity analysis of a design
ontschot discover     scenario discovery: the conditions (levers, assumptions) under which pooling raises outflow
                      to work or pays back, found by PRIM on a Latin hypercube run on Dask, told as rules
ontschot verify       check a sweep folder's run files without running anything
ontschot params       list every parameter with unit, range, status and source
ontschot report       the policymaker's report (one HTML file) of a run or sweep folder
ontschot audit        the controller's audit of a run folder (same money, budgets kept, ledgers, steady baseline)
ontschot page         serve the workshop page in the browser (127.0.0.1 unless --host)

Every error in what was asked (a bad option, parameter, file or folder) is one line on stderr,
``ontschot: error: ...``, with exit status 2 and nothing written; a bug keeps its traceback.

run, explain, validate, calibrate, cases and sensitivity --until-stable hold their ``--out`` folder's
lock (``out_lock``) while they compute and write: a second of them into the same ``--out`` is refused in
one line naming the first one's pid and command, before it computes. sweep, sensitivity (without
--until-stable) and discover hold their sweep folder's ``sweep.lock`` from before their runs until what they
write from the runs (points.csv, the analysis files) is written, and discover --analyse while it analyses
(``sweep_lock``), so two of them on one folder never race. report and the reading commands take no lock: a
result folder appears under its name only when complete.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

from analysis import business_case as firm_case
from analysis.audit import audit, format_audit
from analysis.compare import compare, format_business_case, format_table, payback, run_summaries
from analysis.i18n import DEFAULT_LANGUAGE, LanguageError, check_language
from analysis.personas import format_paths, format_uid, path_frame
from analysis.validation import dynamics_table, firm_dropout_by_disability, format_validation, validation_table
from experiments import cli_guards as guards
from experiments import stored
from experiments.arms import build_arms, describe, practice_bundle
from experiments.batch import Task, batch_size, run_tasks
from experiments.calibrate import (
    ASSUMPTION_SPREAD,
    DEFAULT_ENSEMBLE,
    FREE,
    calibrate_ensemble,
    ensemble_matches_parameters,
    ensemble_prior,
    ensemble_record,
    format_ensemble,
    install_ensemble,
    load_ensemble,
    write_ensemble,
)
from experiments.desk_parts import desk_parts, desk_plan, format_desk_parts
from experiments.ensemble import (
    DEFAULT_ENSEMBLE_REPLICATIONS,
    format_ensemble_table,
    plan_ensemble,
    run_ensemble,
    side_by_side,
    summarise,
    with_assumptions,
)
from experiments.explain import (
    LABELS,
    coalition_design,
    coalition_tasks,
    decompose_runs,
    format_decomposition,
    format_money_effects,
    run_decomposition,
)
from experiments.history_matching import Size
from experiments.limits import STATED, parse_limits
from experiments.runfiles import param_key, write_indicators
from experiments.runner import comparison_plan, replication_seeds, run_comparison
from experiments.store import OutputError, RunFolder, check_output_folder, code_version, os_reason, write_manifest
from model import events as event_history
from model.model import SocialDomainModel
from model.parameters import (
    PARAMETERS,
    InputError,
    Values,
    parse_set,
    resolve_overrides,
    show,
    show_path,
    whole_number,
)
from model.personas import PERSONAS, check_names

REGIMES = PARAMETERS.get("scenario.regime").choices
DEFAULT_REPLICATIONS = 10
COALITION_RUNS = "coalitions.parquet"  # the decomposition's coalition runs in a run folder
DEFAULT_SEED = 20261122
DEFAULT_VALIDATION_REPLICATIONS = 20
DEFAULT_CASE_REPLICATIONS = 5  # paired seeds per case variant: the claims' chance intervals
QUERY_ROWS_SHOWN = 200  # rows of a query's answer printed on the terminal (--csv and --json hold them all)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, like every other error: ``ontschot: error: ...``, exit 2."""

    def error(self, message: str):
        """Print the message on one line (with where to find the usage) and exit with status 2."""
        text = " ".join(str(message).split())
        command = self.prog.removeprefix("ontschot").strip()
        self.exit(2, f"ontschot: error: {f'{command}: ' if command else ''}{text} "
                     f"(see: {self.prog} --help)\n")


def _whole(text: str) -> int:
    value = whole_number(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{show(text)} is not a whole number (ASCII digits)")
    return value


def _positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: must be at least 1")
    return value


def _seed(text: str) -> int:
    value = _whole(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{show(text)} is not allowed: from 0 to {2**32 - 1}")
    return value


def _regimes(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",")]
    bad = [n for n in names if n not in REGIMES]
    if bad:
        raise argparse.ArgumentTypeError(
            f"{show(text)} is not allowed: a comma-separated list of {', '.join(REGIMES)}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{show(text)} names a regime twice")
    return names


def _language(text: str) -> str:
    try:
        return check_language(text)
    except LanguageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--lang: ")) from None


TABLE_LANGUAGE = "en"  # the printed tables' language unless --lang names one (scripts and logs read them)


def _language_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", type=_language, default=None, metavar="{nl,en}",
                   help=f"language of the report: nl (Dutch) or en (English) (default {DEFAULT_LANGUAGE}); when "
                        f"given, also of the tables printed here (without it they stay {TABLE_LANGUAGE}, as "
                        "scripts read them)")


def _limit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", metavar="NAME=N", action="append", default=[],
                   help=f"raise a size limit for a bigger machine or a cluster ({', '.join(STATED)}; "
                        "see experiments/limits.py)")


def _scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", metavar="FILE", help="TOML file of overrides keyed by parameter path")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override one parameter (repeatable), e.g. --set scenario.pooled_share=0.1")
    p.add_argument("--years", type=_positive_int, help="horizon in years (default: scenario.years)")
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")


def _practice_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--practices", metavar="FILE|none", default=None,
                   help="the practice bundle of the extra arm '<last regime> + <bundle>' (every other arm keeps the "
                        "scenario's practices): a TOML file of practice.* levers, or none for no bundle arm "
                        "(default: experiments/scenarios/pooling_practices.toml, arm 'integrated + pooling practices')")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="local worker processes for the runs (default: every core; explain: Dask workers)")


def _output_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--out", default="outputs", help="parent folder for results (default: outputs)")
    p.add_argument("--json", action="store_true", help=f"print the {what} as JSON on stdout")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ontschot", description=__doc__, allow_abbrev=False,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compare funding regimes on a scenario (every arm with the same practices, "
                                     "plus one named arm with the practice bundle)", allow_abbrev=False)
    _scenario_options(run)
    run.add_argument("--regimes", type=_regimes, default=None,
                     help="comma-separated; each regime is an arm with the scenario's practices, the first is the "
                          "baseline, the last also gets the bundle arm (default: compartmentalised and the "
                          "scenario's regime, or integrated)")
    run.add_argument("--replications", type=_positive_int, default=DEFAULT_REPLICATIONS,
                     help=f"paired replications per regime (default {DEFAULT_REPLICATIONS})")
    run.add_argument("--report", action="store_true",
                     help="also write the report (report.html with its tables and figures) into the results folder")
    _language_option(run)
    run.add_argument("--ensemble", metavar="FILE", nargs="?", const=str(DEFAULT_ENSEMBLE), default=None,
                     help="also run every arm over the calibrated ensemble (ontschot calibrate): intervals with "
                          "parameter uncertainty as well as chance, and the probability that a difference is above "
                          "zero (default file: the installed ensemble)")
    run.add_argument("--ensemble-sets", type=_positive_int, default=None, metavar="N",
                     help="use the ensemble's first N sets (default: all)")
    run.add_argument("--ensemble-replications", type=_positive_int, default=DEFAULT_ENSEMBLE_REPLICATIONS,
                     metavar="R", help=f"paired seeds per set (default {DEFAULT_ENSEMBLE_REPLICATIONS})")
    run.add_argument("--assumption-spread", type=float, default=ASSUMPTION_SPREAD, metavar="SHARE",
                     help="the assumptions the ensemble's calibration did not vary are drawn per set over their value "
                          f"+/- this share (default {ASSUMPTION_SPREAD}; 0: kept at their values)")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="run the ensemble's runs on this Dask scheduler (the comparison runs on local processes)")
    run.add_argument("--events", action="store_true",
                     help="also store every resident's transitions as events.parquet (synthetic microdata)")
    _practice_options(run)
    run.add_argument("--no-explain", action="store_true",
                     help="skip the decomposition of the bundle arm against the baseline (runs every combination of "
                          "the players)")
    _output_options(run, "comparison")
    _limit_option(run)
    exp = sub.add_parser("explain", help="decompose the bundle arm's difference from compartmentalised funding into "
                                         "pooling the money and each practice", allow_abbrev=False)
    _scenario_options(exp)
    exp.add_argument("--regime", choices=[r for r in REGIMES if r != "compartmentalised"], default="integrated",
                     help="the funding of the arm explained: '<regime> + <bundle>' (or '<regime>' with --practices "
                          "none) against compartmentalised with the scenario's practices (default integrated)")
    exp.add_argument("--replications", type=_positive_int, default=DEFAULT_REPLICATIONS,
                     help=f"paired replications per coalition (default {DEFAULT_REPLICATIONS})")
    _practice_options(exp)
    _output_options(exp, "decomposition")
    _limit_option(exp)
    val = sub.add_parser("validate", help="check the compartmentalised baseline against the published figures",
                         allow_abbrev=False)
    _scenario_options(val)
    val.add_argument("--replications", type=_positive_int, default=DEFAULT_VALIDATION_REPLICATIONS,
                     help=f"replications (default {DEFAULT_VALIDATION_REPLICATIONS})")
    val.add_argument("--strict", action="store_true", help="exit with status 1 when a target misses")
    _output_options(val, "validation")
    _limit_option(val)
    _calibrate_parser(sub)
    per = sub.add_parser("persona", help="follow a scripted household under two regimes with the same seed",
                         allow_abbrev=False)
    who = per.add_mutually_exclusive_group(required=True)
    who.add_argument("name", nargs="?", help=f"one of {', '.join(PERSONAS)} (or --uid)")
    who.add_argument("--uid", type=int, help="follow any resident by uid instead of a persona: status and why per year")
    per.add_argument("--no-why", action="store_true",
                     help="leave out the why lines (shown by default: the desk, its offer, the queue rank, the money "
                          "left at their turn, the rule)")
    _scenario_options(per)
    per.add_argument("--regimes", type=_regimes, default=["compartmentalised", "integrated"],
                     help="comma-separated (default: compartmentalised,integrated)")
    per.add_argument("--json", action="store_true", help="the paths as JSON records")
    _cases_parser(sub)
    qry = sub.add_parser("query", help="SQL over a result folder's Parquet files (DuckDB, read-only): a sweep's "
                                       "verified runs as 'runs', a run folder's files by name ('results', 'events')",
                         allow_abbrev=False)
    qry.add_argument("folder", help="a result folder (ontschot run, validate, cases) or a sweep folder")
    qry.add_argument("sql", help="the query, e.g. \"SELECT regime, count(*) FROM results GROUP BY regime\"")
    qry.add_argument("--json", action="store_true", help="the answer as JSON records")
    qry.add_argument("--csv", metavar="FILE", help="also write the answer as CSV (a new file; an existing one is refused)")
    for name, text in (("sweep", "run a design file on Dask"),
                       ("sensitivity", "Sobol / Morris sensitivity analysis of a design")):
        sp = sub.add_parser(name, help=text, allow_abbrev=False)
        sp.add_argument("design", help="design TOML file (see experiments/designs/)")
        sp.add_argument("--out", required=True, help="sweep folder (re-run the same command to resume)")
        sp.add_argument("--scenario", metavar="FILE", help="a scenario file laid over the design's [base]")
        sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one parameter of the design's [base] (repeatable; not a varied one)")
        sp.add_argument("--years", type=_positive_int, help="horizon in years (default: the design's or scenario.years)")
        where = sp.add_mutually_exclusive_group()
        where.add_argument("--workers", type=_positive_int, help="local Dask worker processes (default: cores)")
        where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
        sp.add_argument("--no-progress", action="store_true", help="no progress bar")
        _limit_option(sp)
        if name == "sensitivity":
            _stability_options(sp)
    dis = sub.add_parser("discover", help="scenario discovery: under which levers and assumptions pooling raises "
                                          "outflow to work or pays back (PRIM rules)", allow_abbrev=False)
    dis.add_argument("design", nargs="?", help="discovery design TOML (see experiments/designs/discover_pooling.toml)")
    dis.add_argument("--out", help="discovery folder (re-run the same command to resume)")
    dis.add_argument("--analyse", metavar="DIR", help="re-run PRIM on DIR's stored runs, running no model (with "
                                                      "DESIGN: its outcomes and [prim] settings; else the last ones)")
    where = dis.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="local Dask worker processes (default: cores)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    dis.add_argument("--no-progress", action="store_true", help="no progress bar")
    _limit_option(dis)
    ver = sub.add_parser("verify", help="check a sweep folder's run files (readable, run id, hash) without running",
                         allow_abbrev=False)
    ver.add_argument("folder", help="sweep folder (the --out of a sweep)")
    ver.add_argument("--json", action="store_true", help="the report as JSON")
    rep = sub.add_parser("report", help="write the policymaker's report (one self-contained HTML file) of a run or "
                                        "sweep folder", allow_abbrev=False)
    rep.add_argument("results", help="a run folder (ontschot run) or a sweep folder (ontschot sweep)")
    rep.add_argument("--out", help="the HTML file to write (default: RESULTS/report.html); its tables and figures "
                                   "go to a folder next to it")
    rep.add_argument("--latest", action="store_true",
                     help="RESULTS is a parent folder (e.g. outputs): report on its newest run folder")
    _language_option(rep)
    rep.add_argument("--xlsx", nargs="?", const="", metavar="PATH",
                     help="write the controller's workbook (.xlsx: spending, task fields, business case, own result "
                          "and checks, adding up by formula) of a run folder; default path: RESULTS/"
                          "ontschot-werkboek.xlsx (English: ontschot-workbook.xlsx), or the --out report's name with "
                          ".xlsx. Without --out only the workbook is written; an existing file is overwritten only "
                          "when ontschot wrote it")
    aud = sub.add_parser("audit", help="the controller's audit of a run folder: the same money in every arm, spending "
                                       "within the discretionary budget, the firms' ledgers, a steady baseline",
                         allow_abbrev=False)
    aud.add_argument("results", help="a run folder (ontschot run)")
    aud.add_argument("--json", action="store_true", help="the checks as JSON")
    aud.add_argument("--strict", action="store_true", help="exit with status 1 when a check misses")
    params = sub.add_parser("params", help="list the parameters", allow_abbrev=False)
    params.add_argument("--json", action="store_true", help="as JSON")
    page = sub.add_parser("page", help="serve the workshop page (Solara) on 127.0.0.1", allow_abbrev=False)
    page.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only; a room's network needs "
                           "this machine's address there)")
    page.add_argument("--port", type=_port, default=8765, help="TCP port (default 8765)")
    page.add_argument("--lang", type=_page_language, default="nl",
                      help="the page's language until a participant switches (nl or en; default nl; ?lang=en in "
                           "the address does the same for one browser)")
    return parser


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{show(text)} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{show(text)} is not allowed: a number above 0 and at most 1")
    return value


def _stability_options(p: argparse.ArgumentParser) -> None:
    from analysis.convergence import DEFAULT_TOLERANCE
    from experiments.stability import DEFAULT_MAX_RUNS

    p.add_argument("--until-stable", action="store_true",
                   help="Sobol only: run the design at its n, then double n (keeping every run made) until the "
                        "ranking by ST is unchanged and every S1 and ST moved less than --tolerance between the last "
                        "two sizes, or until the next size would need more than --max-runs runs; one sweep folder "
                        "per size under --out (n8, n16, ...); exit status 1 when it stops at the bound unstable")
    p.add_argument("--tolerance", type=_tolerance, default=DEFAULT_TOLERANCE,
                   help=f"the stopping rule's largest move of an index between N/2 and N (default {DEFAULT_TOLERANCE})")
    p.add_argument("--max-runs", type=_positive_int, default=None,
                   help=f"--until-stable: the most runs the largest size may need (default {DEFAULT_MAX_RUNS:,})")


def _calibrate_parser(sub) -> None:
    """``ontschot calibrate``: the size options fix the most model runs it can make."""
    cal = sub.add_parser("calibrate", help="history matching: the ensemble of parameter sets that hold every published "
                                           "target (for run --ensemble)", allow_abbrev=False)
    _scenario_options(cal)
    size = Size()
    for flag, default, text in (("--waves", size.waves, "waves of model runs and emulators"),
                                ("--points", size.points, "model runs per wave"),
                                ("--sets", size.sets, "parameter sets wanted in the ensemble"),
                                ("--check-seeds", size.check_seeds, "runs per candidate set in the final check"),
                                ("--candidates", size.candidates, "emulator evaluations per wave (no model runs)")):
        cal.add_argument(flag, type=_positive_int, default=default, help=f"{text} (default {default})")
    cal.add_argument("--spread", type=float, default=ASSUMPTION_SPREAD,
                     help="each assumption parameter's prior: its value +/- this share (default "
                          f"{ASSUMPTION_SPREAD}); 0 varies the calibrated parameters only")
    cal.add_argument("--around-fit", type=float, default=None, metavar="SHARE",
                     help="vary each calibrated parameter only within this share of its fitted value either side "
                          "(inside the search bounds): a local ensemble around the best point (default: the whole "
                          "search bounds)")
    where = cal.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="local worker processes (default: every core)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    cal.add_argument("--write", action="store_true",
                     help="install the ensemble as the default of run --ensemble (experiments/ensembles/default.parquet)")
    _output_options(cal, "calibration")
    _limit_option(cal)


def _page_language(text: str) -> str:
    from analysis.i18n import LANGUAGES

    if text not in LANGUAGES:
        raise argparse.ArgumentTypeError(f"{show(text)} is not a language of the page: expected {' or '.join(LANGUAGES)}")
    return text


def _port(text: str) -> int:
    value = _whole(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port: expected 1 to 65535")
    return value


def default_regimes(scenario_regime: str) -> list[str]:
    """Compare the scenario's own regime with compartmentalised funding (integrated when it names none)."""
    other = scenario_regime if scenario_regime != "compartmentalised" else "integrated"
    return ["compartmentalised", other]


def command_values(args: argparse.Namespace) -> Values:
    """The command's parameter values from --scenario, --set and --years, validated once."""
    extra = {"scenario.years": args.years} if args.years else {}
    return resolve_overrides(args.scenario, args.set, extra)


def _write_results(out_parent: Path, label: dict, write) -> Path:
    """Write a result folder with ``write(folder)``; a file-system error is one line and leaves no folder."""
    store = RunFolder(out_parent, label)
    try:
        with store as folder:
            write(folder)
    except OSError as exc:
        raise OutputError(f"--out {show_path(out_parent)}: the results could not be written "
                          f"({os_reason(exc)}); no result folder was left") from None
    return store.final


@contextlib.contextmanager
def out_lock(out_parent: Path, command: str):
    """Hold ``--out``'s lock while ``command`` computes and writes its result folder into it; released at the end.

    Every command that computes a new result folder (or sweep folders) into an ``--out`` parent (run,
    explain, validate, calibrate, cases, sensitivity --until-stable) takes the same lock, ``RUN_LOCK``,
    after its input is checked and before it computes: a second such command into the same ``--out``
    is refused in one line naming the holder's pid and command. Released when the command ends, fails
    or is interrupted; a lock left by a process that is gone (``kill -9``) is taken over
    (``experiments/lock.py``).

    Raises:
        LockedError: another live command holds the folder.
        StoredError: a link, pipe or device where the lock file should be.
        OutputError: the lock file cannot be created.
    """
    from experiments.lock import RUN_LOCK, FolderLock

    lock = FolderLock(out_parent, RUN_LOCK, "--out folder", "another ontschot command is computing into it: wait "
                      "for it to finish, or choose another --out",
                      command=["ontschot", command, "--out", str(out_parent)])
    try:
        lock.acquire()
    except OSError as exc:
        raise OutputError(f"--out {show_path(out_parent)} cannot be written: {os_reason(exc)}; nothing was run") \
            from None
    try:
        yield lock
    finally:
        lock.release()


@contextlib.contextmanager
def sweep_lock(folder: Path, command: str, option: str = "--out", design=None):
    """Hold a sweep folder's own lock (``sweep.lock``) while ``command`` runs its sweep and writes its analysis there.

    ``sweep`` (``points.csv``), ``sensitivity`` and ``discover`` (with or without ``--analyse``) write what they
    draw from the runs into the sweep folder; two such commands at once would race. The lock is the one a sweep
    takes (``experiments/lock.py``), so a second of them, or a sweep, into the same folder is refused in one line
    naming the holder's pid and command, before it checks a run file or computes. With ``design`` the folder is
    checked (read-only) and made first, as the sweep would; without, it must exist (``--analyse``).

    Raises:
        LockedError: another live command holds the folder.
        StoredError: a link, pipe or device where the lock file should be.
        InputError: (with ``design``) the folder holds something else or another design.
        OutputError: the folder or its lock file cannot be created.
    """
    from experiments.lock import LOCK_NAME, FolderLock
    from experiments.sweep import check_folder

    lock = FolderLock(folder, LOCK_NAME, "sweep folder", "another ontschot command is running or analysing this "
                      "sweep: wait for it to finish", command=["ontschot", command, option, str(folder)])
    try:
        if design is not None:
            check_folder(design, folder)
            folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:
        raise OutputError(f"{option} {show_path(folder)} cannot be written: {os_reason(exc)}; nothing was run") \
            from None
    try:
        yield lock
    finally:
        lock.release()


def cmd_run(args: argparse.Namespace) -> int:
    limits = parse_limits(args.limit)
    values = command_values(args)
    overrides = values.overrides
    regimes = args.regimes or default_regimes(values["scenario.regime"])
    meta = {"inhabitants": values["scenario.inhabitants"], "years": values["scenario.years"],
            "replications": args.replications, "seed": args.seed}
    # Sizes first, before any plan is made: at most one arm more than the regimes (the bundle arm).
    limits.replications(args.replications, len(regimes) + 1, values["scenario.years"],
                        events_of=values["scenario.inhabitants"] if args.events else 0)
    arms, explained = _arms(args, values, regimes, limits, explain=not args.no_explain)
    names = [arm.name for arm in arms]
    contents = [arm.contents() for arm in arms]
    limits.replications(args.replications, len(arms), values["scenario.years"],
                        events_of=values["scenario.inhabitants"] if args.events else 0)
    ensemble = _ensemble_plan(args, arms, limits)
    out_parent = check_output_folder(args.out)  # before the simulation: a folder that cannot take results fails now
    with out_lock(out_parent, "run"):  # a second command into this --out is refused here, before it computes
        started = time.time()
        events: list | None = [] if args.events else None
        progress = False if args.no_progress else None
        plan = _run_plan(args, arms, explained)
        results = run_tasks(plan, workers=args.workers, progress=progress)
        batch = batch_size(plan, args.workers)
        frame = run_comparison(values, regimes, args.replications, args.seed, events=events, arms=arms, results=results)
        summaries = run_summaries(frame)
        comparison = compare(summaries, names)
        cases = payback(frame, names)
        firm_yearly = firm_case.yearly(frame)  # the social firm's own business case per arm and year [SR]
        lang = args.lang or TABLE_LANGUAGE
        table = format_table(comparison, names, meta, [describe(c) for c in contents], lang=lang) + "\n" + \
            format_business_case(cases, names, lang=lang) + "\n" + firm_case.format_summary(firm_case.summary(frame))
        text, decomposition, desk, checks = _explanations(args, arms, explained, values, frame, results)
        table += text
        spread, ensemble_runs = None, None
        if ensemble is not None:
            spread, ensemble_runs, text = _over_ensemble(args, ensemble, names, comparison, progress)
            table += text
        label = {"overrides": overrides, "arms": contents, "replications": args.replications, "seed": args.seed,
                 "ensemble": None if ensemble is None else [str(ensemble[2]), ensemble[0].sets, ensemble[0].replications]}

        def write(folder: Path) -> None:
            write_indicators(frame, folder / "results.parquet")
            files = {"results.parquet": stored.sha256((folder / "results.parquet").read_bytes())}  # what report checks
            if events is not None:
                event_history.to_parquet(pd.concat(events, ignore_index=True), folder / "events.parquet")
            summaries.to_csv(folder / "summaries.csv", index=False)
            comparison.to_csv(folder / "comparison.csv", index=False)
            (folder / "comparison.txt").write_text(table + "\n")
            (folder / "business_case.json").write_text(json.dumps(cases, indent=2))
            firm_yearly.to_csv(folder / "firm_business_case.csv", index=False)
            if decomposition is not None:
                _write_decomposition(folder, decomposition)
            if desk is not None:
                desk["table"].to_csv(folder / "desk_parts.csv", index=False)
            pd.DataFrame([vars(c) for c in checks]).to_csv(folder / "audit.csv", index=False)
            if spread is not None:
                spread.to_csv(folder / "ensemble.csv", index=False)
                write_indicators(ensemble_runs, folder / "ensemble_runs.parquet")
            write_manifest(
                folder,
                arms=contents,
                regimes=regimes,
                practices=_bundle_record(arms),
                decomposition={"arm": arms[-1].name, "against": arms[0].name,
                               "runs": COALITION_RUNS} if decomposition else None,
                replications=args.replications,
                root_seed=args.seed,
                replication_seeds=replication_seeds(args.seed, args.replications),
                scenario_file=args.scenario,
                overrides=overrides,
                parameters=dict(values),
                arm_parameters={arm.name: dict(arm.values) for arm in arms},
                runs=batch,
                ensemble=None if ensemble is None else _ensemble_manifest(ensemble),
                seconds=round(time.time() - started, 2),
                files=files,
            )

        final = _write_results(out_parent, label, write)
        if args.json:
            payload = {"meta": meta, "arms": contents, "regimes": regimes, "output": str(final),
                       **_json_tables(comparison, cases, decomposition, desk, checks)}
            print(json.dumps(payload, indent=2))
        else:
            print(table)
            print(f"\nResults written to {final}/")
        if args.report:
            _report(final, final / "report.html", stream=sys.stderr if args.json else sys.stdout,
                    lang=args.lang or DEFAULT_LANGUAGE)
        return 0


def _ensemble_plan(args: argparse.Namespace, arms, limits):
    """With --ensemble: its plan, record, file and scheduler, checked before anything runs; else None."""
    if args.ensemble is None:
        if args.scheduler:
            raise InputError("--scheduler: only the ensemble's runs go to a Dask scheduler; add --ensemble")
        return None
    if not 0 <= args.assumption_spread < 1:
        raise InputError(f"--assumption-spread {args.assumption_spread}: allowed from 0 up to (not including) 1, a "
                         "share of each value")
    sets, record = load_ensemble(args.ensemble)
    if args.ensemble_sets is not None:
        sets = sets.head(args.ensemble_sets)
    sets, drawn = with_assumptions(sets, record, arms[0].values, args.assumption_spread, args.seed)
    record = {**record, "assumptions_drawn_in_run": drawn, "assumption_spread_in_run": args.assumption_spread}
    plan = plan_ensemble(arms, sets, args.ensemble_replications, args.seed)
    limits.runs(plan.runs, f"the ensemble's {plan.runs:,} runs", "ontschot run --ensemble")
    scheduler = None
    if args.scheduler:  # before the note below: a scheduler refused is the only line
        from experiments.sweep import check_scheduler

        scheduler = check_scheduler(args.scheduler)
    if not ensemble_matches_parameters(record):
        print("ontschot: note: the ensemble was calibrated against other parameter values, kinds or ranges in "
              "model/parameters.toml; its sets still set only the parameters they name, but make it again with "
              "ontschot calibrate --write", file=sys.stderr)
    return plan, record, Path(args.ensemble), scheduler


def _over_ensemble(args: argparse.Namespace, ensemble, names: list[str], comparison, progress):
    """Every arm over the ensemble: the table beside the chance-only interval, the runs' summaries, the text."""
    plan, record, _, scheduler = ensemble
    runs = run_ensemble(plan, workers=args.workers, scheduler=scheduler, progress=progress)
    spread = side_by_side(summarise(runs, names), comparison)
    text = "\n" + format_ensemble_table(spread, {"baseline": names[0], "replications": args.replications,
                                                 "sets": plan.sets, "drawn": record["assumptions_drawn_in_run"],
                                                 "ensemble_replications": plan.replications})
    return spread, runs, text


def _ensemble_manifest(ensemble) -> dict:
    plan, record, source, scheduler = ensemble
    return {"file": str(source), "sets": plan.sets, "replications": plan.replications, "runs": plan.runs,
            "set_seeds": "numpy SeedSequence([root seed, set index])",
            "assumptions_drawn": record["assumptions_drawn_in_run"],
            "assumption_spread": record["assumption_spread_in_run"], "calibration": {
                k: record.get(k) for k in ("created", "code_version", "parameter_file_sha256",
                                           "parameter_values_sha256", "seed", "size",
                                           "assumption_spread", "accepted", "runs")},
            "parameter_file_matches": ensemble_matches_parameters(record)}


def _json_tables(comparison, cases, decomposition, desk, checks) -> dict:
    """What ``ontschot run --json`` prints of its tables: the comparison, the business case and the explanations."""
    records = {"comparison": json.loads(comparison.to_json(orient="records")), "business_case": cases}
    if decomposition is not None:
        records["decomposition"] = json.loads(decomposition["table"].to_json(orient="records"))
        records["money_at_fixed_practices"] = json.loads(decomposition["money"].to_json(orient="records"))
    if desk is not None:
        records["desk_parts"] = json.loads(desk["table"].to_json(orient="records"))
    records["audit"] = [vars(c) for c in checks]
    return records


def _arms(args: argparse.Namespace, values: Values, regimes: list[str], limits, explain: bool):
    """The arms (one per regime with the scenario's practices, plus the bundle arm) and the decomposition's design.

    The decomposition explains the bundle arm against the baseline (the first arm); without a bundle
    arm there is none (the arms differ in funding only). Every size is checked before anything runs.
    """
    arms = build_arms(values, regimes, practice_bundle(args.practices), required=args.practices is not None)
    limits.replications(args.replications, len(arms), values["scenario.years"])  # before a plan is made
    explained = None
    if explain and len(arms) >= 2 and (arms[-1].bundle is not None or args.command == "explain"):
        explained = coalition_design(arms[0].values, arms[-1].values, args.replications, args.seed)
        planned = len(explained[0].plan())
        limits.runs(planned, f"the decomposition's {planned:,} runs", f"ontschot {args.command}")
    if args.workers is not None:
        limits.workers(args.workers)
    return arms, explained


def _run_plan(args: argparse.Namespace, arms, explained) -> list[Task]:
    """Every run ``ontschot run`` needs: the arms, the decomposition's coalitions, the desk parts (each made once)."""
    tasks = [task for _, _, task in comparison_plan(arms, args.replications, args.seed, events=args.events)]
    if explained is not None:
        tasks += coalition_tasks(explained[0])
    funding_alone = _funding_alone(arms)
    if funding_alone is not None and not args.no_explain:
        tasks += [task for _, _, task in desk_plan(funding_alone[0].values, funding_alone[1].values,
                                                   args.replications, args.seed)]
    return tasks


def _explanations(args, arms, explained, values, frame, results):
    """Below the table: the bundle arm's decomposition, what the funding alone consists of, and the audit.

    Every run they need is in ``results`` (``_run_plan``). Returns the text and the decomposition,
    the desk parts (None when not run) and the audit's checks.
    """
    text, decomposition, desk = "", None, None
    if explained is not None:
        decomposition = decompose_runs(*explained, results, arm=arms[-1].name, against=arms[0].name)
        text += "\n\n" + format_decomposition(decomposition["table"], explained[1],
                                               f"{arms[-1].name} minus {arms[0].name}")
        text += format_money_effects(decomposition["money"])
    funding_alone = _funding_alone(arms)
    if funding_alone is not None and not args.no_explain:
        desk = desk_parts(funding_alone[0].values, funding_alone[1].values, args.replications, args.seed,
                          results=results)
        text += "\n\n" + format_desk_parts(desk["table"], LABELS)
    checks = audit(frame, one_trajectory(values))
    text += "\n\n" + format_audit(checks)
    if explained is None and not args.no_explain and len(arms) >= 2 and arms[-1].bundle is None:
        why = ("the scenario already has the pooling practices, so they are in every arm and no bundle arm is added"
               if args.practices is None else "--practices none: no bundle arm")
        text += (f"\n\nNo decomposition ({why}): every arm has the same practices, so the only difference between "
                 "them is the funding (one player: all of it is the money's).")
    return text, decomposition, desk, checks


def _funding_alone(arms):
    """The baseline and the integrated arm with the same practices (the funding alone), or None."""
    base = arms[0]
    for arm in arms[1:]:
        if base.regime == "compartmentalised" and arm.regime == "integrated" and arm.bundle is None:
            return base, arm
    return None


def one_trajectory(values) -> float:
    """The audit's allowance: the price of the dearest single trajectory (EUR)."""
    return max(values[k] for k in ("pwet.training_cost", "pwet.mediation_cost", "firm.place_price"))


def cmd_audit(args: argparse.Namespace) -> int:
    folder = Path(args.results)
    results, manifest = folder / "results.parquet", folder / "manifest.json"
    if not results.is_file() or not manifest.is_file():
        raise InputError(f"{folder}: not a run folder (needs results.parquet and manifest.json; see ontschot run)")
    parameters = json.loads(manifest.read_text()).get("parameters", {})
    values = PARAMETERS.resolve({k: v for k, v in parameters.items() if k in {p.path for p in PARAMETERS}})
    checks = audit(pd.read_parquet(results), one_trajectory(values))
    if args.json:
        print(json.dumps([vars(c) for c in checks], indent=2))
    else:
        print(format_audit(checks))
    return 1 if args.strict and any(c.verdict == "MISSES" for c in checks) else 0


def _bundle_record(arms) -> dict | None:
    """The bundle arm's bundle for the manifest: its name, source and levers (None without one)."""
    bundle = arms[-1].bundle
    return None if bundle is None else {"arm": arms[-1].name, "bundle": bundle.name, "source": bundle.source,
                                        "levers": bundle.levers}


def _write_decomposition(folder: Path, decomposition: dict) -> None:
    decomposition["table"].to_csv(folder / "decomposition.csv", index=False)
    decomposition["money"].to_csv(folder / "decomposition_money.csv", index=False)
    decomposition["per_replication"].to_csv(folder / "decomposition_replications.csv", index=False)
    if "runs" in decomposition:  # made by ``ontschot run`` in its own batch: kept with the results
        write_indicators(decomposition["runs"], folder / COALITION_RUNS)


def cmd_explain(args: argparse.Namespace) -> int:
    limits = parse_limits(args.limit)
    values = command_values(args)
    regimes = ["compartmentalised", args.regime]
    arms, (design, found) = _arms(args, values, regimes, limits, explain=True)
    arm, base = arms[-1], arms[0]
    out_parent = check_output_folder(args.out)
    with out_lock(out_parent, "explain"):  # a second command into this --out is refused here, before it computes
        started = time.time()
        result = run_decomposition(design, found, out_parent, workers=args.workers,
                                   progress=False if args.no_progress else None, arm=arm.name, against=base.name)
        text = "\n".join([f"Arms: {describe(base.contents())}", f"      {describe(arm.contents())}",
                          format_decomposition(result["table"], found, f"{arm.name} minus {base.name}")
                          + format_money_effects(result["money"])])
        label = {"overrides": values.overrides, "arms": [base.contents(), arm.contents()],
                 "replications": args.replications, "seed": args.seed, "explain": True}

        def write(folder: Path) -> None:
            _write_decomposition(folder, result)
            (folder / "decomposition.txt").write_text(text + "\n")
            write_manifest(folder, arms=[base.contents(), arm.contents()], regimes=regimes,
                           replications=args.replications, root_seed=args.seed,
                           replication_seeds=replication_seeds(args.seed, args.replications),
                           scenario_file=args.scenario, overrides=values.overrides, practices=_bundle_record(arms),
                           players=[{"name": p.name, "key": p.key, "baseline": p.baseline, "alternative": p.alternative}
                                    for p in found],
                           decomposition={"arm": arm.name, "against": base.name, "sweep": str(result["folder"])},
                           parameters=dict(arm.values), arm_parameters={a.name: dict(a.values) for a in (base, arm)},
                           seconds=round(time.time() - started, 2))

        final = _write_results(out_parent, label, write)
        if args.json:
            print(json.dumps({"output": str(final), "arms": [base.contents(), arm.contents()],
                              "players": [p.name for p in found],
                              "decomposition": json.loads(result["table"].to_json(orient="records"))}, indent=2))
        else:
            print(text)
            print(f"\nDecomposition written to {final}/ (coalition runs: {result['folder']}/)")
        return 0


def cmd_validate(args: argparse.Namespace) -> int:
    limits = parse_limits(args.limit)
    values = command_values(args).with_changes({"scenario.regime": "compartmentalised"})
    overrides = values.overrides
    meta = {"inhabitants": values["scenario.inhabitants"], "years": values["scenario.years"],
            "replications": args.replications, "seed": args.seed}
    _after_burn_in(args, values, "validate")
    limits.replications(args.replications, 1, values["scenario.years"])
    out_parent = check_output_folder(args.out)
    with out_lock(out_parent, "validate"):  # a second command into this --out is refused here, before it computes
        frame = run_comparison(values, ["compartmentalised"], args.replications, args.seed,
                               progress=False if args.no_progress else None)
        table = validation_table(frame, values["scenario.inhabitants"])
        dynamics = dynamics_table(frame)
        dropout = firm_dropout_by_disability(frame)
        text = format_validation(table, dynamics, dropout, meta)
        label = {"validate": True, "overrides": overrides, "replications": args.replications, "seed": args.seed}

        def write(folder: Path) -> None:
            write_indicators(frame, folder / "results.parquet")
            table.to_csv(folder / "validation.csv", index=False)
            dynamics.to_csv(folder / "dynamics.csv", index=False)
            dropout.to_csv(folder / "firm_dropout.csv", index=False)
            (folder / "validation.txt").write_text(text + "\n")
            write_manifest(folder, kind="validate", replications=args.replications, root_seed=args.seed,
                           replication_seeds=replication_seeds(args.seed, args.replications), overrides=overrides,
                           parameters=dict(values))

        final = _write_results(out_parent, label, write)
        if args.json:
            print(json.dumps({"meta": meta, "output": str(final),
                              "targets": json.loads(table.to_json(orient="records")),
                              "dynamics": json.loads(dynamics.to_json(orient="records")),
                              "firm_dropout_by_disability": json.loads(dropout.to_json(orient="records"))}, indent=2))
        else:
            print(text)
            print(f"\nResults written to {final}/")
        return 1 if args.strict and not table["holds"].all() else 0


def _after_burn_in(args: argparse.Namespace, values: Values, command: str) -> None:
    """The published figures are compared after the burn-in years: a horizon without a year after them is refused."""
    from analysis.validation import BURN_IN_YEARS

    years = values["scenario.years"]
    if years > BURN_IN_YEARS:
        return
    given = f"--years {years}" if args.years else f"'scenario.years' = {years} (from --set or --scenario)"
    raise InputError(f"{given} is not allowed for {command}: the first {BURN_IN_YEARS} years are left out as burn-in, "
                     f"so it needs at least {BURN_IN_YEARS + 1} years")


def cmd_calibrate(args: argparse.Namespace) -> int:
    limits = parse_limits(args.limit)
    base = command_values(args).with_changes({"scenario.regime": "compartmentalised"})
    _after_burn_in(args, base, "calibrate")  # its targets are the validation's, read after the burn-in
    size = Size(waves=args.waves, points=args.points, sets=args.sets, check_seeds=args.check_seeds,
                candidates=args.candidates)
    prior = ensemble_prior(base, args.spread, args.around_fit)  # a bad --spread fails here, before anything runs
    limits.runs(size.total_runs, f"the calibration's at most {size.total_runs:,} runs", "ontschot calibrate")
    if args.workers is not None:
        limits.workers(args.workers)
    scheduler = None
    if args.scheduler:
        from experiments.sweep import check_scheduler

        scheduler = check_scheduler(args.scheduler)
    out_parent = check_output_folder(args.out)
    with out_lock(out_parent, "calibrate"):  # a second command into this --out is refused here, before it computes
        log = None if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
        if log:
            log(f"History matching over {len(prior.dims)} parameters ({len(FREE)} calibrated, the rest assumptions "
                f"+/-{args.spread:.0%}): at most {size.total_runs:,} model runs")
        started, code = time.time(), code_version()
        outcome, prior = calibrate_ensemble(size, args.seed, base, args.spread, workers=args.workers,
                                            scheduler=scheduler, progress=False if args.no_progress else None,
                                            log=log, around=args.around_fit)
        record = ensemble_record(outcome, prior, size, args.seed, args.spread, base, code, args.around_fit)
        record["seconds"] = round(time.time() - started, 1)
        text = format_ensemble(record)
        label = {"calibrate": True, "overrides": base.overrides, "seed": args.seed, "size": vars(size),
                 "spread": args.spread, "around": args.around_fit}

        def write(folder: Path) -> None:
            write_ensemble(folder, outcome, record)
            (folder / "calibration.txt").write_text(text + "\n")
            write_manifest(folder, kind="calibrate", root_seed=args.seed, overrides=base.overrides,
                           parameters=dict(base), size=vars(size), spread=args.spread, runs=outcome.runs,
                           seconds=record["seconds"])

        final = _write_results(out_parent, label, write)
        if args.write and len(outcome.sets):
            install_ensemble(final)
        if args.json:
            print(json.dumps({"output": str(final), **record}, indent=2))
        else:
            print(text)
            print(f"\nResults written to {final}/")
            if args.write:
                print(f"Installed as the default ensemble: {DEFAULT_ENSEMBLE}" if len(outcome.sets) else
                      "No set held every target: the default ensemble was left as it was")
        return 0


def persona_paths(name: str, regimes: list[str], values: Values, seed: int) -> dict[str, list[dict]]:
    """Run the municipality once per regime with the persona placed in it; same seed for each."""
    out = {}
    for regime in regimes:
        model = SocialDomainModel(params=values.with_changes({"scenario.regime": regime}), personas=[name], rng=seed)
        while model.running:
            model.step()
        out[regime] = model.persona_paths
        model.release()
    return out


def uid_paths(uid: int, regimes: list[str], values: Values, seed: int) -> dict[str, list[dict]]:
    """Run the municipality once per regime tracing one resident; its status and why line per year."""
    out = {}
    for regime in regimes:
        model = SocialDomainModel(params=values.with_changes({"scenario.regime": regime}), trace=[uid], rng=seed)
        while model.running:
            model.step()
        out[regime] = [{"year": year, "uid": uid, "status": status, "why": model.why(uid, year)}
                       for (who, year), status in sorted(model.tracer.status.items()) if who == uid]
        model.release()
    return out


def _cases_parser(sub) -> None:
    cas = sub.add_parser("cases", help="run the source documents' cases (experiments/scenarios/cases/) and print "
                                       "one row per claim: reproduced or not, with the mechanism", allow_abbrev=False)
    cas.add_argument("--case", action="append", metavar="NAME", help="only this case (file name without .toml; "
                     "repeatable; default: every case)")
    cas.add_argument("--replications", type=_positive_int, default=DEFAULT_CASE_REPLICATIONS,
                     help=f"paired replications per variant (default {DEFAULT_CASE_REPLICATIONS})")
    cas.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")
    cas.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override one parameter in every case (repeatable), e.g. --set scenario.inhabitants=5000")
    cas.add_argument("--years", type=_positive_int, help="horizon in years for every case (default: each case's)")
    cas.add_argument("--workers", type=_positive_int, default=None, help="local worker processes (default: every core)")
    cas.add_argument("--from", dest="source", metavar="FOLDER",
                     help="recompute the table from a stored cases folder instead of running")
    cas.add_argument("--doc", metavar="FILE", help="also write the table as Markdown (e.g. docs/cases.md)")
    _output_options(cas, "claim table")
    _limit_option(cas)


def cmd_cases(args: argparse.Namespace) -> int:
    from experiments import cases as cs

    if args.source:
        chosen, table, manifest = cs.recompute(args.source)
        meta, final = {k: manifest.get(k) for k in ("replications", "seed", "code", "extra")}, Path(args.source)
    else:
        chosen = cs.load_cases(args.case)
        extra = {**parse_set(args.set), **({"scenario.years": args.years} if args.years else {})}
        extra = PARAMETERS.validate(extra, origin="--set / --years")
        plan = cs.plan_cases(chosen, args.replications, args.seed, extra)
        limits = parse_limits(args.limit)
        for case in chosen:  # each case's runs within the limits, checked before anything runs
            limits.replications(args.replications, len(case.variants), case.values(next(iter(case.variants)),
                                                                                    extra)["scenario.years"])
        out_parent = check_output_folder(args.out)
        with out_lock(out_parent, "cases"):  # a second command into this --out is refused here, before it computes
            runs = cs.run_cases(plan, workers=args.workers, progress=False if args.no_progress else None)
            table = cs.claim_table(chosen, runs, extra)
            version = code_version()
            meta = {"replications": args.replications, "seed": args.seed, "extra": extra,
                    "code": version.get("commit", "unknown")[:10] + (" (modified)" if version.get("dirty") else "")}
            label = {"cases": [c.key for c in chosen], "replications": args.replications, "seed": args.seed,
                     "extra": extra}
            final = _write_results(out_parent, label, lambda folder: cs.store(folder, chosen, runs, table, meta))
    if args.doc:
        try:
            Path(args.doc).write_text(cs.markdown(table, chosen, meta) + "\n")
        except OSError as exc:
            raise OutputError(f"--doc {show_path(args.doc)}: could not be written ({os_reason(exc)})") from None
    if args.json:
        print(table.to_json(orient="records", indent=2))
    else:
        print(cs.format_table(table, chosen))
        print(f"\nResults in {final}/" + (f"; Markdown in {args.doc}" if args.doc else ""))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from experiments.query import query

    answer = query(args.folder, args.sql)
    if args.csv:
        path = Path(args.csv)
        try:
            with open(path, "x", newline="") as fh:
                answer.to_csv(fh, index=False)
        except FileExistsError:
            raise OutputError(f"--csv {show_path(path)} exists already: give a new file name") from None
        except OSError as exc:
            raise OutputError(f"--csv {show_path(path)}: could not be written ({os_reason(exc)})") from None
    if args.json:
        print(answer.to_json(orient="records", indent=2))
    else:
        with pd.option_context("display.max_rows", QUERY_ROWS_SHOWN, "display.max_columns", None,
                               "display.width", 200):
            print(answer.to_string(index=False, max_rows=QUERY_ROWS_SHOWN))
        print(f"({len(answer):,} row(s))")
    return 0


def cmd_persona(args: argparse.Namespace) -> int:
    if args.uid is not None:  # the parser allows a name or --uid, not both
        paths = uid_paths(args.uid, args.regimes, command_values(args), args.seed)
        print(json.dumps(paths, indent=2) if args.json else format_uid(paths, args.uid))
        return 0
    (name,) = check_names([args.name.lower()])
    frame = path_frame(persona_paths(name, args.regimes, command_values(args), args.seed))
    if args.json:
        print(frame.to_json(orient="records", indent=2))
    else:
        print(format_paths(frame, args.regimes, PERSONAS[name]["label"], PERSONAS[name]["source"], why=not args.no_why))
    return 0


def _design(args: argparse.Namespace, purpose: str):
    """The design file checked (schema, rules, limits, the purpose's needs) before anything is created or run."""
    from experiments.design import load_design

    limits = parse_limits(args.limit)
    if args.workers is not None:
        limits.workers(args.workers)
    overrides = None
    if getattr(args, "scenario", None) or getattr(args, "set", None) or getattr(args, "years", None):
        overrides = command_values(args).overrides
    return load_design(args.design, limits=limits, purpose=purpose, overrides=overrides)


def _sweep(args: argparse.Namespace, design, client=None, lock=None) -> dict:
    from experiments.sweep import run_sweep, status

    summary = run_sweep(design, args.out, workers=args.workers, scheduler=args.scheduler, client=client,
                        progress=False if args.no_progress else None, lock=lock)
    state = status(args.out)
    if "stale_lock" in summary:
        print(f"took over the lock left by {summary['stale_lock']} (no longer running)")
    if summary["damaged"] or summary["unplanned"] or summary["recovered"]:
        print(f"checked the run files already there: {summary['damaged']} damaged and {summary['unplanned']} "
              f"not of this design set aside in {args.out}/damaged/; {summary['recovered']} found under another "
              f"name and put back; {summary['repaired']} damaged run(s) run again")
    print(f"sweep '{design.name}' (design {design.digest}) in {args.out}: {state['planned']} planned, "
          f"{state['done']} done, {state['failed']} failed, {state['remaining']} remaining "
          f"(this session: {summary['done']} run, {summary['skipped']} already there, {summary['failed']} failed, "
          f"{summary['repaired']} repaired)")
    return state


def cmd_sweep(args: argparse.Namespace) -> int:
    from analysis.aggregates import sweep_summaries

    design = _design(args, "sweep")
    if args.scheduler:  # one line before the folder is made
        from experiments.sweep import check_scheduler

        args.scheduler = check_scheduler(args.scheduler)
    # held from before the runs until points.csv is written: a second command at once is refused before either
    with sweep_lock(Path(args.out), "sweep", design=design) as lock:
        state = _sweep(args, design, lock=lock)
        summaries = sweep_summaries(args.out)  # one row per run, read one run file at a time
        table = None
        if len(summaries):
            params = [c for c in summaries.columns if param_key(c)]
            labels = summaries.drop_duplicates("point").set_index("point")[params]
            table = summaries.groupby(["point", "regime"])[["outflow_work", "spend_total", "firm_utilisation",
                                                             "care_clients_served"]].mean().reset_index()
            table = table.join(labels, on="point")
            out = Path(args.out) / "points.csv"
            try:
                table.to_csv(out, index=False)
            except OSError as exc:
                raise OutputError(f"--out {show_path(args.out)}: points.csv could not be written "
                                  f"({os_reason(exc)}); the runs are saved") from None
    if table is not None:
        with_names = table.rename(columns=lambda c: param_key(c) or c)
        print(with_names.to_string(index=False, float_format=lambda x: f"{x:,.3f}"))
        print(f"\nPer-point means written to {out}; all runs: experiments.sweep.load_sweep('{args.out}')")
    return 0 if state["failed"] == 0 else 1


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from experiments.stability import DEFAULT_MAX_RUNS, analyse_folder, run_until_stable

    design = _design(args, "sensitivity")  # a design the analysis cannot use is refused here, before any run
    if args.max_runs is not None and not args.until_stable:
        raise InputError(f"--max-runs {args.max_runs} is not allowed without --until-stable: it bounds the doubling "
                         "of n; add --until-stable or drop --max-runs")
    if args.until_stable:
        from experiments.stability import preflight
        from experiments.sweep import check_scheduler, make_client

        # One line before any cluster starts; the folder's contents are checked once its lock is held.
        preflight(design, Path(args.out), args.max_runs or DEFAULT_MAX_RUNS, folder=False)
        if args.scheduler:
            args.scheduler = check_scheduler(args.scheduler)
        out_parent = check_output_folder(args.out)
        with out_lock(out_parent, "sensitivity"):  # one sweep folder per size goes under --out: one command at once
            client, cluster = make_client(args.workers, args.scheduler)  # one cluster for every size
            try:
                outcome = run_until_stable(design, args.out,
                                           lambda sized, folder: _sweep(_at(args, folder), sized, client),
                                           args.tolerance, args.max_runs or DEFAULT_MAX_RUNS, parse_limits(args.limit))
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        print(f"\n{outcome.final.text}")
        print(outcome.describe())
        print(f"Stored in {args.out}/ (until_stable.json; one sweep folder per size, the last: {outcome.final.folder}/)")
        return 0 if outcome.stopped == "stable" else 1
    if args.scheduler:  # one line before the folder is made
        from experiments.sweep import check_scheduler

        args.scheduler = check_scheduler(args.scheduler)
    # held from before the runs until the analysis is written: a second command at once is refused before either
    with sweep_lock(Path(args.out), "sensitivity", design=design) as lock:
        state = _sweep(args, design, lock=lock)
        if state["remaining"]:
            raise InputError(f"the sweep in '{args.out}' lacks {state['remaining']} of its {state['planned']} runs "
                             f"({state['failed']} failed, see failures/): run the same command again to fill them")
        result = analyse_folder(design, args.out, args.tolerance)
    print(f"\n{result.text}")
    print(f"Stored with the runs in {args.out}/ (sensitivity.csv, sensitivity.txt, sensitivity_indices.png"
          f"{', convergence.csv, convergence.png' if result.convergence is not None else ''})")
    return 0


def _at(args: argparse.Namespace, folder: Path) -> argparse.Namespace:
    """The same options with another --out."""
    return argparse.Namespace(**{**vars(args), "out": str(folder)})


def cmd_discover(args: argparse.Namespace) -> int:
    from experiments.discover import analyse_folder, check_same_runs, load_discovery, setup_of, stored_setup

    if args.analyse is not None and args.out is not None:
        raise InputError("discover: --out is not used with --analyse DIR (the analysis is written into DIR)")
    if args.analyse is None and (args.design is None or args.out is None):
        raise InputError("discover needs a DESIGN file and --out DIR (or --analyse DIR to re-analyse stored runs)")
    design = None
    if args.design is not None:
        limits = parse_limits(args.limit)
        if args.workers is not None:
            limits.workers(args.workers)
        design = load_discovery(args.design, limits=limits)
    state = None
    if args.analyse is not None:
        folder = Path(args.analyse)
        if design is not None:
            check_same_runs(design, folder)
        setup = setup_of(design) if design is not None else stored_setup(folder)
        with sweep_lock(folder, "discover", "--analyse"):  # a second analysis (or a sweep) at once is refused here
            record = analyse_folder(folder, setup)
    else:
        folder = Path(args.out)
        if args.scheduler:  # one line before the folder is made
            from experiments.sweep import check_scheduler

            args.scheduler = check_scheduler(args.scheduler)
        # held from before the runs until the analysis is written: a second command at once is refused before either
        with sweep_lock(folder, "discover", design=design) as lock:
            state = _sweep(args, design, lock=lock)
            setup = setup_of(design)
            record = analyse_folder(folder, setup)
    print(f"\n{record['text']}\n\nWritten to {folder}/ (discovery.json, discovery_points.csv, discovery.txt); "
          f"the report: ontschot report {folder}")
    return 0 if state is None or state["failed"] == 0 else 1


def cmd_verify(args: argparse.Namespace) -> int:
    from experiments.lock import describe
    from experiments.sweep import verify_folder

    report = verify_folder(args.folder)
    bad = len(report["damaged"]) + len(report["unplanned"]) + int(report["mixed_versions"])
    if args.json:
        print(json.dumps(report, indent=2))
        return 1 if bad else 0
    print(f"{args.folder}: {report['planned']} planned, {report['sound']} sound, {report['missing']} missing, "
          f"{len(report['damaged'])} damaged, {len(report['unplanned'])} not of this design, "
          f"{report['temp_files']} temporary file(s), {report['failures']} recorded failure(s)")
    for name, problem in {**report["damaged"], **report["unplanned"]}.items():
        print(f"  runs/{name}: {problem}")
    print(f"  code version of the folder: {report['code_version'] or 'not recorded (made before run files named it)'}")
    for code, n in report["versions"].items():
        print(f"  {n} sound run(s) computed by code version {code}")
    if report["mixed_versions"]:
        print("  The sound runs were computed by more than one code version: do not analyse them together.")
    if report["lock"]:
        state = "running" if report["lock_held"] else "stale: its holder is gone; the next sweep takes it over"
        print(f"  lock file: {describe(report['lock'])} ({state})")
    if bad:
        print("Run the same sweep command again to set these aside and run them again.")
    return 1 if bad else 0


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report.load import latest_run

    folder = latest_run(args.results) if args.latest else Path(args.results)
    if args.latest:
        _note_busy(Path(args.results), folder)
    out = Path(args.out) if args.out else folder / "report.html"
    if out.is_dir():
        out = out / "report.html"
    if args.xlsx is not None:
        return _workbook(args, folder, out if args.out else None)
    _report(folder, out, lang=(getattr(args, "lang", None) or DEFAULT_LANGUAGE))
    return 0


def _note_busy(parent: Path, folder: Path) -> None:
    """``report --latest`` while a command computes into the parent: say that its folder is not the one reported.

    A report takes no lock and never waits: a result folder appears under its name only when complete,
    so ``--latest`` reports the newest complete one and the one being computed is not seen yet.
    """
    from experiments.lock import RUN_LOCK, describe, holder_alive, read_holder

    try:
        if not holder_alive(parent, RUN_LOCK):
            return
        holder = describe(read_holder(parent, RUN_LOCK), command=True)
    except InputError:  # a lock file that cannot be read says nothing worth a note
        return
    print(f"ontschot: note: {holder} is computing into {show_path(parent)}; its results are not complete yet, so "
          f"this is the report of the newest complete folder, {folder.name}", file=sys.stderr)


def _workbook(args: argparse.Namespace, folder: Path, out_html: Path | None) -> int:
    """``report --xlsx``: the workbook (and the HTML report too when --out names it); every path checked first."""
    from analysis.report import workbook

    lang = (getattr(args, "lang", None) or DEFAULT_LANGUAGE)
    workbook.check_source(folder, lang)
    path = Path(args.xlsx) if args.xlsx else workbook.default_path(folder, out_html, lang)
    workbook.check_path(path)
    if out_html is not None:
        _report(folder, out_html, lang=lang)
    written = workbook.build_workbook(folder, path, lang)
    print(f"Workbook written to {written}")
    return 0


def _report(folder: Path, out: Path, stream=None, lang: str = DEFAULT_LANGUAGE) -> None:
    """Build the report of a results folder (in ``lang``) and say where it is."""
    from analysis.report import build_report, report_paths

    written = build_report(folder, out, lang=lang)
    print(f"Report written to {written} (tables and figures in {report_paths(written)[1]}/)", file=stream)


def cmd_params(args: argparse.Namespace) -> int:
    rows = [
        {"path": p.path, "value": p.value, "unit": p.unit, "range": p.range, "choices": p.choices,
         "status": p.status, "label": p.label, "source": p.source, "range_reason": p.range_reason}
        for p in PARAMETERS
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        allowed = ", ".join(r["choices"]) if r["choices"] else f"{r['range'][0]} to {r['range'][1]}"
        why = f"; range: {r['range_reason']}" if r["range_reason"] else ""
        print(f"{r['path']:<44} {str(r['value']):<24} [{allowed}] {r['unit']}  ({r['status']}; {r['source']}{why})")
    return 0


def cmd_page(args: argparse.Namespace) -> int:
    """Serve the workshop page; print its address (and a warning when others on the network can reach it)."""
    from analysis.page import server  # imports no Solara: the server process does

    guards.check_listen_address(args.host, args.port)  # a busy port or a host not of this machine: one line, now
    if not server.is_loopback(args.host):
        print(f"ontschot: warning: serving on {args.host}: anyone who can reach this machine on port {args.port} "
              "can open the page and run models here; use it on a room's own network only", file=sys.stderr)
    from analysis.page.texts import LANG_ENVIRONMENT

    os.environ[LANG_ENVIRONMENT] = args.lang  # the server process reads the page's default language from it
    print(f"The workshop page: {server.address(args.host, args.port)}  (stop with Ctrl-C)", flush=True)
    server.serve(args.host, args.port)
    return 0


def one_line(message: str) -> str:
    """A message on one line, whatever it holds."""
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        commands = {"run": cmd_run, "explain": cmd_explain, "validate": cmd_validate, "persona": cmd_persona,
                    "sweep": cmd_sweep, "sensitivity": cmd_sensitivity, "discover": cmd_discover, "verify": cmd_verify,
                    "params": cmd_params, "report": cmd_report, "page": cmd_page, "audit": cmd_audit,
                    "calibrate": cmd_calibrate, "cases": cmd_cases, "query": cmd_query}
        with guards.interruptible(), guards.guarded_stdout():
            guards.check_options(args)  # paths and the scheduler's address, before the command starts
            return commands[args.command](args)
    except InputError as exc:  # wrong input: one line; anything else is a bug and keeps its traceback
        if isinstance(exc, guards.StdoutError):
            guards.silence_stdout()
        print(f"ontschot: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        guards.say_interrupted()
        return 130
    except BrokenPipeError:  # output piped into e.g. head
        guards.silence_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
