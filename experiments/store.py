"""The result store: a new folder per run command, written in full before it appears.

A command writes into a hidden ``.partial`` folder and renames it into place at the end, so a
failed or interrupted run leaves no half-written result under a real name and never touches an
earlier one. Every folder holds a manifest with parameters, seeds, code and package versions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from model.parameters import InputError, show_path

PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "seaborn", "matplotlib", "tqdm", "dask", "distributed",
            "SALib", "duckdb")
ROOT = Path(__file__).resolve().parent.parent
# Never an output folder: the root, the top-level system folders, and anything inside those the system owns.
SYSTEM_FOLDERS = ("/", "/home", "/mnt", "/media", "/opt", "/srv", "/var", "/run", "/usr", "/usr/local")
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin", "/sys",
                "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/include", "/usr/share")


def os_reason(exc: OSError) -> str:
    """The system's reason for a file-system error in a few words ('No space left on device'), whoever raised it."""
    found = re.search(r"\[errno (\d+)\]", str(exc), re.IGNORECASE)  # pyarrow puts the errno in its message
    if found:
        return os.strerror(int(found.group(1)))
    if exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split())[:120] or type(exc).__name__


class OutputError(InputError):
    """The output folder cannot be used: a system folder, not a folder, not writable, or full. One line, exit 2."""


def refuse_system_folder(folder: str | Path, what: str = "--out") -> Path:
    """The folder, resolved; a system folder (``/``, ``/usr``, ``/etc``...) or an unusable path is refused.

    Raises:
        OutputError: naming the option, the folder and why.
    """
    text = os.fspath(folder)
    if not str(text).strip():
        raise OutputError(f"{what} '' is not allowed: expected a folder path")
    try:
        resolved = Path(folder).resolve()
    except ValueError:
        raise OutputError(f"{what} {show_path(folder)} is not allowed: the path holds a NUL character") from None
    except OSError as exc:
        raise OutputError(f"{what} {show_path(folder)} is not allowed: {exc.strerror or exc}") from None
    except RuntimeError:  # Python 3.11's resolve on a symbolic-link loop
        raise OutputError(f"{what} {show_path(folder)} is not allowed: a symbolic-link loop is on the way") from None
    posix = resolved.as_posix()
    if posix in SYSTEM_FOLDERS or any(posix == t or posix.startswith(t + "/") for t in SYSTEM_TREES):
        raise OutputError(f"{what} {show_path(folder)} is not allowed: {show_path(posix)} is a system folder; "
                          "choose a folder of your own (e.g. outputs/)")
    return resolved


def check_output_folder(folder: str | Path, what: str = "--out") -> Path:
    """Make sure results can be written under ``folder`` before anything runs: create it, write and remove a probe.

    Raises:
        OutputError: a system folder, a file in the way, or a folder that cannot be created or written
            (read-only, no permission, disk full), in one line.
    """
    refuse_system_folder(folder, what)
    path = Path(folder)
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{what} {show_path(folder)} is not allowed: {show_path(parent)} is a file, "
                              "not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ontschot-write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{what} {show_path(folder)} cannot be written: {os_reason(exc)}") from None
    return path


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


LOCK_FILE = "requirements.lock"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None


def code_fingerprint(root: Path = ROOT) -> dict[str, Any]:
    """What a run's results were computed with: the commit, a hash of any uncommitted change, the lock file's hash.

    ``id`` joins them into one short text (``<commit 12>[+<diff 8>]/lock:<lock 8>``); two runs with the same id
    ran the same code on the same pinned packages. Outside a git checkout the commit is the package version and
    the tracked files cannot be compared (``commit`` None, ``id`` says so).
    """
    head = _git(root, "rev-parse", "HEAD")
    commit = head.stdout.decode().strip() if head is not None and head.returncode == 0 else None
    diff = _git(root, "diff", "HEAD", "--no-ext-diff", "--binary") if commit else None
    diff_hash = hashlib.sha256(diff.stdout).hexdigest() if diff is not None and diff.stdout else None
    lock = root / LOCK_FILE
    lock_hash = hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None
    base = commit[:12] if commit else f"package {_version('ontschot')} (no git)"
    ident = base + (f"+{diff_hash[:8]}" if diff_hash else "") + f"/lock:{(lock_hash or 'none')[:8]}"
    return {"id": ident, "commit": commit, "uncommitted_diff_sha256": diff_hash, "lock_sha256": lock_hash}


def platform_record() -> dict[str, str]:
    """The operating system and the Python a result was computed on."""
    return {"os": platform.platform(), "python": platform.python_version(), "implementation":
            platform.python_implementation()}


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
        "code_fingerprint": code_fingerprint(),
        "platform": platform_record(),
        "package_versions": package_versions(),
        **fields,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
