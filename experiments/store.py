"""The result store: a new folder per run command, written in full before it appears.

A command writes into a hidden ``.partial`` folder and renames it into place at the end, so a
failed or interrupted run leaves no half-written result under a real name and never touches an
earlier one. Every folder holds a manifest with parameters, seeds, code and package versions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "seaborn", "matplotlib", "tqdm", "dask", "distributed",
            "SALib", "duckdb")
ROOT = Path(__file__).resolve().parent.parent


def code_version() -> dict[str, Any]:
    """Git commit of the code (and whether the tree had uncommitted changes), else the package version."""
    info: dict[str, Any] = {"package": _version("ontschot")}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            info["commit"] = commit.stdout.strip()
            info["dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    return {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}}


def digest(obj: Any) -> str:
    """Short stable hash of a JSON-able object."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


class RunFolder:
    """A result folder that appears under its final name only when complete."""

    def __init__(self, parent: str | Path, label: dict[str, Any]):
        self.parent = Path(parent)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{digest(label)}"
        name, k = base, 1
        while (self.parent / name).exists() or (self.parent / f".{name}.partial").exists():
            k += 1
            name = f"{base}-{k}"
        self.final = self.parent / name
        self.partial = self.parent / f".{name}.partial"

    def __enter__(self) -> Path:
        self.partial.mkdir(parents=True)
        return self.partial

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.partial.rename(self.final)
        else:
            shutil.rmtree(self.partial, ignore_errors=True)
        return False


def write_manifest(folder: Path, **fields: Any) -> None:
    """manifest.json: what was run, with which parameters, seeds, code and packages."""
    manifest = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "code_version": code_version(),
        "package_versions": package_versions(),
        **fields,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
