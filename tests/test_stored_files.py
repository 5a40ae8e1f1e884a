"""Stored folders as a hostile user leaves them (issue #22): every finding reproduced on a small real run and sweep.

Each test fails on the code before ``experiments/stored.py``: a report that deleted a ``_files``
folder it never made, a ``sweep.lock`` link whose target was overwritten, a second ``ontschot run``
that computed everything before it was refused, tampered folders drawn without a word, unescaped
names in the page, mathtext in figures, and ``verify`` hanging on a named pipe or reading
``/dev/zero`` without end. The hypothesis tests fuzz the stored JSON and CSV files: whatever they
hold, reading them ends in a result or in one ``InputError``, never another exception.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.report import build_report, report_paths
from analysis.report.build import FILES_MARKER, GENERATOR_META, OLD_GENERATOR_META, page_verifies, stamp_page
from analysis.report.load import load_results
from experiments import stored
from experiments.cli import main
from experiments.lock import LOCK_NAME, RUN_LOCK, FolderLock, read_holder
from experiments.sweep import verify_folder
from model.parameters import InputError

ROOT = Path(__file__).resolve().parent.parent
RUN = ["--set", "scenario.inhabitants=2000", "--years", "3", "--replications", "2", "--no-progress", "--workers", "1"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
GUARD = 60  # seconds: a command that has not answered by then hangs
DESIGN = """
name = "stored"
regimes = ["compartmentalised", "integrated"]
replications = 1
seed = 3
[base]
"scenario.inhabitants" = 2000
"scenario.years" = 2
[vary]
"scenario.social_firm_places" = [4, 8]
"""


def cli(*args: str, timeout: float = GUARD) -> subprocess.CompletedProcess:
    """The command line in its own process, stopped after ``timeout`` seconds (a hang fails, it does not block)."""
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, cwd=ROOT)


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ontschot: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two small real runs as `ontschot run` stores them (seeds 5 and 6), and their report."""
    parent = tmp_path_factory.mktemp("stored-runs")
    out = {}
    for seed in (5, 6):
        assert main(["run", "--out", str(parent / str(seed)), "--seed", str(seed), *RUN]) == 0
        (out[seed],) = [p for p in (parent / str(seed)).iterdir() if p.is_dir()]
    return {"a": out[5], "b": out[6]}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A tiny real sweep folder (4 runs)."""
    folder = tmp_path_factory.mktemp("stored-sweep")
    (folder / "d.toml").write_text(DESIGN)
    done = cli("sweep", str(folder / "d.toml"), "--out", str(folder / "out"), "--workers", "1", "--no-progress",
               timeout=300)
    assert done.returncode == 0, done.stderr
    return folder / "out"


def copy(folder: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("report*"))
    return target


def restamp(folder: Path) -> None:
    """Record results.parquet's hash in the manifest again (so the checks after the hash are the ones exercised)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {"results.parquet": stored.sha256((folder / "results.parquet").read_bytes())}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def edit_results(folder: Path, change) -> None:
    frame = pd.read_parquet(folder / "results.parquet")
    change(frame).to_parquet(folder / "results.parquet", index=False)
    restamp(folder)


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def report_refused(folder: Path, capsys, *needles: str) -> str:
    out = folder.parent / f"{folder.name}.html"
    code = main(["report", str(folder), "--out", str(out)])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2, line
    assert not out.exists() and not report_paths(out)[1].exists()
    for needle in needles:
        assert needle in line, line
    return line


# ------------------------------------------------------------------ the report never destroys what it did not write


def test_a_notes_files_folder_the_program_never_made_is_kept_and_the_report_refused(runs, tmp_path, capsys):
    page, files = tmp_path / "notes.html", tmp_path / "notes_files"
    files.mkdir()
    (files / "saved.css").write_text("body{}")  # a browser's 'Save page as'
    own = stamp_page("<html><head></head>a page the program wrote</html>")  # the page passes: the folder is refused
    page.write_bytes(own)
    code = main(["report", str(runs["a"]), "--out", str(page)])
    line = one_line_error(capsys.readouterr().err)
    assert code == 2 and "notes_files" in line and FILES_MARKER in line
    assert (files / "saved.css").read_text() == "body{}" and sorted(p.name for p in files.iterdir()) == ["saved.css"]
    assert page.read_bytes() == own


def test_a_page_the_program_did_not_write_is_kept_and_its_own_page_is_replaced(runs, tmp_path, capsys):
    page = tmp_path / "mine.html"
    page.write_text("<html><head><title>my notes</title></head></html>")
    assert main(["report", str(runs["a"]), "--out", str(page)]) == 2
    assert "generator tag" in one_line_error(capsys.readouterr().err)
    assert page.read_text() == "<html><head><title>my notes</title></head></html>"
    own = tmp_path / "own.html"
    for _ in range(2):  # the report's own page and folder are replaced
        assert main(["report", str(runs["a"]), "--out", str(own)]) == 0
        capsys.readouterr()
        assert GENERATOR_META in own.read_text()[:4096] and (report_paths(own)[1] / FILES_MARKER).is_file()
        assert page_verifies(own.read_bytes())
    link = tmp_path / "link.html"
    link.symlink_to(own)
    assert main(["report", str(runs["a"]), "--out", str(link)]) == 2
    assert "symbolic link" in one_line_error(capsys.readouterr().err)


def test_the_generator_tag_holds_the_digest_of_the_page_bytes_and_any_change_breaks_it():
    text = "<!DOCTYPE html><html lang='ë'><head><title>€ 3,7 mln</title></head><body>één</body></html>"
    page = stamp_page(text)
    assert page_verifies(page) and page.count(GENERATOR_META.encode()) == 1
    at = page.index(GENERATOR_META.encode()) + len(GENERATOR_META)
    digest = page[at:at + 64]
    assert page[:at] + page[at + 64:] == text.replace("<head>", f"<head>{GENERATOR_META}'>").encode()
    assert stored.sha256(page[:at] + page[at + 64:]).encode() == digest
    for changed in (page.replace("één".encode(), "een".encode()), page + b"\n", page.replace(b"><body>", b">\n<body>"),
                    page.replace(digest, digest.upper()), page.replace(digest, b"0" * 64), page[:-1],
                    page.replace(GENERATOR_META.encode() + digest, OLD_GENERATOR_META.encode()[:-2])):
        assert not page_verifies(changed)


def browser_copies(page: bytes) -> dict[str, bytes]:
    """What a user's or browser's copy of a report page keeps of it: the tag, not the bytes."""
    body = page.index(b"<body>")
    return {
        "one byte changed": page[:body + 10] + bytes([page[body + 10] ^ 1]) + page[body + 11:],
        "re-serialised": page.replace(b"><", b">\n<"),  # Save page as... (HTML only) rewrites the markup
        "old bare tag": page.replace(page[page.index(GENERATOR_META.encode()):page.index(b"'>", page.index(
            GENERATOR_META.encode())) + 2], OLD_GENERATOR_META.encode()),  # a report of an earlier version
    }


@pytest.mark.parametrize("kind", ["one byte changed", "re-serialised", "old bare tag"])
def test_a_copy_of_a_report_page_that_keeps_its_tag_but_not_its_bytes_is_kept(kind, runs, tmp_path, capsys):
    own = tmp_path / "own.html"
    assert main(["report", str(runs["a"]), "--out", str(own)]) == 0
    assert main(["report", str(runs["a"]), "--out", str(own)]) == 0  # the program's own page verifies: replaced
    capsys.readouterr()
    copy_page = tmp_path / "copy.html"
    blob = browser_copies(own.read_bytes())[kind]
    copy_page.write_bytes(blob)
    assert main(["report", str(runs["a"]), "--out", str(copy_page)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "copy.html" in line and "choose another --out, or remove or move it yourself" in line, line
    expected = "bare generator tag of reports written before this version" if kind == "old bare tag" else \
        "not byte for byte the page ontschot report wrote"
    assert expected in line, line
    assert copy_page.read_bytes() == blob and not report_paths(copy_page)[1].exists()


# ------------------------------------------------------------------ lock files


def test_a_symlinked_sweep_lock_never_has_its_target_overwritten(sweep, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    folder = copy(sweep, tmp_path)
    (folder / LOCK_NAME).symlink_to(target)
    with pytest.raises(stored.StoredError, match="symbolic link"):
        FolderLock(folder).acquire()
    design = tmp_path / "d.toml"
    design.write_text(DESIGN)
    done = cli("sweep", str(design), "--out", str(folder), "--workers", "1", "--no-progress")
    assert done.returncode == 2 and "symbolic link" in one_line_error(done.stderr)
    assert target.read_text() == "precious"
    (folder / LOCK_NAME).unlink()
    (folder / LOCK_NAME).symlink_to("/dev/zero")
    done = cli("verify", str(folder))
    assert done.returncode == 2 and "symbolic link" in one_line_error(done.stderr)


def test_a_symlinked_run_lock_is_refused_before_anything_runs(tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_LOCK).symlink_to(target)
    started = time.time()
    assert main(["run", "--out", str(out), *RUN]) == 2
    assert "symbolic link" in one_line_error(capsys.readouterr().err)
    assert time.time() - started < 5 and target.read_text() == "precious"
    assert [p.name for p in out.iterdir()] == [RUN_LOCK]


def test_a_second_run_into_a_busy_out_is_refused_before_it_computes(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--out", str(out), "--set", "scenario.inhabitants=30000", "--years", "10", "--replications", "3",
            "--no-progress", "--workers", "1", "--no-explain"]
    first = subprocess.Popen([sys.executable, "-m", "experiments.cli", *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    try:
        deadline = time.time() + GUARD
        while not (out / RUN_LOCK).exists() and time.time() < deadline:
            time.sleep(0.05)
        assert (out / RUN_LOCK).exists(), "the first run never took its lock"
        while read_holder(out, RUN_LOCK) is None and time.time() < deadline:  # created, its record not yet written
            time.sleep(0.05)
        assert read_holder(out, RUN_LOCK)["pid"] == first.pid
        second = cli(*args)
        assert first.poll() is None, "the first run finished before the second was refused: make it bigger"
        line = one_line_error(second.stderr)
        assert second.returncode == 2 and f"in use by pid {first.pid}" in line and RUN_LOCK in line
    finally:
        assert first.wait(timeout=600) == 0, first.stderr.read()
    assert len([p for p in out.iterdir() if p.is_dir()]) == 1  # one result folder: the first run's
    assert not (out / RUN_LOCK).exists()  # released when the first run ended


# ------------------------------------------------------------------ tampered run folders


def test_results_altered_after_the_run_are_refused_by_their_hash(runs, tmp_path, capsys):
    folder = copy(runs["a"], tmp_path)
    frame = pd.read_parquet(folder / "results.parquet")
    pd.concat([frame, frame]).to_parquet(folder / "results.parquet", index=False)  # not restamped
    report_refused(folder, capsys, "results.parquet", "SHA-256")


def test_another_runs_results_are_refused(runs, tmp_path, capsys):
    folder = copy(runs["a"], tmp_path)
    shutil.copy(runs["b"] / "results.parquet", folder / "results.parquet")
    report_refused(folder, capsys, "SHA-256")
    restamp(folder)  # even with the manifest's hash made to match: its seeds are another run's
    report_refused(folder, capsys, "seed", "another run")


@pytest.mark.parametrize("name, change, needles", [
    ("duplicated rows", lambda f: pd.concat([f, f.iloc[: len(f) // 3]]), ("given twice",)),
    ("every row twice", lambda f: pd.concat([f, f]), ("given twice",)),
    ("negated counts", lambda f: f.assign(value=np.where(f["indicator"] == "outflow_work", -f["value"], f["value"])),
     ("outflow_work", "at least 0")),
    ("an unknown indicator", lambda f: f.assign(indicator=f["indicator"].replace("benefit_stock", "<b>x</b>")),
     ("column indicator",)),
    ("a value that is not finite", lambda f: f.assign(value=f["value"].where(f.index != 7, np.inf)),
     ("finite",)),
    ("a text value", lambda f: f.assign(value=f["value"].astype(str)), ("column value",)),
    ("a year that was not simulated", lambda f: f.assign(year=f["year"] + 10), ("years",)),
    ("a replication removed", lambda f: f[f["replication"] == 0], ("replications",)),
    ("an arm renamed", lambda f: f.assign(arm=f["arm"].replace("integrated", "other")), ("arms",)),
    ("rows of one arm removed", lambda f: f[~((f["arm"] == "integrated") & (f["indicator"] == "firm_places"))],
     ("numbers of rows",)),
])
def test_a_tampered_results_file_is_refused_in_one_line(runs, tmp_path, capsys, name, change, needles):
    folder = copy(runs["a"], tmp_path)
    edit_results(folder, change)
    report_refused(folder, capsys, "results.parquet", *needles)


def _set(path: tuple, value):
    def change(manifest):
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("path, value, needle", [
    (("parameters", "scenario.inhabitants"), 10**15, "scenario.inhabitants"),
    (("parameters", "scenario.inhabitants"), "30000", "scenario.inhabitants"),
    (("parameters", "staff.salary"), -70000.0, "staff.salary"),
    (("arm_parameters", "integrated", "staff.salary"), -1.0, "staff.salary"),
    (("parameters",), "none", "lists no parameters"),
    (("arms",), 5, "arms"),
    (("arms", 0, "name"), 7, "arms[0].name"),
    (("arms", 0, "regime"), "<script>", "arms[0].regime"),
    (("arms", 0, "pooled_share"), "half", "pooled_share"),
    (("arms", 0, "practices"), [], "practices"),
    (("replications",), "2", "replications"),
    (("replication_seeds",), [1, "x"], "replication_seeds"),
    (("code_version",), [], "code_version"),
    (("created",), {"a": 1}, "created"),
    (("overrides",), {"scenario.years": -3}, "overrides"),
    (("files",), {"results.parquet": "abc"}, "files.results.parquet"),
])
def test_wrong_types_and_values_in_manifest_json_are_refused_in_one_line(runs, tmp_path, capsys, path, value,
                                                                         needle):
    folder = copy(runs["a"], tmp_path)
    edit_manifest(folder, _set(path, value))
    report_refused(folder, capsys, needle)


# ------------------------------------------------------------------ decomposition.csv: escaped, drawn literally, bounded


def _decomposition(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "decomposition.csv")


def _section(page: Path) -> str:
    text = page.read_text()
    return text[text.index("<section id='decomposition'>"):text.index("<section id='own-result'>")]


def test_names_in_decomposition_csv_reach_the_page_escaped(runs, tmp_path):
    folder = copy(runs["a"], tmp_path)
    table = _decomposition(folder)
    table.loc[table["part"] == "total", "mean"] += 5  # the parts no longer add up: the note names the indicator
    table.to_csv(folder / "decomposition.csv", index=False)
    page = build_report(folder, tmp_path / "r.html", lang="en")
    assert "the parts do not add up" in _section(page)
    table.loc[0, "indicator"] = "<script>alert(1)</script>"
    table.to_csv(folder / "decomposition.csv", index=False)
    page = build_report(folder, tmp_path / "r.html", lang="en")
    assert "<script>" not in page.read_text() and "&lt;script&gt;" in _section(page)
    assert "<img" not in _section(page)


@pytest.mark.parametrize("name, change, needle", [
    ("text in a number column", lambda t: t.assign(mean=t["mean"].astype(str).where(t.index != 2, "many")), "mean"),
    ("thousands of indicators", lambda t: pd.concat([t.assign(indicator=f"i{k}") for k in range(400)]), "rows"),
    ("an unknown indicator", lambda t: t.assign(indicator="firm_places"), "indicator"),
    ("a part given twice", lambda t: pd.concat([t, t.iloc[:1]]), "twice"),
    ("no replications", lambda t: t.assign(replications=0), "replications"),
])
def test_a_decomposition_that_does_not_fit_is_named_not_drawn(runs, tmp_path, name, change, needle):
    folder = copy(runs["a"], tmp_path)
    change(_decomposition(folder)).to_csv(folder / "decomposition.csv", index=False)
    started = time.time()
    section = _section(build_report(folder, tmp_path / "r.html", lang="en"))
    assert "No decomposition is stored" in section and needle in section and "<img" not in section
    assert time.time() - started < 120


def test_dollar_signs_in_decomposition_parts_are_drawn_as_text(runs, tmp_path):
    from analysis.report import figures

    folder = copy(runs["a"], tmp_path)
    table = _decomposition(folder)
    table["part"] = table["part"].where(table["part"] == "total", "$\\frac{$ " + table["part"] + " $x^$")
    table["arm"] = "$\\undefined{"
    table.to_csv(folder / "decomposition.csv", index=False)
    page = build_report(folder, tmp_path / "r.html", lang="en")
    assert (report_paths(page)[1] / "decomposition.png").read_bytes()[:4] == b"\x89PNG"
    assert figures.waterfall(table)[:4] == b"\x89PNG"


# ------------------------------------------------------------------ verify: pipes, devices, wrong types


@pytest.mark.parametrize("where", ["sweep.json", "sweep.lock", "run file"])
def test_verify_does_not_hang_on_a_named_pipe(sweep, tmp_path, where):
    folder = copy(sweep, tmp_path)
    victim = sorted((folder / "runs").glob("*.parquet"))[0] if where == "run file" else folder / where
    victim.unlink(missing_ok=True)
    os.mkfifo(victim)
    done = cli("verify", str(folder))  # the guard: a hang raises TimeoutExpired
    if where == "run file":
        assert done.returncode == 1 and "named pipe" in done.stdout and victim.name in done.stdout
    else:
        assert done.returncode == 2 and "named pipe" in one_line_error(done.stderr)


@pytest.mark.parametrize("where", ["sweep.json", "run file"])
def test_verify_refuses_a_link_to_dev_zero_without_reading_it(sweep, tmp_path, where):
    folder = copy(sweep, tmp_path)
    victim = sorted((folder / "runs").glob("*.parquet"))[0] if where == "run file" else folder / where
    victim.unlink()
    victim.symlink_to("/dev/zero")
    started = time.time()
    done = cli("verify", str(folder))
    assert time.time() - started < GUARD
    if where == "run file":
        assert done.returncode == 1 and "character device" in done.stdout
    else:
        assert done.returncode == 2 and "character device" in one_line_error(done.stderr)


@pytest.mark.parametrize("file, change, needle", [
    ("sweep.json", _set(("planned_run_ids",), "abc"), "planned_run_ids"),
    ("sweep.json", _set(("planned_run_ids",), [1]), "planned_run_ids[0]"),
    ("sweep.json", _set(("code_fingerprint",), ["x"]), "code_fingerprint"),
    ("sweep.json", _set(("design",), "x"), "design"),
    ("sweep.json", _set(("sessions",), {"a": 1}), "sessions"),
    ("sweep.lock", lambda m: m.update(pid="abc", host="h", started="s"), "pid"),
    ("sweep.lock", lambda m: m.update(pid=1, host=["h"], started="s"), "host"),
    ("sweep.lock", lambda m: m.update(pid=1, host="h", started="s", command="rm"), "command"),
])
def test_wrong_types_in_sweep_json_or_a_lock_file_are_one_line(sweep, tmp_path, file, change, needle):
    folder = copy(sweep, tmp_path)
    path = folder / file
    record = json.loads(path.read_text()) if path.exists() else {}
    change(record)
    path.write_text(json.dumps(record))
    done = cli("verify", str(folder))
    assert done.returncode == 2 and needle in one_line_error(done.stderr)


# ------------------------------------------------------------------ fuzz: whatever a stored file holds


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=12)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


def _only_input_errors(read) -> None:
    try:
        read()
    except InputError as exc:
        assert len(str(exc).splitlines()) <= 1, exc


@FUZZ
@given(data=st.data())
def test_fuzzed_manifest_json_is_read_or_refused_in_one_line(runs, data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy(runs["a"], Path(tmp))
        manifest = json.loads((folder / "manifest.json").read_text())
        key = data.draw(st.sampled_from([*manifest, "parameters.scenario.inhabitants", "parameters.staff.salary",
                                         "arms.0", "arms.0.practices", "arm_parameters.integrated"]))
        value = data.draw(JSON)
        target, *rest = key.split(".", 1)
        if rest and isinstance(manifest.get(target), (dict, list)):
            inner, *leaf = rest[0].split(".", 1)
            holder = manifest[target][int(inner)] if isinstance(manifest[target], list) else manifest[target]
            if leaf:
                holder[leaf[0]] = value
            elif isinstance(manifest[target], list):
                manifest[target][int(inner)] = value
            else:
                holder[inner] = value
        else:
            manifest[target] = value
        (folder / "manifest.json").write_text(json.dumps(manifest, allow_nan=True))
        _only_input_errors(lambda: load_results(folder))


CELL = st.one_of(st.text(max_size=20), st.floats(allow_nan=True), st.integers(-10**6, 10**6), st.none())


@FUZZ
@given(rows=st.lists(st.fixed_dictionaries({"indicator": st.sampled_from(["outflow_work", "spend_total", "$x$", ""])
                                            | st.text(max_size=10), "part": st.text(max_size=12),
                                            "mean": CELL, "ci_low": CELL, "ci_high": CELL, "replications": CELL}),
                     max_size=12))
def test_fuzzed_decomposition_csv_is_shown_drawn_or_named(runs, rows):
    from analysis.report import figures

    with tempfile.TemporaryDirectory() as tmp:
        folder = copy(runs["a"], Path(tmp))
        pd.DataFrame(rows, columns=["indicator", "part", "mean", "ci_low", "ci_high", "replications"]).to_csv(
            folder / "decomposition.csv", index=False)
        results = load_results(folder)
        assert (results.decomposition is None) != (results.decomposition_problem is None) or \
            (results.decomposition is None and results.decomposition_problem is None)
        if results.decomposition is not None:
            assert figures.waterfall(results.decomposition)[:4] == b"\x89PNG"


@FUZZ
@given(key=st.sampled_from(["planned_run_ids", "design", "code_fingerprint", "sessions", "planned", "created",
                            "design_hash", "code_version"]), value=JSON)
def test_fuzzed_sweep_json_is_verified_or_refused_in_one_line(sweep, key, value):
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy(sweep, Path(tmp))
        manifest = json.loads((folder / "sweep.json").read_text())
        manifest[key] = value
        (folder / "sweep.json").write_text(json.dumps(manifest, allow_nan=True))
        _only_input_errors(lambda: verify_folder(folder))


@FUZZ
@given(blob=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_fuzzed_lock_files_are_read_or_refused_in_one_line(sweep, blob):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / LOCK_NAME).write_bytes(blob)
        _only_input_errors(lambda: read_holder(Path(tmp)))
        with FolderLock(Path(tmp)) as lock:  # a lock nobody holds is taken over, whatever it says
            assert lock.fd is not None
