"""Code health: the linter (pyflakes, import order, Google docstrings) passes on the whole tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_passes():
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", str(ROOT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_folder_readmes_list_only_files_that_exist():
    import re

    readmes = [ROOT / d / "README.md" for d in ("model", "experiments", "analysis", "benchmarks", "tests", "docs")]
    for readme in readmes:
        assert readme.exists(), readme
        for name in re.findall(r"`([\w./-]+\.(?:py|toml|md))`", readme.read_text()):
            candidates = [readme.parent / name, *readme.parent.rglob(name)]
            assert any(p.exists() for p in candidates), f"{readme} lists {name}, which does not exist"
