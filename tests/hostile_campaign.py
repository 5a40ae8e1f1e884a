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
- CLI corners (issue 22): every path option given symbolic-link loops, over-long names and paths, empty,
  blank and control-character names; scheduler addresses of every wrong form, unknown hosts, closed ports
  and servers that are not Dask; validate within the burn-in; design names with control characters; a
  full stdout and the page's address through the installed command;
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


def cli_corners(work: Path) -> dict:
    """Issue 22's corners and their variations: tally tracebacks, multi-line messages, silent acceptances, exits."""
    import experiments.cases as cases_module
    import experiments.cli as cli
    import experiments.sweep as sweep

    work.mkdir(parents=True, exist_ok=True)
    cases = _corner_cases(work)
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
                                                    (cases_module, "run_cases"))}
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
    """Through the installed command: a full stdout, and the page's address."""
    out = {"full stdout: cases": 0, "full stdout: faults": 0, "page: cases": 0, "page: faults": 0}
    import socket

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
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
        "CLI corners": lambda: cli_corners(work / "corners"),
        "signals": lambda: signals(work / "signals", args.presses, rng),
    }
    chosen = [n.strip() for n in args.only.split(",")] if args.only else list(steps)
    unknown = [n for n in chosen if n not in steps]
    if unknown:
        parser.error(f"--only: unknown surface(s) {unknown}; choose from {list(steps)}")
    for folder in ("inputs", "kills", "workers", "corrupt", "disks", "concurrent"):
        (work / folder).mkdir()
    for name in chosen:
        step = steps[name]
        started = time.time()
        result = step()
        print(f"{name} ({time.time() - started:.0f} s): {json.dumps(result, default=str)}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
