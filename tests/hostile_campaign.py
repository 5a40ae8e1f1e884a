"""The hostile-user and flaky-machine campaign of issue #10, re-runnable: ``python -m tests.hostile_campaign``.

Not collected by pytest (a few minutes, needs root for the tmpfs parts); the test files hold the
fast guards. It prints one table:

- bad inputs: every parameter given bad ``--set`` values of its kind, the fuzz generators of
  ``tests/test_fuzz_inputs.py`` over several seeds, and the malformed designs of
  ``tests/test_design_schema.py`` — counting tracebacks, silent acceptances (an input that reached
  the simulation), non-2 exits, messages of more than one line, and anything written;
- kills: ``kill -9`` of a sweep driver at random moments (and in its first milliseconds), each
  resumed by the next launch, counting runs lost and runs computed again;
- worker deaths: Dask workers killed during a sweep, counting saved runs executed again;
- corrupt files: run files truncated, emptied, overwritten, bit-flipped or swapped, then verified
  and repaired by a resume;
- a full and a read-only disk (tmpfs), and two sweeps started on one folder;
- page controls: hostile values pushed into the workshop page's widgets (rendered in-process) and its
  session API, counting tracebacks, dead sessions and silent acceptances (``--only "page controls"``).
- stored files (issue #22): a real run folder and sweep folder tampered systematically — every
  manifest parameter out of range and of the wrong type, every manifest field of the wrong type,
  results files altered (duplicated, negated, another run's, unknown indicators...), decomposition
  files that do not fit, and every file the report or ``verify`` reads replaced by a named pipe, a
  link to ``/dev/zero``, a dangling link, a folder, an empty or an oversized file (and ``report --xlsx`` of a
  run folder holding a ``discovery.json`` or ``sweep.json`` that is a pipe, a link or a folder) — counting
  tracebacks, hangs, silent acceptances and user files destroyed (a ``_files`` folder or a page the
  program never wrote, a copy of its page that keeps the generator tag but not the bytes, a lock link's target: the sweep's and that of every command holding its ``--out``); and
  a tiny discovery folder's ``discovery.json`` and
  ``discovery_points.csv`` tampered as ``tests/test_stored_discovery.py`` does (every field the report
  reads of the wrong type, out of range or missing, names with HTML or mathtext, a million boxes, the
  points table without a column or with a point twice, the stored setup ``discover --analyse`` reads),
  each file replaced by every kind above, and free words that must reach the page escaped.
- CLI corners (issue 22): every path option given symbolic-link loops, over-long names and paths, empty,
  blank and control-character names; scheduler addresses of every wrong form, unknown hosts, closed ports
  and servers that are not Dask; sweep, sensitivity and discover whose worker processes cannot start (one line
  naming their log); validate within the burn-in; design names with control characters; every
  command that holds its ``--out`` folder's lock into a folder a live process holds, and sweep, sensitivity,
  discover and discover --analyse into a sweep folder whose lock a live process holds; a full stdout and the
  page's address through the installed command;
- signals: Ctrl-C at random moments of run, sweep, explain and report under a pseudo-terminal, counting
  tracebacks, extra lines, wrong exits and worker processes left behind.

``--only 'bad inputs,CLI corners'`` runs some surfaces only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

from tests import test_stored_discovery as stored_discovery_tests
from tests import test_stored_files as stored_files_tests

EXE = Path(sys.executable).with_name("ontschot")


def bad_inputs(work: Path, seeds: int) -> dict:
    """Run every generated bad input in-process with the simulation trapped; tally what went wrong."""
    import experiments.cli as cli
    import experiments.sweep as sweep
    from model.parameters import PARAMETERS
    from tests import test_design_schema as schema_cases
    from tests import test_fuzz_inputs as fuzz

    def accepted(*args, **kwargs):
        raise AssertionError("SILENTLY ACCEPTED")

    saved = cli.run_comparison, cli.persona_paths, sweep.run_sweep
    cli.run_comparison = cli.persona_paths = sweep.run_sweep = accepted
    try:
        return _tally(cases_for(PARAMETERS, fuzz, schema_cases, seeds), work, fuzz)
    finally:
        cli.run_comparison, cli.persona_paths, sweep.run_sweep = saved


def cases_for(PARAMETERS, fuzz, schema_cases, seeds: int) -> list[tuple[str, object]]:
    """Every bad input of the campaign."""
    cases: list[tuple[str, object]] = []
    for path in sorted(PARAMETERS.definitions):  # every parameter, bad values of its kind
        spec = PARAMETERS.get(path)
        if spec.kind == "choice":
            values = ["", "x", spec.choices[0].upper(), spec.choices[0] + " x", "1", "['a']"]
        elif spec.kind == "float_list":
            lo, hi = spec.range
            n = spec.length or 2
            values = [",".join([repr(hi + 1)] * n), ",".join([repr(lo - 1)] * n), "a,b", "", "[[1]]", "1,,2",
                      ",".join(["nan"] * n), ",".join(["1e999"] * n)] + ([",".join(["0.1"] * (n + 1))] if spec.length
                                                                       else [",".join(["1"] * 1001)])
        else:
            lo, hi = spec.range
            values = [repr(lo - 1 - abs(lo)), repr(hi + 1 + abs(hi)), "9" * 400, "-" + "9" * 5000] + \
                fuzz.NOT_NUMBERS + ([f"{lo}.5"] if spec.kind == "int" else [])
        cases += [("argv", ["run", "--set", f"{path}={v}"]) for v in values]
    for seed in range(seeds):
        fuzz.SEED = 7000 + seed
        cases += fuzz.generated_inputs()
    for body, _ in schema_cases.CASES.values():
        cases.append(("design", 'name = "bad"\n' + body))
    return cases


def _tally(cases: list[tuple[str, object]], work: Path, fuzz) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    tally = {"inputs": len(cases), "tracebacks": 0, "silent acceptances": 0, "not exit 2": 0, "not one line": 0,
             "wrote something": 0}
    examples = []

    class NoCapture:  # fuzz._one reads stderr through pytest's capsys; here stderr is redirected instead
        @staticmethod
        def readouterr():
            return types.SimpleNamespace(err="")

    for i, (kind, payload) in enumerate(cases):
        case = work / f"case{i}"
        case.mkdir()
        stream = io.StringIO()
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(io.StringIO()):
            code, _, problem = fuzz._one(kind, payload, case, NoCapture)
        err = stream.getvalue()
        lines = err.strip().splitlines()
        written = [p.name for p in case.iterdir() if p.name not in ("s.toml", "d.toml")]
        fault = False
        if problem and problem.startswith("TRACEBACK"):
            tally["tracebacks"] += 1
            fault = True
        elif problem:
            tally["silent acceptances"] += 1
            fault = True
        if code != 2:
            tally["not exit 2"] += 1
            fault = True
        if len(lines) != 1 or not lines[0].startswith("ontschot: error: "):
            tally["not one line"] += 1
            fault = True
        if written:
            tally["wrote something"] += 1
            fault = True
        if fault and len(examples) < 5:
            examples.append((kind, repr(payload)[:120], problem, err[:200]))
        shutil.rmtree(case)
    tally["examples"] = examples
    return tally


DESIGN = """
name = "campaign"
regimes = ["compartmentalised", "integrated"]
replications = {reps}
seed = 11
[base]
"scenario.inhabitants" = {inhabitants}
"scenario.years" = {years}
[vary]
"scenario.social_firm_places" = {places}
"""


def _design(folder: Path, reps=2, inhabitants=6000, years=6, places=12) -> Path:
    path = folder / f"design-{reps}-{inhabitants}-{years}-{places}.toml"
    path.write_text(DESIGN.format(reps=reps, inhabitants=inhabitants, years=years,
                                  places=json.dumps(list(range(4, 4 + 4 * places, 4)))))
    return path


def _files(out: Path) -> dict[str, int]:
    runs = out / "runs"
    return {p.stem: p.stat().st_mtime_ns for p in runs.glob("*.parquet")} if runs.is_dir() else {}


def _launch(design: Path, out: Path, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen([str(EXE), "sweep", str(design), "--out", str(out), "--workers", str(workers),
                             "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _frame(out: Path):
    from experiments.sweep import load_sweep

    frame = load_sweep(out)
    return frame.sort_values(["run_id", "group_by", "group", "indicator", "year"]).reset_index(drop=True)


def kills(work: Path, n_kills: int, n_early: int, rng: random.Random) -> dict:
    """kill -9 of the driver (and its workers) at random moments, each resumed by the next launch."""
    import pandas as pd

    from experiments.design import load_design
    from experiments.sweep import run_sweep

    design = _design(work)
    reference = work / "reference"
    run_sweep(load_design(design), reference, workers=2, progress=False)
    out = work / "killed"
    lost = recomputed = survived = 0
    for _ in range(n_kills):
        before = _files(out)
        proc = _launch(design, out)
        time.sleep(rng.uniform(0.05, 7.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        after = _files(out)
        lost += sum(1 for k in before if k not in after)
        recomputed += sum(1 for k, t in before.items() if after.get(k, t) != t)
        survived += 1
    before = _files(out)
    proc = _launch(design, out)
    assert proc.wait() == 0, proc.stderr.read()
    after = _files(out)
    lost += sum(1 for k in before if k not in after)
    recomputed += sum(1 for k, t in before.items() if after.get(k, t) != t)
    try:
        pd.testing.assert_frame_equal(_frame(out), _frame(reference))
        same = True
    except AssertionError:
        same = False
    early_ok = 0
    small = _design(work, places=2)
    for k in range(n_early):  # the first milliseconds: kill as soon as the folder appears
        early = work / f"early-{k}"
        proc = _launch(small, early, workers=1)
        deadline = time.time() + 60
        while not early.exists() and time.time() < deadline:
            time.sleep(0.0002)
        time.sleep(rng.uniform(0, 0.02))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        early_ok += _launch(small, early, workers=1).wait() == 0
    return {"kills": n_kills, "survived": survived, "runs lost": lost, "runs recomputed": recomputed,
            "resumed equals uninterrupted": same, "first-ms kills": n_early, "first-ms kills resumed": early_ok}


def worker_deaths(work: Path, n_kills: int) -> dict:
    """Kill Dask workers during a 120-run sweep; count saved runs executed again."""
    from dask.distributed import Client, LocalCluster, get_task_stream

    from experiments.design import load_design
    from experiments.sweep import run_sweep

    design = load_design(_design(work, reps=5, inhabitants=3000, years=3, places=12))  # 12 x 2 x 5 = 120 runs
    out = work / "workers"
    killed: list[int] = []
    saved_at_kill: dict[str, int] = {}

    def kill(run_id, state, client):
        done = len(_files(out))
        if len(killed) < n_kills and done >= (len(killed) + 1) * 120 // (n_kills + 1):
            saved_at_kill.update(_files(out))
            victim = sorted(client.run(os.getpid).values())[len(killed) % 2]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        with get_task_stream(client) as stream:
            summary = run_sweep(design, out, client=client, progress=False, on_result=kill)
    keys = [t["key"] for t in stream.data]
    after = _files(out)
    return {"planned": summary["planned"], "workers killed": len(killed), "done": summary["done"],
            "saved runs executed again": len(keys) - len(set(keys)) +
            sum(1 for k, t in saved_at_kill.items() if after.get(k) != t),
            "runs lost": summary["planned"] - len(after)}


def corrupt(work: Path, n: int, rng: random.Random) -> dict:
    """Damage run files five ways, verify, resume, compare."""
    from experiments.cli import main
    from experiments.design import load_design
    from experiments.sweep import run_sweep, verify_folder

    design = _design(work, inhabitants=3000, years=3)
    out = work / "corrupt"
    run_sweep(load_design(design), out, workers=2, progress=False)
    reference = _frame(out)
    files = sorted((out / "runs").glob("*.parquet"))
    victims = rng.sample(files, n)
    for k, path in enumerate(victims):
        blob = path.read_bytes()
        how = k % 5
        if how == 0:
            path.write_bytes(blob[: rng.randrange(1, len(blob) - 1)])
        elif how == 1:
            path.write_bytes(b"")
        elif how == 2:
            path.write_bytes(os.urandom(len(blob)))
        elif how == 3:
            b = bytearray(blob)
            b[rng.randrange(4, len(b) // 2)] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(b))
        else:
            other = rng.choice([f for f in files if f not in victims])
            shutil.copy(other, path)
    found = verify_folder(out)
    with open(os.devnull, "w") as null:
        stdout, sys.stdout = sys.stdout, null
        try:
            code = main(["verify", str(out)])
        finally:
            sys.stdout = stdout
    summary = run_sweep(load_design(design), out, workers=2, progress=False)
    after = verify_folder(out)
    return {"damaged": n, "found by verify": len(found["damaged"]), "verify exit": code,
            "repaired on resume": summary["repaired"], "sound after": after["sound"], "planned": after["planned"],
            "equals reference": _frame(out).equals(reference)}


def disks(work: Path) -> dict:
    """A tmpfs that fills mid-sweep, then grows; then read-only."""
    from experiments.runfiles import check_run

    mount = work / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)]).returncode:
        return {"skipped": "cannot mount a tmpfs (needs root)"}
    try:
        design = _design(work, inhabitants=3000, years=3)
        out = mount / "s"
        full = subprocess.run([str(EXE), "sweep", str(design), "--out", str(out), "--workers", "1", "--no-progress"],
                              capture_output=True, text=True)
        saved = list((out / "runs").glob("*.parquet"))
        sound = sum(check_run(p).ok for p in saved)
        temps = list(out.rglob("*.tmp"))
        subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)
        resumed = subprocess.run([str(EXE), "sweep", str(design), "--out", str(out), "--workers", "1",
                                  "--no-progress"], capture_output=True, text=True)
        for p in sorted((out / "runs").glob("*.parquet"))[:3]:
            p.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        started = time.time()
        ro = subprocess.run([str(EXE), "sweep", str(design), "--out", str(out), "--workers", "1", "--no-progress"],
                            capture_output=True, text=True)
        ro_seconds = time.time() - started
        return {"full: exit": full.returncode, "full: stderr lines": len(full.stderr.strip().splitlines()),
                "full: saved and sound": sound, "full: saved": len(saved),
                "full: temp files left": len(temps), "resume: exit": resumed.returncode,
                "read-only: exit": ro.returncode, "read-only: stderr lines": len(ro.stderr.strip().splitlines()),
                "read-only: seconds to refuse": round(ro_seconds, 1), "read-only: message": ro.stderr.strip()[:160]}
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def concurrent(work: Path) -> dict:
    """Two sweeps launched on one folder, half a second apart."""
    design = _design(work, inhabitants=4000, years=4, places=4)
    out = work / "twice"
    first = _launch(design, out, workers=1)
    time.sleep(0.5)
    while not (out / "sweep.json").exists():
        time.sleep(0.01)
    second = _launch(design, out, workers=1)
    second_code = second.wait()
    assert first.wait() == 0
    sessions = json.loads((out / "sweep.json").read_text())["sessions"]
    return {"second exit": second_code, "second message": second.stderr.read().strip()[:140],
            "runs computed": sum(s["done"] for s in sessions), "planned": sessions[0]["planned"]}


HOSTILE = ["", "bogus", "-1", "nan", "inf", "1e999", "9" * 400, "30.000", "30,5", "<b>x</b>", "\u00ff", " ", "0x10",
           -1, 0, 0.5, 1.5, 2, -0.0, 1e308, -1e308, float("nan"), float("inf"), 2**70, 10**9, 250_001, 20_000_000,
           None, True, [1], {"a": 1}]


def _widgets(widget, classes=(), found=None):
    """Every widget under ``widget`` with the CSS classes of itself and its ancestors."""
    found = [] if found is None else found
    mine = tuple(classes) + tuple(str(getattr(widget, "class_", "") or "").split())
    found.append((widget, mine))
    for child in getattr(widget, "children", None) or ():
        if not isinstance(child, str):
            _widgets(child, mine, found)
    return found


def _texts(box) -> list[str]:
    out = []
    for widget, _ in _widgets(box):
        for child in getattr(widget, "children", None) or ():
            if isinstance(child, str):
                out.append(child)
        for attr in ("value", "unsafe_innerHTML"):
            value = getattr(widget, attr, None)
            if isinstance(value, str):
                out.append(value)
    return out


def _same(old, new) -> bool:
    """Equal as the widget layer compares (traitlets sends no change for 1 == True == 1.0)."""
    try:
        return bool(old == new) and type(old) is not list
    except Exception:
        return False


MESSAGES = ("Not accepted", "is not a number", "is not a whole number", "is empty", "too long", "Fix the field first",
            "is more than this page allows", "is not allowed", "Something went wrong")


def page_controls(n_actions: int, n_api: int, rng: random.Random) -> dict:
    """Hostile values into the page's controls (rendered in-process, as the server does) and the session API.

    Each action pushes a value into one control's widget, as a browser's widget model can (past what the
    control offers), then presses what applies it (Enter, Reset, Switch regime now), then Step. Counted:
    tracebacks (an exception out of a handler or a render), dead sessions (Step gone or not advancing),
    silent acceptances (a value the parameter set or the page refuses, taken without a message), good
    values refused, and values the widget layer itself refused (a browser cannot send those).
    """
    import ipyvuetify as v
    import solara
    from traitlets import TraitError

    from analysis.page import guard, texts
    from analysis.page.app import Page

    os.environ[texts.LANG_ENVIRONMENT] = "en"  # the messages counted below are the English ones
    from analysis.page.session import PERSONA_NAMES, Workshop, control_keys
    from model.parameters import PARAMETERS, InputError

    tally = {"actions": 0, "tracebacks": 0, "dead sessions": 0, "silent acceptances": 0, "good values refused": 0,
             "refused by the widget layer": 0, "no change (the value the control holds)": 0, "api calls": 0, "api tracebacks": 0, "api silent acceptances": 0}
    examples: list[str] = []
    guard._seats = 0

    def note(kind, what):
        tally[kind] += 1
        if len(examples) < 8:
            examples.append(f"{kind}: {what}")

    def close(rc):
        try:
            rc.close()
        except Exception:  # a render context left in an error state may fail to close; a new one is made anyway
            pass

    def render():
        guard.NOTICE.set("")
        guard.FIELD_PROBLEMS.set({})
        return solara.render(Page(), handle_error=False)

    def year(box):
        heads = [w for w, _ in _widgets(box) if getattr(w, "tag", None) == "h2"]
        return heads[0].unsafe_innerHTML if heads else None

    def find(box, cls, klass=None, label=None):
        for widget, classes in _widgets(box):
            if isinstance(widget, cls) and (klass is None or klass in classes) and \
                    (label is None or getattr(widget, "label", None) == label):
                return widget
        return None

    def button(box, text):
        return next((w for w, _ in _widgets(box) if isinstance(w, v.Btn) and text in (w.children or [])), None)

    def valid(key, value):
        try:
            clean = PARAMETERS.get(key).coerce(value, "campaign")
            guard.check_page_bounds({key: clean})
            return True
        except InputError:
            return False

    keys = control_keys()

    def css(key):
        return "control-seed" if key == "seed" else "control-" + key.replace(".", "-").replace("_", "-")

    def message_in(box, klass):
        return any(m in t for w, c in _widgets(box) if klass in c for t in _texts(w) for m in MESSAGES)

    box, rc = render()
    pending_bad: dict[str, bool] = {}  # a refused value the settings hold (applied, and refused, by Reset)
    for _ in range(n_actions):
        tally["actions"] += 1
        value = rng.choice(HOSTILE) if rng.random() < 0.8 else None
        target = rng.choice(["setting", "setting", "switch", "share", "persona"])
        if target == "setting":
            key = rng.choice([*keys, "seed"])
            field = find(box, v.TextField, css(key))
            if field is not None:  # a number field: typed text, committed as the browser does (Enter)
                typed = value if isinstance(value, str) else str(value if value is not None else rng.randint(0, 10**6))
                widget, label = field, f"{key} <- typed {typed!r}"
                try:
                    number = guard.parse_whole(typed)
                    bad = not (0 <= number < 2**63) if key == "seed" else not valid(key, number)
                except InputError:
                    bad = True
            else:
                p = PARAMETERS.get(key)
                if value is None:
                    value = rng.choice(p.choices) if p.kind == "choice" else rng.uniform(*p.range)
                    value = round(value) if p.kind == "int" else value
                widget = find(box, v.Select if p.kind == "choice" else v.Slider, css(key))
                if widget is None:
                    continue
                bad, label = not valid(key, value), f"{key} <- {value!r}"
        elif target in ("switch", "share"):
            if target == "share":
                find(box, v.Select, "view-switch").v_model = "gradual"
            widget = find(box, v.Select if target == "switch" else v.Slider, "view-switch")
            key = "scenario.regime" if target == "switch" else "scenario.pooled_share"
            if value is None:
                value = rng.choice(PARAMETERS.get(key).choices) if target == "switch" else rng.uniform(0, 1)
            bad, label = not valid(key, value), f"switch: {key} <- {value!r}"
        else:
            widget = find(box, v.BtnToggle, "persona-choice")
            value = value if value is not None else rng.randrange(len(PERSONA_NAMES))
            bad = not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(PERSONA_NAMES))
            label = f"persona index <- {value!r}"
        guard.NOTICE.set("")
        if not isinstance(widget, v.TextField) and _same(widget.v_model, value):
            tally["no change (the value the control holds)"] += 1  # the widget sends no change: nothing happens
            continue
        try:
            try:
                if isinstance(widget, v.TextField):
                    widget.v_model = typed
                    widget.fire_event("keyup.enter", None)
                else:
                    widget.v_model = value
            except TraitError:
                tally["refused by the widget layer"] += 1
                continue
            shown = bool(guard.NOTICE.value) or (target == "setting" and key in guard.FIELD_PROBLEMS.value)
            if target == "setting":
                if not shown:
                    pending_bad[key] = bad  # the settings took it; Reset decides
                elif not bad:
                    note("good values refused", label)
                expected = any(pending_bad.values()) or bool(guard.FIELD_PROBLEMS.value)
                button(box, "Reset").click()
                refused_now = message_in(box, "settings-error")
                if expected and not refused_now:
                    note("silent acceptances", f"Reset with {label}")
                elif refused_now and not expected:
                    note("good values refused", f"Reset with {label}")
                if not refused_now:
                    pending_bad.clear()
            else:
                if target in ("switch", "share"):
                    switch = button(box, "Switch regime now")
                    if switch is None or switch.disabled:  # the horizon is reached: nothing to switch
                        continue
                    switch.click()
                shown = shown or bool(guard.NOTICE.value)
                if bad and not shown:
                    note("silent acceptances", label)
                elif shown and not bad:
                    note("good values refused", label)
        except Exception as exc:  # an exception out of a handler or a render: what the browser showed as a traceback
            note("tracebacks", f"{label}: {type(exc).__name__}: {one_line(exc)[:100]}")
            close(rc)
            box, rc = render()
            pending_bad.clear()
            continue
        before = year(box)
        step = button(box, "Step")
        try:
            if step is None:
                raise RuntimeError("no Step button")
            if not step.disabled:
                step.click()
                if year(box) == before:
                    raise RuntimeError("Step did not advance")
        except Exception as exc:
            note("dead sessions", f"after {label}: {type(exc).__name__}: {one_line(exc)[:100]}")
            close(rc)
            box, rc = render()
            pending_bad.clear()
            continue
        if (year(box) or "").startswith("Year 5"):  # a fresh session now and then
            close(rc)
            box, rc = render()
            pending_bad.clear()
    close(rc)
    for _ in range(n_api):  # the session API the page calls
        tally["api calls"] += 1
        settings = {rng.choice(keys): rng.choice(HOSTILE) for _ in range(rng.randint(1, 3))}
        bad = not all(valid(k, x) for k, x in settings.items())
        try:
            w = Workshop(guard.page_settings(settings), seed=1)
        except InputError:
            continue
        except Exception as exc:
            note("api tracebacks", f"Workshop({settings!r}): {type(exc).__name__}")
            continue
        if bad:
            note("api silent acceptances", f"Workshop({settings!r})")
        regime, share = rng.choice(HOSTILE), rng.choice(HOSTILE)
        try:
            w.switch_regime(regime, share)
            if not (valid("scenario.regime", regime) and (share is None or valid("scenario.pooled_share", share))):
                note("api silent acceptances", f"switch_regime({regime!r}, {share!r})")
        except InputError:
            pass
        except Exception as exc:
            note("api tracebacks", f"switch_regime({regime!r}, {share!r}): {type(exc).__name__}")
        w.release()
    tally["examples"] = examples
    return tally


# ------------------------------------------------------------------ stored files (issue #22)

STORED_RUN = ["--set", "scenario.inhabitants=2000", "--years", "3", "--replications", "2", "--no-progress",
              "--workers", "1"]
STORED_DESIGN = stored_files_tests.DESIGN  # the same small design as the stored-files tests
HANG = 60  # seconds after which a command counts as hanging
# the report's note that a stored decomposition is not drawn, in English and in Dutch (the report's default)
NO_DECOMPOSITION = ("No decomposition is stored", "Bij deze uitkomsten is geen ontleding opgeslagen")


def _in_process(argv: list[str]) -> tuple[int | None, str, str | None]:
    """The command line in this process: exit code, stderr, and the traceback's last line if one escaped."""
    import traceback

    from experiments.cli import main as cli_main

    stream = io.StringIO()
    try:
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(io.StringIO()):
            code = cli_main(argv)
    except Exception:  # noqa: BLE001 - a traceback is what the campaign counts
        return None, stream.getvalue(), traceback.format_exc().strip().splitlines()[-1]
    return code, stream.getvalue(), None


# What the report reads of a run folder's manifest and verify of sweep.json, and the JSON type each must have.
RUN_FIELDS = {"created": str, "code_version": dict, "parameters": dict, "arm_parameters": dict, "arms": list,
              "regimes": list, "practices": dict, "replications": int, "root_seed": int, "replication_seeds": list,
              "overrides": dict, "files": dict, "decomposition": dict}
SWEEP_FIELDS = {"planned_run_ids": list, "design": dict, "code_fingerprint": dict, "code_version": dict,
                "sessions": list, "planned": list, "created": str, "design_hash": str}
SAMPLES = ("x", 7, 2.5, True, [1], {"x": [1]})


def _wrong_types(kind: type) -> list:
    return [v for v in SAMPLES if not isinstance(v, kind) or (kind is int and isinstance(v, bool))]


def _negate(indicator: str):
    import numpy as np

    def change(frame):
        return frame.assign(value=np.where(frame["indicator"] == indicator, -frame["value"] - 1, frame["value"]))
    return change


def _stored_cases(run: Path, other: Path):
    """(name, how to tamper a copy of the run folder, 'refuse' or 'note': what a sound program does)."""
    import numpy as np
    import pandas as pd

    from model.parameters import PARAMETERS

    manifest = json.loads((run / "manifest.json").read_text())

    def restamp(folder: Path) -> None:
        import hashlib

        m = json.loads((folder / "manifest.json").read_text())
        m["files"] = {"results.parquet": hashlib.sha256((folder / "results.parquet").read_bytes()).hexdigest()}
        (folder / "manifest.json").write_text(json.dumps(m))

    def manifest_edit(path: tuple, value):
        def tamper(folder: Path) -> None:
            m = json.loads((folder / "manifest.json").read_text())
            target = m
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            (folder / "manifest.json").write_text(json.dumps(m, allow_nan=True))
        return tamper

    def results_edit(change, stamp: bool):
        def tamper(folder: Path) -> None:
            frame = pd.read_parquet(folder / "results.parquet")
            change(frame).to_parquet(folder / "results.parquet", index=False)
            if stamp:
                restamp(folder)
        return tamper

    def decomposition_edit(change):
        def tamper(folder: Path) -> None:
            change(pd.read_csv(folder / "decomposition.csv")).to_csv(folder / "decomposition.csv", index=False)
        return tamper

    cases = []
    for key in manifest["parameters"]:  # every recorded parameter: out of range, of the wrong type
        spec = PARAMETERS.get(key) if key in PARAMETERS else None
        wrong = [None, "x", [], True]
        if spec is not None and spec.range and spec.kind != "float_list":
            wrong.append(spec.range[1] + abs(spec.range[1]) + 1)
            wrong.append(spec.range[0] - abs(spec.range[0]) - 1)
        for v in wrong:
            cases.append((f"parameters.{key} = {v!r}", manifest_edit(("parameters", key), v), "refuse"))
    for key, kind in RUN_FIELDS.items():  # every field the report reads, of each wrong type
        for v in _wrong_types(kind):
            cases.append((f"{key} = {v!r}", manifest_edit((key,), v), "refuse"))
    for k in range(len(manifest.get("arms") or [])):
        for field, v in (("name", 7), ("name", ""), ("regime", "<b>"), ("pooled_share", 2), ("practices", "x"),
                         ("practices", {"practice.outreach": -1}), ("bundle", 5)):
            cases.append((f"arms[{k}].{field} = {v!r}", manifest_edit(("arms", k, field), v), "refuse"))
    for arm in manifest.get("arm_parameters") or {}:
        cases.append((f"arm_parameters.{arm}.staff.salary = -1", manifest_edit(("arm_parameters", arm, "staff.salary"),
                                                                               -1.0), "refuse"))
    counts = ("outflow_work", "benefit_stock", "wmo_clients", "firm_places", "guidance_hours")
    changes = {
        "duplicated rows": lambda f: pd.concat([f, f.iloc[: len(f) // 2]]),
        "every row twice": lambda f: pd.concat([f, f]),
        **{f"negated {c}": _negate(c) for c in counts},
        "an unknown indicator": lambda f: f.assign(indicator=f["indicator"].replace("wmo_clients", "$x$")),
        "NaN values": lambda f: f.assign(value=f["value"].where(f.index % 7 != 0, np.nan)),
        "text values": lambda f: f.assign(value=f["value"].astype(str)),
        "years shifted": lambda f: f.assign(year=f["year"] + 1),
        "a replication dropped": lambda f: f[f["replication"] == 0],
        "an arm renamed": lambda f: f.assign(arm=f["arm"].replace("integrated", "<script>x</script>")),
        "seeds changed": lambda f: f.assign(seed=f["seed"] + 1),
        "a group_by unknown": lambda f: f.assign(group_by=f["group_by"].replace("disability", "x")),
        "rows removed": lambda f: f.iloc[: len(f) - 50],
    }
    for name, change in changes.items():
        for stamp in (False, True):
            cases.append((f"results: {name}{' (hash restamped)' if stamp else ''}", results_edit(change, stamp),
                          "refuse"))
    for stamp in (False, True):
        def another(folder: Path, stamp=stamp) -> None:
            shutil.copy(other / "results.parquet", folder / "results.parquet")
            if stamp:
                restamp(folder)
        cases.append((f"results: another run's{' (hash restamped)' if stamp else ''}", another, "refuse"))
    decompositions = {
        "text in mean": lambda t: t.assign(mean="x"),
        "$ in indicator": lambda t: t.assign(indicator="$\\frac{$"),
        "thousands of indicators": lambda t: pd.concat([t.assign(indicator=f"i{k}") for k in range(500)]),
        "html in indicator": lambda t: t.assign(indicator="<script>alert(1)</script>"),
        "parts do not add up, html in arm": lambda t: t.assign(mean=t["mean"] + 1, arm="<i>x</i>"),
        "replications text": lambda t: t.assign(replications="many"),
        "infinite ci": lambda t: t.assign(ci_low=float("-inf")),
        "a part twice": lambda t: pd.concat([t, t]),
    }
    for name, change in decompositions.items():
        kind = "draw" if name.startswith("parts do not add up") else "note"
        cases.append((f"decomposition: {name}", decomposition_edit(change), kind))
    return cases


def _file_kinds():
    """Ways a stored file is replaced by what is not a regular file of sane size."""
    def fifo(path: Path) -> None:
        os.mkfifo(path)

    def zero(path: Path) -> None:
        path.symlink_to("/dev/zero")

    def dangling(path: Path) -> None:
        path.symlink_to(path.with_name("nowhere"))

    def folder(path: Path) -> None:
        path.mkdir()

    def empty(path: Path) -> None:
        path.write_bytes(b"")

    def huge(path: Path) -> None:
        with open(path, "wb") as fh:
            fh.truncate(3 * 1024**3)  # sparse: larger than any limit, no disk used

    return {"named pipe": fifo, "link to /dev/zero": zero, "dangling link": dangling, "folder": folder,
            "empty": empty, "oversized": huge}


def _subprocess(argv: list[str]) -> tuple[int | None, str, bool]:
    """The command line in its own process: exit code (None: it hung and was killed), stderr, traceback seen."""
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, "", False
    return proc.returncode, err, "Traceback" in err


def stored_files(work: Path, kinds: bool = True, sample: int = 1) -> dict:
    """Tampered run and sweep folders against report and verify; user files next to a report and behind a lock.

    ``kinds=False`` leaves out the pipes, devices and oversized files (on code without the checks they hang
    until the guard or read /dev/zero into memory); ``sample=K`` keeps every K-th tampered run folder (on code
    without the checks each is accepted and drawn in full, seconds apiece).
    """
    from experiments.cli import main as cli_main

    with contextlib.redirect_stdout(io.StringIO()):
        for seed in (5, 6):
            assert cli_main(["run", "--out", str(work / f"runs{seed}"), "--seed", str(seed), *STORED_RUN]) == 0
    run, other = (next(p for p in (work / f"runs{s}").iterdir() if p.is_dir()) for s in (5, 6))
    tally = {"cases": 0, "tracebacks": 0, "hangs": 0, "silent acceptances": 0, "not exit 2": 0, "not one line": 0,
             "user files destroyed": 0}
    examples: list = []

    def judge(name: str, code, err: str, trace, expect: str, page: Path | None) -> None:
        tally["cases"] += 1
        fault = None
        if trace:
            tally["tracebacks"] += 1
            fault = f"traceback {trace}"
        elif code is None:
            tally["hangs"] += 1
            fault = "hang"
        elif expect == "refuse":
            lines = err.strip().splitlines()
            if code == 0:
                tally["silent acceptances"] += 1
                fault = "accepted"
            elif code != 2:
                tally["not exit 2"] += 1
                fault = f"exit {code}"
            elif len(lines) != 1 or not lines[0].startswith("ontschot: error: "):
                tally["not one line"] += 1
                fault = "not one line"
        elif code != 0:
            tally["not exit 2"] += 1
            fault = f"exit {code}: {err.strip()[:120]}"
        elif page is not None:
            text = page.read_text()
            section = text[text.index("<section id='decomposition'>"):text.index("<section id='own-result'>")]
            if "<script>" in text or "<i>x</i>" in text:
                tally["silent acceptances"] += 1
                fault = "unescaped name in the page"
            elif expect == "note" and not any(mark in section for mark in NO_DECOMPOSITION):
                tally["silent acceptances"] += 1
                fault = "decomposition drawn without a word"
        if fault and len(examples) < 8:
            examples.append((name, fault, err.strip()[:160]))

    for k, (name, tamper, expect) in enumerate(_stored_cases(run, other)[::sample]):
        folder = work / f"case{k}"
        shutil.copytree(run, folder)
        tamper(folder)
        page = work / f"case{k}.html"
        code, err, trace = _in_process(["report", str(folder), "--out", str(page)])
        judge(name, code, err, trace, expect, page if code == 0 else None)
        shutil.rmtree(folder)
        shutil.rmtree(work / f"case{k}_files", ignore_errors=True)
        page.unlink(missing_ok=True)
    for file in ("manifest.json", "results.parquet", "decomposition.csv") if kinds else ():
        for kind, make in _file_kinds().items():
            folder = work / "kinds"
            shutil.copytree(run, folder)
            (folder / file).unlink()
            make(folder / file)
            code, err, trace = _subprocess(["report", str(folder), "--out", str(work / "kinds.html")])
            expect = "note" if file == "decomposition.csv" else "refuse"
            judge(f"report: {file} as {kind}", code, err, trace, expect,
                  work / "kinds.html" if code == 0 else None)
            shutil.rmtree(folder)
            shutil.rmtree(work / "kinds_files", ignore_errors=True)
            (work / "kinds.html").unlink(missing_ok=True)
    # the workbook tells a run folder by these two; a regular one (empty, oversized) marks a sweep or discovery folder
    for file in ("discovery.json", "sweep.json") if kinds else ():
        for kind, make in _file_kinds().items():
            folder = work / "xkinds"
            shutil.copytree(run, folder)
            make(folder / file)
            code, err, trace = _subprocess(["report", str(folder), "--xlsx", str(work / "kinds.xlsx")])
            judge(f"report --xlsx: {file} as {kind}", code, err, trace, "refuse", None)
            if code == 2 and file not in err:
                tally["not one line"] += 1  # refused, but not naming the file that is wrong
                examples.append((f"report --xlsx: {file} as {kind}", "file not named", err.strip()[:160]))
            shutil.rmtree(folder)
            (work / "kinds.xlsx").unlink(missing_ok=True)
    design = work / "d.toml"
    design.write_text(STORED_DESIGN)
    sweep = work / "sweep"
    code, err, _ = _subprocess(["sweep", str(design), "--out", str(sweep), "--workers", "1", "--no-progress"])
    assert code == 0, err
    first_run = sorted((sweep / "runs").glob("*.parquet"))[0].name
    for file in ("sweep.json", "sweep.lock", f"runs/{first_run}") if kinds else ():
        for kind, make in _file_kinds().items():
            folder = work / "vkinds"
            shutil.copytree(sweep, folder)
            (folder / file).unlink(missing_ok=True)
            make(folder / file)
            code, err, trace = _subprocess(["verify", str(folder)])
            if file.startswith("runs/"):  # a damaged run file is listed, exit 1
                judge(f"verify: {file} as {kind}", None if code is None else (2 if code == 1 else 0), "ontschot: "
                      "error: listed" if code == 1 else err, trace, "refuse", None)
            elif kind == "empty" and file == "sweep.lock":  # a holder killed while writing its record
                judge(f"verify: {file} as {kind}", code, err, trace, "accept", None)
            else:
                judge(f"verify: {file} as {kind}", code, err, trace, "refuse", None)
            shutil.rmtree(folder)
    manifest = json.loads((sweep / "sweep.json").read_text())
    for key, kind in SWEEP_FIELDS.items():
        for v in [*_wrong_types(kind), *([[1], ["../x"]] if key == "planned_run_ids" else [])]:
            folder = work / "vtypes"
            shutil.copytree(sweep, folder)
            (folder / "sweep.json").write_text(json.dumps(dict(manifest, **{key: v})))
            code, err, trace = _in_process(["verify", str(folder)])
            judge(f"sweep.json {key} = {v!r}", code, err, trace, "refuse", None)
            shutil.rmtree(folder)
    for record in ({"pid": "x", "host": "h", "started": "s"}, {"pid": 1, "host": 5, "started": "s"},
                   {"pid": -1, "host": "h", "started": "s"}, [1, 2], "text", {"pid": 1.5, "host": "h", "started": "s"}):
        folder = work / "vlock"
        shutil.copytree(sweep, folder)
        (folder / "sweep.lock").write_text(json.dumps(record))
        code, err, trace = _in_process(["verify", str(folder)])
        judge(f"sweep.lock = {record!r}", code, err, trace, "refuse", None)
        shutil.rmtree(folder)
    tally["discovery cases"], unescaped = _stored_discovery(work / "discovery", judge, kinds)
    tally["silent acceptances"] += unescaped
    # user files: a _files folder and a page the program never wrote, a lock link's target
    notes = work / "notes_files"
    notes.mkdir()
    (notes / "saved.css").write_text("mine")
    (work / "mine.html").write_text("<html>mine</html>")
    target = work / "precious.txt"
    target.write_text("precious")
    lock_folder = work / "locked"
    shutil.copytree(sweep, lock_folder)
    (lock_folder / "sweep.lock").symlink_to(target)
    code, err, _ = _in_process(["report", str(run), "--out", str(work / "own.html")])
    assert code == 0, err
    copies = stored_files_tests.browser_copies((work / "own.html").read_bytes())  # the tag kept, not the bytes
    for k, blob in enumerate(copies.values()):
        (work / f"copy{k}.html").write_bytes(blob)
    attempts = [(["report", str(run), "--out", str(work / "notes.html")], "report over notes_files/"),
                (["report", str(run), "--out", str(work / "mine.html")], "report over mine.html"),
                *((["report", str(run), "--out", str(work / f"copy{k}.html")], f"report over a page copy: {kind}")
                  for k, kind in enumerate(copies)),
                (["sweep", str(design), "--out", str(lock_folder), "--workers", "1", "--no-progress"], "sweep.lock link")]
    for command, argv in _out_locked(work).items():  # every command that holds its --out folder's lock
        out = work / f"{command.split()[0]}-out"
        out.mkdir()
        (out / ".ontschot-run.lock").symlink_to(target)
        attempts.append(([*argv, "--out", str(out)], f"{command} lock link"))
    for argv, name in attempts:
        code, err, trace = _subprocess(argv)
        judge(name, code, err, trace, "refuse", None)
    destroyed = [not (notes / "saved.css").is_file(), (work / "mine.html").read_text() != "<html>mine</html>",
                 target.read_text() != "precious",
                 *((work / f"copy{k}.html").read_bytes() != blob for k, blob in enumerate(copies.values()))]
    tally["user files destroyed"] = sum(destroyed)
    tally["examples"] = examples
    return tally


def _out_locked(work: Path) -> dict[str, list[str]]:
    """Every command that holds its --out folder's lock (``experiments/cli.py`` ``out_lock``), small, without --out."""
    from tests.test_sensitivity import GROW

    design = work / "grow.toml"
    design.write_text(GROW)
    return {"run": ["run", *STORED_RUN], "explain": ["explain", *STORED_RUN],
            "validate": ["validate", "--set", "scenario.inhabitants=2000", "--years", "4", "--replications", "1",
                         "--no-progress"],
            "calibrate": ["calibrate", "--set", "scenario.inhabitants=2000", "--years", "4", "--waves", "1", "--points",
                          "4", "--sets", "2", "--check-seeds", "1", "--candidates", "50", "--no-progress"],
            "cases": ["cases", "--case", "superrr", *STORED_RUN],
            "sensitivity --until-stable": ["sensitivity", str(design), "--until-stable", "--max-runs", "30",
                                           "--workers", "1", "--no-progress"]}


def _stored_discovery(work: Path, judge, kinds: bool) -> tuple[int, int]:
    """A tiny discovery folder tampered: report and discover --analyse refuse in one line; free words are escaped.

    Returns the cases and the pages with free words left as markup (silent acceptances).

    Every case runs (they are quick); the file kinds run in their own process (a hang is killed at ``HANG``).
    """
    from experiments.cli import main as cli_main
    from tests.test_discovery import write_tiny

    t = stored_discovery_tests
    work.mkdir()
    real = work / "out"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["discover", str(write_tiny(work)), "--out", str(real), "--workers", "1",
                         "--no-progress"]) == 0
    cases = [(f"discovery: {name}", tamper, "report") for name, (tamper, _, _) in t.TAMPERED.items()]
    cases += [(f"discovery setup: {name}", tamper, "discover") for name, (tamper, _) in t.SETUP_TAMPERED.items()]
    kinds_of = _file_kinds() if kinds else {}
    cases += [(f"discovery: {file} as {kind}", partial_kind(make, file), "report kind") for file in (t.DJ, t.DP)
              for kind, make in kinds_of.items()]
    cases += [(f"discovery setup: {t.DJ} as {kind}", partial_kind(make, t.DJ), "discover kind")
              for kind, make in kinds_of.items()]
    for name, tamper, how in cases:
        folder, page = work / "case", work / "case.html"
        folder.mkdir()
        for file in t.FILES:
            shutil.copy(real / file, folder / file)
        tamper(folder)
        argv = ["report", str(folder), "--out", str(page)] if how.startswith("report") else \
            ["discover", "--analyse", str(folder)]
        code, err, trace = _subprocess(argv) if how.endswith("kind") else _in_process(argv)
        judge(name, code, err, trace, "refuse", None)
        shutil.rmtree(folder)
        shutil.rmtree(work / "case_files", ignore_errors=True)
        page.unlink(missing_ok=True)
    folder, page = work / "words", work / "words.html"  # free words: accepted, escaped, drawn literally
    shutil.copytree(real, folder)
    for tamper in t.FREE_WORDS:
        tamper(folder)
    code, err, trace = _in_process(["report", str(folder), "--out", str(page)])
    judge("discovery: free words with HTML and mathtext", code, err, trace, "accept", None)
    return len(cases) + 1, int(code == 0 and any(markup in page.read_text() for markup in t.MARKUP))


def partial_kind(make, file: str):
    """A tampering that replaces ``file`` of a folder by what ``make`` puts there (a pipe, a link, a folder...)."""
    def tamper(folder: Path) -> None:
        (folder / file).unlink()
        make(folder / file)
    return tamper


# ------------------------------------------------------------------ issue 22: the command line's corners, Ctrl-C


def _corner_cases(work: Path) -> list[tuple[str, list[str]]]:
    """Every corner case: (what it is, argv) — run in-process with the work trapped."""
    from tests.test_sweep import write_design

    design = write_design(work)
    loop = work / "loop"
    loop.symlink_to("loop")
    results = work / "results"
    results.mkdir()
    room = 3950 - len(str(work))  # under PATH_MAX itself, too deep for the files written below it
    deep = "/".join(["c" * 250] * (room // 251) + ["d" * (room % 251 or 1)])
    values = {"loop": str(loop), "inside a loop": str(loop / "x"), "name of 256 bytes": "n" * 256,
              "name of 1000 bytes": "n" * 1000, "path of 5000 bytes": "/".join(["p" * 200] * 25),
              "too deep for its results": str(work / deep), "empty": "", "blank": " ", "tab": "\t",
              "newline": "a\nb", "NUL": "a\x00b", "escape": "a\x1b[31mb", "line separator": "a\u2028b",
              "blank part": "x/ /y", "trailing space": "new ", "leading space": " new", "carriage return": "a\rb"}
    options = {
        "run --out": ["run", "--out", "V"], "explain --out": ["explain", "--out", "V"],
        "validate --out": ["validate", "--out", "V"], "calibrate --out": ["calibrate", "--out", "V"],
        "cases --out": ["cases", "--out", "V"], "sweep --out": ["sweep", str(design), "--out", "V"],
        "sensitivity --out": ["sensitivity", str(design), "--out", "V"],
        "discover --out": ["discover", str(design), "--out", "V"], "report RESULTS": ["report", "V"],
        "report --out": ["report", str(results), "--out", "V"], "report --latest": ["report", "--latest", "V"],
        "audit": ["audit", "V"], "verify": ["verify", "V"], "query FOLDER": ["query", "V", "select 1"],
        "query --csv": ["query", str(results), "select 1", "--csv", "V"], "cases --doc": ["cases", "--doc", "V"],
        "cases --from": ["cases", "--from", "V"], "discover --analyse": ["discover", "--analyse", "V"],
        "--scenario": ["run", "--scenario", "V"], "--practices": ["run", "--practices", "V"],
        "--ensemble": ["run", "--ensemble", "V"], "design file": ["sweep", "V", "--out", str(work / "o")],
    }
    cases = []
    for option, argv in options.items():
        for name, value in values.items():
            if value == "" and option == "--scenario":
                continue  # refused in the scenario reader's own words (tests/test_cli.py)
            cases.append((f"{option} {name}", [value if a == "V" else a for a in argv]))
    addresses = ["", " ", "tls://127.0.0.1:8786", "http://127.0.0.1:8786", "tcp://127.0.0.1", "127.0.0.1",
                 ":8786", "tcp://127.0.0.1:0", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:8786/x",
                 "tcp://u@127.0.0.1:8786", "tcp://127.0.0.1:8786\n", "tcp://no-such-host.invalid:8786",
                 "tcp://127.0.0.1:1", "tcp://[::1]:1", "inproc://x"]
    for command in (["sweep", str(design), "--out", str(work / "o")], ["run", "--ensemble", "--out", str(work / "o")],
                    ["calibrate", "--out", str(work / "o")], ["discover", str(design), "--out", str(work / "o")],
                    ["sensitivity", str(design), "--out", str(work / "o")]):
        cases += [(f"{command[0]} --scheduler {a!r}", [*command, "--scheduler", a]) for a in addresses]
    for argv in (["validate", "--years", "1"], ["validate", "--years", "2"], ["validate", "--set", "scenario.years=1"],
                 ["validate", "--set", "scenario.years=2"], ["calibrate", "--years", "2"]):
        cases.append((" ".join(argv), [*argv, "--out", str(work / "o")]))
    for name, text in (("newline", "a\\nb"), ("tab", "a\\tb"), ("escape", "a\\u001bb"), ("carriage return", "a\\rb"),
                       ("line separator", "a\u2028b"), ("NUL", "a\\u0000b")):
        path = work / f"design-{name.replace(' ', '-')}.toml"
        path.write_text(design.read_text().replace('name = "tiny"', f'name = "{text}"'))
        cases.append((f"design name with a {name}", ["sweep", str(path), "--out", str(work / "o")]))
    return cases


def _servers():
    """Loopback servers that are not Dask: silent, garbage, an SSH-like banner, an HTTP answer."""
    from tests.test_cli_corners import serve

    return {name: serve(name) for name in ("silent", "garbage", "small garbage", "http")}


BUSY_HOLDER = """
import sys, time
from pathlib import Path
from experiments.cli import out_lock
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
with out_lock(Path(sys.argv[1]), "run"):
    print("held", flush=True)
    time.sleep(3600)
"""
BUSY_SWEEP_HOLDER = """
import contextlib, sys, time
from pathlib import Path
from experiments.cli import sweep_lock
with contextlib.ExitStack() as stack:
    for folder in sys.argv[1:]:
        stack.enter_context(sweep_lock(Path(folder), "discover", "--analyse"))
    print("held", flush=True)
    time.sleep(3600)
"""


def cli_corners(work: Path) -> dict:
    """Issue 22's corners and their variations: tally tracebacks, multi-line messages, silent acceptances, exits."""
    import experiments.cases as cases_module
    import experiments.cli as cli
    import experiments.discover as discover
    import experiments.stability as stability
    import experiments.sweep as sweep

    work.mkdir(parents=True, exist_ok=True)
    cases = _corner_cases(work)
    # sweep folders whose analysis a live process writes: each command that analyses one is refused before it works
    from experiments.cli import main as cli_main
    from tests.test_discovery import write_tiny

    tiny, discovered, empty = write_tiny(work), work / "busy-discovery", work / "busy-sweep"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["discover", str(tiny), "--out", str(discovered), "--workers", "1", "--no-progress"]) == 0
    empty.mkdir()
    sweep_holder = subprocess.Popen([sys.executable, "-c", BUSY_SWEEP_HOLDER, str(discovered), str(empty)],
                                    stdout=subprocess.PIPE, text=True,
                                    env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert sweep_holder.stdout.readline().strip() == "held"
    cases += [("sweep into a busy sweep folder", ["sweep", str(work / "design.toml"), "--out", str(empty), "--workers",
                                                  "1", "--no-progress"]),
              ("sensitivity into a busy sweep folder", [*_out_locked(work)["sensitivity --until-stable"][:2],
                                                        "--out", str(empty), "--workers", "1", "--no-progress"]),
              ("discover into a busy sweep folder", ["discover", str(tiny), "--out", str(discovered), "--workers", "1",
                                                     "--no-progress"]),
              ("discover --analyse of a busy sweep folder", ["discover", "--analyse", str(discovered)])]
    busy = work / "busy"  # held by a live process: every command into it is refused before its trapped work
    holder = subprocess.Popen([sys.executable, "-c", BUSY_HOLDER, str(busy)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert holder.stdout.readline().strip() == "held"
    cases += [(f"{command} into a busy --out", [*argv, "--out", str(busy)])
              for command, argv in _out_locked(work).items()]
    servers = _servers()
    try:
        for name, (port, _) in servers.items():
            for command in ("sweep", "calibrate"):
                argv = {"sweep": ["sweep", str(work / "design.toml"), "--out", str(work / "o")],
                        "calibrate": ["calibrate", "--out", str(work / "o")]}[command]
                cases.append((f"{command} --scheduler at a {name} server", [*argv, "--scheduler",
                                                                            f"127.0.0.1:{port}"]))

        def accepted(*args, **kwargs):
            raise AssertionError("SILENTLY ACCEPTED")

        # The work is trapped after every check: a sweep's folder is opened after its scheduler is checked.
        saved = {(m, n): getattr(m, n) for m, n in ((cli, "run_comparison"), (cli, "run_tasks"),
                                                    (cli, "run_decomposition"), (cli, "calibrate_ensemble"),
                                                    (sweep.SweepFolder, "open"), (sweep, "make_client"),
                                                    (cases_module, "run_cases"), (stability, "analyse_folder"),
                                                    (discover, "analyse_folder"))}
        for m, n in saved:
            setattr(m, n, accepted)
        try:
            tally = _corner_tally(cases, work)
        finally:
            for (m, n), f in saved.items():
                setattr(m, n, f)
    finally:
        for _, close in servers.values():
            close()
        for process in (holder, sweep_holder):
            process.kill()
            process.wait(timeout=30)
    tally.update(_corner_subprocesses(work))
    return tally


def _corner_tally(cases, work: Path) -> dict:
    tally = {"cases": len(cases), "tracebacks": 0, "silent acceptances": 0, "not exit 2": 0, "not one line": 0,
             "wrote something": 0, "slowest seconds": 0.0}
    examples = []
    here = os.getcwd()
    os.chdir(work)  # relative paths that got through would be written here, and counted
    before = set(os.listdir(work))
    try:
        for name, argv in cases:
            _corner_one(name, argv, work, before, tally, examples)
    finally:
        os.chdir(here)
    tally["examples"] = examples
    return tally


def one_line(message) -> str:
    return " ".join(str(message).split())


def _corner_one(name: str, argv: list[str], work: Path, before: set, tally: dict, examples: list) -> None:
    import experiments.cli as cli

    stream = io.StringIO()
    problem = None
    started = time.monotonic()
    with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code
        except AssertionError as exc:
            code, problem = None, str(exc)
        except Exception as exc:
            code, problem = None, f"TRACEBACK {type(exc).__name__}: {exc}"
    tally["slowest seconds"] = max(tally["slowest seconds"], round(time.monotonic() - started, 1))
    lines = stream.getvalue().strip().splitlines()
    written = set(os.listdir(work)) - before
    faults = []
    if problem and problem.startswith("TRACEBACK"):
        faults.append("tracebacks")
    elif problem:
        faults.append("silent acceptances")
    if code != 2:
        faults.append("not exit 2")
    if len(lines) != 1 or not lines[0].startswith("ontschot: error: "):
        faults.append("not one line")
    if written:
        faults.append("wrote something")
        for entry in written:
            shutil.rmtree(work / entry, ignore_errors=True)
            with contextlib.suppress(OSError):
                (work / entry).unlink()
    for fault in faults:
        tally[fault] += 1
    if faults and len(examples) < 6:
        examples.append((name, faults, problem, stream.getvalue()[:160]))


def _corner_subprocesses(work: Path) -> dict:
    """Through the installed command: a full stdout, the page's address, worker processes that cannot start."""
    out = {"full stdout: cases": 0, "full stdout: faults": 0, "page: cases": 0, "page: faults": 0}
    import socket

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out.update(_workers_that_cannot_start(work, env))
    if Path("/dev/full").exists():
        for argv in (["params"], ["params", "--json"], ["verify", str(work), "--json"],
                     ["run", "--no-explain", "--json", "--out", str(work / "full"), "--set", "scenario.inhabitants=2000",
                      "--years", "3", "--replications", "2", "--no-progress"]):
            with open("/dev/full", "w") as full:
                proc = subprocess.run([str(EXE), *argv], stdout=full, stderr=subprocess.PIPE, text=True, timeout=900,
                                      env=env)
            lines = proc.stderr.strip().splitlines()
            out["full stdout: cases"] += 1
            fine = len(lines) == 1 and "standard output cannot be written" in lines[0]
            # verify of a non-sweep folder says so before printing anything: its own one line
            fine = fine or (argv[0] == "verify" and len(lines) == 1 and proc.returncode == 2)
            out["full stdout: faults"] += not (fine and proc.returncode == 2)
        shutil.rmtree(work / "full", ignore_errors=True)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        for argv in (["page", "--port", str(port)], ["page", "--host", "no-such-host.invalid"],
                     ["page", "--host", "192.0.2.1"], ["page", "--host", " "], ["page", "--host", "::1x"],
                     ["page", "--host", "127.0.0.1", "--port", str(port)]):
            try:
                proc = subprocess.run([str(EXE), *argv], capture_output=True, text=True, timeout=60, env=env)
                ok = proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and \
                    "Traceback" not in proc.stderr
            except subprocess.TimeoutExpired:  # the server started: not refused
                ok = False
            out["page: cases"] += 1
            out["page: faults"] += not ok
    return out


def _workers_that_cannot_start(work: Path, env: dict) -> dict:
    """sweep, sensitivity and discover whose local worker processes exit as they start (a ``sitecustomize`` does it):
    one line naming the workers' log, which holds their words; exit 2; no traceback."""
    from tests.test_cli_corners import FAILING_CHILDREN
    from tests.test_discovery import write_tiny
    from tests.test_sensitivity import GROW
    from tests.test_sweep import write_design

    site, logs = work / "failing-site", work / "failing-logs"
    site.mkdir()
    logs.mkdir()
    (site / "sitecustomize.py").write_text(FAILING_CHILDREN)
    (work / "grow-failing.toml").write_text(GROW)
    designs = {"sweep": write_design(work, name="failing.toml"), "sensitivity": work / "grow-failing.toml",
               "discover": write_tiny(work, name="tiny-failing.toml")}
    tally = {"workers cannot start: cases": 0, "workers cannot start: faults": 0}
    for command, design in designs.items():
        for log in logs.glob("ontschot-dask-workers-*.log"):
            log.unlink()
        proc = subprocess.run([str(EXE), command, str(design), "--out", str(work / f"failing-{command}"), "--workers",
                               "1", "--no-progress"], capture_output=True, text=True, timeout=600,
                              env={**env, "PYTHONPATH": f"{site}{os.pathsep}{env['PYTHONPATH']}", "TMPDIR": str(logs)})
        lines = proc.stderr.strip().splitlines()
        named = [log for log in logs.glob("ontschot-dask-workers-*.log") if len(lines) == 1 and str(log) in lines[0]]
        ok = proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr and len(named) == 1 and \
            "cannot start" in named[0].read_text()
        tally["workers cannot start: cases"] += 1
        tally["workers cannot start: faults"] += not ok
    return tally


def signals(work: Path, n: int, rng: random.Random) -> dict:
    """Ctrl-C at random moments of run, sweep, explain and report under a pseudo-terminal."""
    from tests.test_cli_corners import error_lines, last_child, left_behind, under_pty
    from tests.test_sweep import write_design

    work.mkdir(parents=True, exist_ok=True)
    env_exe = str(EXE)
    report_source = work / "runs"
    subprocess.run([env_exe, "run", "--no-explain", "--out", str(report_source), "--set", "scenario.inhabitants=3000",
                    "--years", "3", "--replications", "2", "--no-progress"], capture_output=True, timeout=900,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    folder = next(p for p in report_source.iterdir() if not p.name.startswith("."))
    design = write_design(work, places="[10, 20, 30]", years=4)
    commands = {
        "run": ([env_exe, "run", "--out", str(work / "r"), "--set", "scenario.inhabitants=5000", "--years", "5",
                 "--replications", "4", "--workers", "2"], 25.0),
        "sweep": ([env_exe, "sweep", str(design), "--out", "OUT", "--workers", "2"], 25.0),
        "explain": ([env_exe, "explain", "--out", "OUT", "--set", "scenario.inhabitants=4000", "--years",
                     "4", "--replications", "3", "--workers", "2"], 25.0),
        "report": ([env_exe, "report", str(folder), "--out", "OUT"], 6.0),
    }
    tally = {"presses": 0, "one line, exit 130": 0, "finished before the press": 0, "tracebacks": 0,
             "more than one line": 0, "wrong exit": 0, "processes left behind": 0, "slowest stop seconds": 0.0}
    examples = []
    for k in range(n):
        name = list(commands)[k % len(commands)]
        argv, longest = commands[name]
        argv = [str(work / (f"report-{k}.html" if name == "report" else f"{name}-{k}")) if a == "OUT" else a
                for a in argv]
        after = rng.uniform(0.1, longest)
        started = time.monotonic()
        code, text = under_pty(argv, after, work)
        stop = time.monotonic() - started - after
        tally["processes left behind"] += left_behind(last_child[0])  # alive 15 s after the command ended
        tally["presses"] += 1
        lines = error_lines(text)
        fault = None
        if "Traceback" in text:
            tally["tracebacks"] += 1
            fault = "traceback"
        if code == 130:
            if lines == [INTERRUPTED_LINE]:
                tally["one line, exit 130"] += 1
            else:
                tally["more than one line"] += 1
                fault = fault or "lines"
            tally["slowest stop seconds"] = max(tally["slowest stop seconds"], round(stop, 1))
            tally.setdefault("slowest stop by command", {})
            tally["slowest stop by command"][name] = max(tally["slowest stop by command"].get(name, 0.0),
                                                         round(stop, 1))
        elif code == 0 and stop < 0:
            tally["finished before the press"] += 1
        else:
            tally["wrong exit"] += 1
            fault = fault or f"exit {code}"
        if fault and len(examples) < 4:
            examples.append((name, round(after, 1), fault, text[-400:]))
    tally["examples"] = examples
    return tally


INTERRUPTED_LINE = "ontschot: interrupted; what was saved stays (a sweep resumes with the same command)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="fuzz seeds (each ~310 inputs)")
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--early-kills", type=int, default=5)
    parser.add_argument("--worker-kills", type=int, default=3)
    parser.add_argument("--corrupt", type=int, default=20)
    parser.add_argument("--page-actions", type=int, default=300, help="hostile values into the page's controls")
    parser.add_argument("--page-api", type=int, default=200, help="hostile calls of the page's session API")
    parser.add_argument("--sample", type=int, default=1, help="stored files: every K-th tampered run folder")
    parser.add_argument("--no-file-kinds", action="store_true", help="stored files: leave out pipes, devices and "
                        "oversized files (for measuring code without the checks, which hangs or exhausts memory)")
    parser.add_argument("--presses", type=int, default=16, help="Ctrl-C presses of the signals surface")
    parser.add_argument("--only", metavar="NAMES", default=None,
                        help="comma-separated surfaces to run (default: all), e.g. 'bad inputs,CLI corners,signals'")
    args = parser.parse_args()
    rng = random.Random(20261201)
    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    steps = {
        "bad inputs": lambda: bad_inputs(work / "inputs", args.seeds),
        "driver kills": lambda: kills(work / "kills", args.kills, args.early_kills, rng),
        "worker deaths": lambda: worker_deaths(work / "workers", args.worker_kills),
        "corrupt run files": lambda: corrupt(work / "corrupt", args.corrupt, rng),
        "full and read-only disks": lambda: disks(work / "disks"),
        "two sweeps on one folder": lambda: concurrent(work / "concurrent"),
        "page controls": lambda: page_controls(args.page_actions, args.page_api, rng),
        "stored files": lambda: stored_files(work / "stored", kinds=not args.no_file_kinds,
                                                    sample=args.sample),
        "CLI corners": lambda: cli_corners(work / "corners"),
        "signals": lambda: signals(work / "signals", args.presses, rng),
    }
    chosen = [n.strip() for n in args.only.split(",")] if args.only else list(steps)
    unknown = [n for n in chosen if n not in steps]
    if unknown:
        parser.error(f"--only: unknown surface(s) {unknown}; choose from {list(steps)}")
    for folder in ("inputs", "kills", "workers", "corrupt", "disks", "concurrent", "stored"):
        (work / folder).mkdir()
    for name in chosen:
        step = steps[name]
        started = time.time()
        result = step()
        print(f"{name} ({time.time() - started:.0f} s): {json.dumps(result, default=str)}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
