"""Packaging: a wheel of the project, installed in a fresh venv, imports and runs without the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = {".venv", ".git", "outputs", "build", "dist", "__pycache__", ".pytest_cache"}

# Run inside the fresh venv, from a folder that holds no project source.
PROBE = """
import json, sys
import model
from model import SocialDomainModel
m = SocialDomainModel(inhabitants=2000, years=1, rng=1)
m.step()
print(json.dumps({"model": model.__file__, "year": m.year, "path": sys.path}))
"""


def _copy_source(dest: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in NOT_SOURCE or n.endswith(".egg-info")}

    return Path(shutil.copytree(ROOT, dest, ignore=ignore))


def test_a_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    src = _copy_source(tmp_path / "src")  # the build writes build/ and egg-info; keep them out of the tree
    dist = tmp_path / "dist"
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(src)],
                   check=True, capture_output=True, text=True, timeout=120)
    (wheel,) = dist.glob("ontschot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"model/parameters.toml", "model/personas.toml"} <= names  # data the model reads at import

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=120)
    fresh = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies come from the project venv's site-packages, appended as a plain path: .pth files
    # there (the project's editable install) are not processed, so the source tree cannot leak in.
    (fresh / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([str(python), "-I", "-c", PROBE], cwd=work, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(found["model"]).is_relative_to(fresh), found["model"]
    assert found["year"] == 1
    assert not any(Path(p).resolve() == ROOT for p in found["path"] if p)

    params = subprocess.run([str(venv / "bin" / "ontschot"), "params", "--json"], cwd=work, capture_output=True,
                            text=True, timeout=120)
    assert params.returncode == 0, params.stderr
    assert any(p["path"] == "staff.salary" for p in json.loads(params.stdout))
