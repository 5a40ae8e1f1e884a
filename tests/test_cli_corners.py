"""The command line's corners (issue 22): each is one line on stderr, exit 2, before any work; Ctrl-C is one line, 130.

Paths (symbolic-link loops, names over NAME_MAX, paths over PATH_MAX, empty, blank and control characters),
scheduler addresses (against a silent server, a garbage server and a real Dask scheduler on loopback), the
page's host and port, validate within the burn-in, report --latest with a numeric creation time, a design
name with a newline, a full standard output, and Ctrl-C under a real pseudo-terminal during a sweep and a run.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import experiments.cli as cli
import experiments.sweep as sweep
from experiments.cli import main
from experiments.scheduler import check_scheduler
from model.parameters import InputError
from tests.test_sweep import write_design

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("ontschot")
SMALL = ["--set", "scenario.inhabitants=2000", "--years", "3", "--replications", "2", "--no-progress"]


@pytest.fixture
def trapped(monkeypatch):
    """Nothing may run: an input that got through would call one of these."""

    def ran(*a, **k):
        raise AssertionError("SILENTLY ACCEPTED: the command started its work")

    for name in ("run_comparison", "run_tasks", "run_decomposition"):
        monkeypatch.setattr(cli, name, ran)
    monkeypatch.setattr(sweep, "run_sweep", ran)
    monkeypatch.setattr(sweep, "make_client", ran)


def one_error(capsys, code, fragment: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("ontschot: error: "), err
    assert fragment in lines[0], err
    return lines[0]


def call(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def loop(tmp_path):
    link = tmp_path / "loop"
    link.symlink_to("loop")
    return link


@pytest.mark.parametrize("command", ["run", "explain", "validate", "sweep", "report", "report --latest",
                                     "report --out", "cases", "calibrate", "query --csv", "discover"])
def test_a_symbolic_link_loop_in_a_path_is_one_line(tmp_path, capsys, trapped, loop, command):
    design = write_design(tmp_path)
    target = str(loop / "x")
    argv = {"run": ["run", "--out", target], "explain": ["explain", "--out", target],
            "validate": ["validate", "--out", target], "sweep": ["sweep", str(design), "--out", target],
            "report": ["report", target], "report --latest": ["report", "--latest", str(loop)],
            "report --out": ["report", str(tmp_path), "--out", target], "cases": ["cases", "--out", target],
            "calibrate": ["calibrate", "--out", target], "query --csv": ["query", str(tmp_path), "x", "--csv", target],
            "discover": ["discover", str(design), "--out", target]}[command]
    one_error(capsys, call(argv), "is a symbolic-link loop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.toml", "loop"]


@pytest.mark.parametrize(("value", "fragment"), [
    ("a" * 300, "is 300 bytes long; a file name holds at most 255"),
    ("/".join(["b" * 200] * 22), "a path holds at most 4,095"),
    ("", "the path is empty"),
    (" ", "the path is blank"),
    ("x/ /y", "a part of the path is blank"),
    ("a\nb", "control character (U+000A)"),
    ("a\tb", "control character (U+0009)"),
    ("a\u2028b", "control character (U+2028)"),
    ("new ", "begins or ends with a space"),
])
@pytest.mark.parametrize("command", ["run", "sweep", "report"])
def test_bad_path_names_are_one_line_and_write_nothing(tmp_path, capsys, trapped, monkeypatch, value, fragment,
                                                        command):
    monkeypatch.chdir(tmp_path)
    design = write_design(tmp_path)
    argv = {"run": ["run", "--out", value], "sweep": ["sweep", str(design), "--out", value],
            "report": ["report", str(tmp_path), "--out", value]}[command]
    one_error(capsys, call(argv), fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.toml"]


def test_an_output_folder_too_deep_for_what_is_written_below_it(tmp_path, capsys, trapped):
    room = 3950 - len(str(tmp_path))  # under PATH_MAX (4,095 bytes) itself, but a run folder's files would not fit
    deep = tmp_path / "/".join(["c" * 250] * (room // 251) + ["d" * (room % 251 or 1)])
    one_error(capsys, call(["run", "--out", str(deep)]), "what is written below it needs up to 256 more")


@pytest.mark.parametrize(("argv", "fragment"), [
    (["report", "RESULTS"], "results folder"), (["audit", "RESULTS"], "results folder"),
    (["verify", "RESULTS"], "folder"), (["query", "RESULTS", "select 1"], "folder"),
    (["run", "--practices", "RESULTS"], "--practices"), (["run", "--ensemble", "RESULTS"], "--ensemble"),
    (["cases", "--from", "RESULTS"], "--from"), (["cases", "--doc", "RESULTS"], "--doc"),
    (["discover", "--analyse", "RESULTS"], "--analyse"), (["sweep", "RESULTS", "--out", "o"], "design file"),
])
def test_every_path_option_is_checked(tmp_path, capsys, trapped, loop, argv, fragment):
    argv = [str(loop) if a == "RESULTS" else a for a in argv]
    line = one_error(capsys, call(argv), "is a symbolic-link loop")
    assert line.startswith(f"ontschot: error: {fragment} ")
    empty = [("" if a == str(loop) else a) for a in argv]
    one_error(capsys, call(empty), "is not allowed: the path is empty")


def test_validate_and_calibrate_refuse_a_horizon_within_the_burn_in(tmp_path, capsys, trapped):
    for years in ("1", "2"):
        one_error(capsys, call(["validate", "--years", years, "--out", str(tmp_path / "o")]),
                  f"--years {years} is not allowed for validate: the first 2 years are left out as burn-in")
    one_error(capsys, call(["validate", "--set", "scenario.years=2", "--out", str(tmp_path / "o")]),
              "'scenario.years' = 2 (from --set or --scenario) is not allowed for validate")
    one_error(capsys, call(["calibrate", "--years", "1", "--out", str(tmp_path / "o")]),
              "is not allowed for calibrate")
    assert not (tmp_path / "o").exists()


def test_validate_at_three_years_works(tmp_path, capsys):
    assert main(["validate", "--out", str(tmp_path), "--json", *SMALL]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["years"] == 3


def test_report_latest_takes_a_numeric_creation_time_as_oldest(tmp_path, capsys, monkeypatch):
    import analysis.report.load as load

    for name, created in (("a", 1733000000), ("b", "2026-01-01T00:00:00+00:00"), ("c", None)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"created": created}))
        (tmp_path / name / "results.parquet").write_bytes(b"")
    assert load.latest_run(tmp_path).name == "b"


def test_a_design_name_with_a_newline_is_refused(tmp_path, capsys, trapped):
    design = tmp_path / "d.toml"
    design.write_text(write_design(tmp_path).read_text().replace('name = "tiny"', 'name = "ti\\nny"'))
    one_error(capsys, call(["sweep", str(design), "--out", str(tmp_path / "o")]),
              "expected a name of 1 to 200 characters, on one line (no control characters)")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- scheduler addresses


def serve(behaviour: str):
    """A loopback TCP server that accepts and says nothing, or sends garbage; its port and a stop function."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def loop():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            if behaviour == "garbage":
                conn.sendall(b"\xff" * 64 + b"HTTP/1.0 200 OK\r\n\r\n")
            elif behaviour == "small garbage":
                conn.sendall((40).to_bytes(8, "little") + b"\x07" * 40)
            elif behaviour == "http":
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def close():
        stop.set()
        thread.join()
        for c in held:
            c.close()
        server.close()

    return server.getsockname()[1], close


@pytest.mark.parametrize(("behaviour", "fragment"), [
    ("silent", "no Dask greeting within 5 s"), ("garbage", "answers but is not a Dask scheduler"),
    ("small garbage", "answers but is not a Dask scheduler"), ("http", "answers but is not a Dask scheduler"),
])
def test_a_scheduler_that_is_not_dask_is_one_line_within_the_timeout(tmp_path, capsys, behaviour, fragment):
    port, close = serve(behaviour)
    try:
        out = tmp_path / "out"
        started = time.monotonic()
        code = call(["sweep", str(write_design(tmp_path)), "--out", str(out), "--scheduler",
                     f"tcp://127.0.0.1:{port}", "--no-progress"])
        elapsed = time.monotonic() - started
    finally:
        close()
    one_error(capsys, code, fragment)
    assert elapsed < 9 and not out.exists()


@pytest.mark.parametrize(("address", "fragment"), [
    ("", "the address is empty"), (" ", "the address is empty"), ("tls://127.0.0.1:8786", "TLS needs certificates"),
    ("http://127.0.0.1:8786", "expected tcp://HOST:PORT or HOST:PORT"), ("tcp://127.0.0.1", "expected tcp://"),
    ("tcp://127.0.0.1:8786/x", "expected tcp://"), ("tcp://127.0.0.1:99999", "expected tcp://"),
    ("tcp://h:1\n", "control characters"),
])
@pytest.mark.parametrize("command", ["sweep", "run", "calibrate", "discover"])
def test_scheduler_forms_are_refused_before_anything(tmp_path, capsys, trapped, address, fragment, command):
    design = write_design(tmp_path)
    argv = {"sweep": ["sweep", str(design), "--out", str(tmp_path / "o")],
            "run": ["run", "--ensemble", "--out", str(tmp_path / "o")],
            "calibrate": ["calibrate", "--out", str(tmp_path / "o")],
            "discover": ["discover", str(design), "--out", str(tmp_path / "o")]}[command]
    one_error(capsys, call([*argv, "--scheduler", address]), fragment)
    assert not (tmp_path / "o").exists()


def test_an_unknown_host_and_a_port_that_never_answers_fail_within_the_timeout():
    with pytest.raises(InputError, match="is not known"):
        check_scheduler("tcp://no-such-host.invalid:8786")
    started = time.monotonic()
    with pytest.raises(InputError, match="cannot be reached"):
        check_scheduler("tcp://10.255.255.1:8786", timeout=1)  # a private address nobody routes: no answer
    assert time.monotonic() - started < 3


def test_a_real_dask_scheduler_passes_and_its_worker_does_not(tmp_path, capsys):
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        address = cluster.scheduler_address
        assert check_scheduler(address) == address
        assert check_scheduler(address.removeprefix("tcp://")) == address
        worker = next(iter(client.scheduler_info()["workers"]))
        with pytest.raises(InputError, match="is a Dask worker, not a scheduler"):
            check_scheduler(worker)
        out = tmp_path / "out"
        assert main(["sweep", str(write_design(tmp_path, places="[10]", years=2, inhabitants=2000)), "--out", str(out),
                     "--scheduler", address, "--no-progress"]) == 0
    assert len(list((out / "runs").glob("*.parquet"))) == 4


def test_a_dask_scheduler_command_on_loopback_passes(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dask")), "scheduler", "--host", "127.0.0.1",
                             "--port", str(port), "--no-dashboard"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert check_scheduler(f"127.0.0.1:{port}") == f"tcp://127.0.0.1:{port}"
                break
            except InputError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


# ---------------------------------------------------------------- the page server's address


def test_page_refuses_a_busy_port_and_a_host_not_of_this_machine(capsys, monkeypatch):
    from analysis.page import server

    monkeypatch.setattr(server, "serve", lambda *a: pytest.fail("the server must not start"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        one_error(capsys, call(["page", "--port", str(port)]), f"another program already listens on port {port}")
    one_error(capsys, call(["page", "--host", "no-such-host.invalid"]), "the name does not resolve")
    one_error(capsys, call(["page", "--host", "192.0.2.1"]), "it is not an address of this machine")
    one_error(capsys, call(["page", "--host", " "]), "expected a name or address of this machine")
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- a full standard output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["params", "--json"], ["run", "--no-explain", "--json", "--out", "OUT", *SMALL]])
def test_a_full_stdout_is_one_line_exit_2(tmp_path, argv):
    argv = [str(tmp_path / "o") if a == "OUT" else a for a in argv]
    with open("/dev/full", "w") as full:
        proc = subprocess.run([str(EXE), *argv], stdout=full, stderr=subprocess.PIPE, text=True, timeout=600,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "standard output cannot be written (No space left on device)" in lines[0], proc.stderr


# ---------------------------------------------------------------- Ctrl-C under a pseudo-terminal


last_child = [0]  # the session id (= pid) of the last command run under a pty


def under_pty(argv: list[str], after: float, cwd: Path, wait: float = 240) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, press Ctrl-C (SIGINT to its foreground group) after ``after`` seconds.

    Returns the exit status (a process killed by SIGINT counts as 130, as a shell shows it) and all it printed.
    """
    pid, fd = pty.fork()
    last_child[0] = pid
    if pid == 0:  # the child: its own session, the pty its terminal
        os.chdir(cwd)
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(argv[0], argv)
    out, started, sent, status = b"", time.monotonic(), False, None
    while status is None:
        if not sent and time.monotonic() - started >= after:
            os.killpg(os.getpgid(pid), signal.SIGINT)  # as the terminal's Ctrl-C does
            sent = True
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                pass
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
        elif time.monotonic() - started > wait:
            os.kill(pid, signal.SIGKILL)
    try:
        while select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    return (130 if code == -signal.SIGINT else code), out.decode(errors="replace")


def session_processes(sid: int) -> list[int]:
    """The live processes of a session (zombies aside)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid and " Z " not in (entry / "stat").read_text().split(")", 1)[1][:4]:
                found.append(int(entry.name))
        except (ProcessLookupError, PermissionError, FileNotFoundError, IndexError):
            continue
    return found


def left_behind(pid: int, grace: float = 15.0) -> int:
    """Processes of the session a pty child led still alive ``grace`` seconds after it ended (orphaned workers).

    They are killed here, and their number returned (a worker's own exit after its driver's takes a moment).
    """
    deadline = time.monotonic() + grace
    while session_processes(pid) and time.monotonic() < deadline:
        time.sleep(0.25)
    found = session_processes(pid)
    for other in found:
        try:
            os.kill(other, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(found)


def error_lines(text: str) -> list[str]:
    """What a Ctrl-C left on the terminal but the echoed ^C and progress bars: the error lines."""
    lines = [line.replace("^C", "").strip() for line in text.replace("\r", "\n").splitlines()]
    return [line for line in lines if line and "%|" not in line and "it/s" not in line]


@pytest.mark.parametrize(("command", "after"), [("sweep", 3.0), ("sweep", 9.0), ("run", 4.0), ("run", 8.0)])
def test_ctrl_c_under_a_terminal_is_one_line_exit_130(tmp_path, command, after):
    # each command has far more work than any machine finishes before the last press (the sweep 160 runs of 30,000
    # inhabitants over 15 years, the run 3 arms x 40 replications: many minutes on two cores), so the press always
    # lands while it works; the press ends it, so the size costs nothing
    if command == "sweep":
        places = str(list(range(5, 205, 5)))
        argv = [str(EXE), "sweep", str(write_design(tmp_path, inhabitants=30000, places=places, years=15)), "--out",
                str(tmp_path / "s"), "--workers", "2"]
    else:
        argv = [str(EXE), "run", "--out", str(tmp_path / "r"), "--set", "scenario.inhabitants=30000", "--years", "15",
                "--replications", "40", "--workers", "2"]
    started = time.monotonic()
    code, text = under_pty(argv, after, tmp_path)
    took = time.monotonic() - started
    lines = error_lines(text)
    assert left_behind(last_child[0]) == 0, "worker processes outlived the command"
    assert took < after + 60, f"the command went on for {took - after:.0f} s after the press"
    assert code == 130, text[-3000:]
    assert lines == ["ontschot: interrupted; what was saved stays (a sweep resumes with the same command)"], \
        text[-3000:]
    assert "Traceback" not in text


# ------------------------------------------------------------------ the worker processes' stderr: a log, not the void

FAILING_CHILDREN = """
import os, sys
KEY = "ONTSCHOT_TEST_FAIL_CHILDREN_OF"  # the first Python process (the driver) names itself; its children fail
if KEY not in os.environ:
    os.environ[KEY] = str(os.getpid())
elif os.environ[KEY] == str(os.getppid()):
    sys.stderr.write("simulated: this worker process cannot start\\n")
    sys.stderr.flush()
    os._exit(3)
"""


def test_what_a_worker_process_writes_to_stderr_goes_to_the_log_not_the_terminal(capfd):
    from experiments.cli_guards import workers_stderr_logged

    with workers_stderr_logged() as log:
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('a worker says: cannot start\\n')"],
                       check=True, timeout=60)
    os.write(2, b"the driver's own line\n")  # fd 2 is the driver's own again
    err = capfd.readouterr().err
    try:
        assert log is not None and "a worker says: cannot start" in log.read_text()
        assert "a worker says" not in err and "the driver's own line" in err
        assert "the driver's own line" not in log.read_text()
    finally:
        if log is not None:
            log.unlink()


def test_a_cluster_whose_workers_cannot_start_is_one_line_naming_their_log(tmp_path):
    """Real worker processes that fail as they start (a sitecustomize makes every child of the driver exit)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FAILING_CHILDREN)
    logs = tmp_path / "tmp"
    logs.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "TMPDIR": str(logs)}
    env.pop("ONTSCHOT_TEST_FAIL_CHILDREN_OF", None)
    out = tmp_path / "sweep"
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "sweep", str(write_design(tmp_path)), "--out",
                           str(out), "--workers", "1", "--no-progress"], capture_output=True, text=True, timeout=300,
                          env=env, cwd=ROOT)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("ontschot: error: the local Dask cluster of 1 worker process(es) could not start")
    (log,) = logs.glob("ontschot-dask-workers-*.log")
    assert f"what its processes wrote is in '{log}'" in lines[0] and lines[0].endswith("no run was started")
    assert "simulated: this worker process cannot start" in log.read_text()  # the worker's own words, kept
    assert not list((out / "runs").glob("*.parquet"))


def test_a_cluster_that_starts_leaves_no_log_behind_and_nothing_on_the_terminal(tmp_path, monkeypatch, capfd):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client, cluster = sweep.make_client(1)
    try:
        assert client.submit(sum, [1, 2]).result(timeout=60) == 3
    finally:
        client.close()
        cluster.close()
    assert not list(tmp_path.glob("ontschot-dask-workers-*"))  # removed once started: logs do not pile up
    assert capfd.readouterr().err == ""
