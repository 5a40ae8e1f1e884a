"""The project stands alone: no tracked file points at material outside the repository a clone does not have."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The digest and source folder the project was written from, the tool library, and absolute paths of this machine.
OUTSIDE = re.compile(r"\.\./shared|/work/|domain\.md|\.\./\.library|seeds/[0-9]{3}_")
THIS_FILE = Path(__file__).name


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except OSError:
        listed = None
    if listed is None or listed.returncode != 0:
        pytest.skip("needs a git checkout to list the tracked files")
    files = []
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if path.name == THIS_FILE or not path.is_file():
            continue
        head = path.read_bytes()[:4096]
        if b"\0" not in head:  # text, not Parquet or PNG
            files.append(path)
    return files


def test_no_tracked_file_refers_outside_the_project():
    found = []
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, "references outside the project:\n" + "\n".join(found)


def test_the_check_would_find_such_a_reference(tmp_path):
    for text in ("see ../shared/domain.md", "read /work/shared/seeds/000_c614.txt", "the digest domain.md"):
        assert OUTSIDE.search(text)
    assert not OUTSIDE.search("see docs/sources.md and docs/cases.md")
