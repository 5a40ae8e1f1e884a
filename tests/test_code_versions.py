"""Every run file names the code that computed it; a sweep never mixes code versions in one folder.

The resume test edits the code for real: it clones this repository, runs part of a sweep from the clone, changes a
line of the clone's model code, and runs the same command again, which must refuse before it computes anything.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.runfiles import check_run
from experiments.store import ROOT, code_fingerprint
from experiments.sweep import verify_folder

DESIGN = """
name = "versions"
regimes = ["compartmentalised"]
replications = 1
seed = 5
[base]
"scenario.inhabitants" = 2000
"scenario.years" = 2
[vary]
"scenario.social_firm_places" = [10, 20]
"""
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None or not (ROOT / ".git").exists(), reason="needs git and a git checkout")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@needs_git
def test_the_fingerprint_follows_commits_uncommitted_changes_and_the_lock_file(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "code.py").write_text("x = 1\n")
    (repo / "requirements.lock").write_text("mesa==3.3.1\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    clean = code_fingerprint(repo)
    assert clean["commit"] == git(repo, "rev-parse", "HEAD") and clean["uncommitted_diff_sha256"] is None
    assert clean["id"].startswith(clean["commit"][:12]) and "+" not in clean["id"]
    (repo / "code.py").write_text("x = 2\n")
    edited = code_fingerprint(repo)
    assert edited["id"] != clean["id"] and edited["uncommitted_diff_sha256"]
    (repo / "code.py").write_text("x = 3\n")
    assert code_fingerprint(repo)["id"] not in (clean["id"], edited["id"])  # each change its own version
    (repo / "code.py").write_text("x = 1\n")
    assert code_fingerprint(repo) == clean  # the change undone: the same version again
    (repo / "requirements.lock").write_text("mesa==3.5.0\n")
    assert code_fingerprint(repo)["lock_sha256"] != clean["lock_sha256"]


def sweep(checkout: Path, design: Path, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "experiments.cli", "sweep", str(design), "--out", str(out), "--workers", "1",
               "--no-progress"]
    return subprocess.run(command, cwd=checkout, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout), "HOME": str(checkout)})


@needs_git
def test_a_resume_after_a_code_change_is_refused_and_verify_names_the_versions(tmp_path):
    checkout = tmp_path / "checkout"
    subprocess.run([GIT, "clone", "-q", "--no-hardlinks", str(ROOT), str(checkout)], check=True)
    design = tmp_path / "design.toml"
    design.write_text(DESIGN)
    out = tmp_path / "sweep"
    first = sweep(checkout, design, out)
    assert first.returncode == 0, first.stderr
    manifest = json.loads((out / "sweep.json").read_text())
    recorded = manifest["code_fingerprint"]["id"]
    assert recorded.startswith(git(checkout, "rev-parse", "HEAD")[:12]) and manifest["platform"]["python"]
    runs = sorted((out / "runs").glob("*.parquet"))
    assert runs and {check_run(p).code for p in runs} == {recorded}  # every run file names its code
    assert verify_folder(out)["versions"] == {recorded: len(runs)}

    constants = checkout / "model" / "constants.py"
    constants.write_text(constants.read_text() + "\n# a change made between two parts of a sweep\n")
    before = {p.name: p.read_bytes() for p in runs}
    second = sweep(checkout, design, out)
    assert second.returncode == 2
    assert "code version" in second.stderr and recorded in second.stderr and "mix" in second.stderr
    assert {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))} == before  # nothing touched

    constants.write_text(constants.read_text().replace("\n# a change made between two parts of a sweep\n", ""))
    assert sweep(checkout, design, out).returncode == 0  # the same code again: the resume goes on


def test_a_run_file_carries_the_unit_of_every_indicator(tmp_path):
    import pandas as pd
    import pyarrow.parquet as pq

    from experiments.runfiles import UNITS_KEY, write_run
    from model.reporters import INDICATORS

    frame = pd.DataFrame({"run_id": ["r1"], "replication": [0], "seed": [1], "year": [1], "indicator": ["spend_total"],
                          "group_by": ["all"], "group": ["all"], "value": [1.0]})
    (tmp_path / "runs").mkdir()
    path = write_run(tmp_path, "r1", frame, code="abc")
    meta = pq.read_metadata(path).metadata
    units = json.loads(meta[UNITS_KEY])
    assert units["spend_total"] == INDICATORS["spend_total"][0] == "EUR" and set(units) == set(INDICATORS)
    assert check_run(path).ok and check_run(path).code == "abc"
