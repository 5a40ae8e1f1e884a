"""Paths given on the command line, checked before anything runs: one line naming the option, the path and why.

Refused: an empty or blank path, a part of it that is blank, control characters (a newline, a tab, NUL:
a name that cannot be shown on one line), a name longer than the file system's NAME_MAX or a path longer
than PATH_MAX, and a symbolic-link loop on the way. A folder that results will be written below must
also leave room for what is written there (``OUTPUT_HEADROOM``), and a new name may not begin or end
with a space (easily mistaken: ``--out 'outputs '``).
"""

from __future__ import annotations

import errno
import os
import unicodedata
from pathlib import Path

from model.parameters import InputError, show_path

NAME_MAX = 255  # bytes in one file name where the system does not say (Linux, macOS)
PATH_MAX = 4096  # bytes in a path, its closing NUL included, where the system does not say (Linux)
# The longest relative path a command writes below an output folder: a run folder's name
# (stamp, digest, counter: about 30 bytes) or a sweep's runs/<64-hex run id>.parquet.tmp, with the
# report's figure folder and file names below it; 256 bytes leaves room for all of them.
OUTPUT_HEADROOM = 256
CONTROL = ("Cc", "Zl", "Zp")  # Unicode categories that break a line or are invisible controls


def _limit(folder: str, name: int, default: int) -> int:
    """The file system's limit ``os.pathconf`` names for ``folder`` (its nearest existing ancestor), else the default."""
    probe = Path(os.path.abspath(folder or "."))
    for candidate in (probe, *probe.parents):
        try:
            if candidate.is_dir():
                return int(os.pathconf(candidate, name))
        except (OSError, ValueError):
            continue
    return default


def _control(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) in CONTROL or ch == "\x00":
            return f"U+{ord(ch):04X}"
    return None


def path_problem(text: str, output: bool = False) -> str | None:
    """Why ``text`` cannot be used as a path (a few words), or None.

    ``output``: results will be written below it, so it needs ``OUTPUT_HEADROOM`` bytes to spare and a
    part that does not exist yet may not begin or end with a space.
    """
    if not isinstance(text, str) or text == "":
        return "the path is empty"
    if not text.strip():
        return "the path is blank (only spaces)"
    bad = _control(text)
    if bad is not None:
        return f"the path holds a control character ({bad}); use a name without line breaks, tabs or NUL"
    raw = os.fsencode(text)
    parts = [p for p in text.split(os.sep) if p not in ("", ".")]
    if any(not p.strip() for p in parts):
        return "a part of the path is blank (only spaces)"
    name_max = _limit(text, "PC_NAME_MAX", NAME_MAX)
    for part in parts:
        size = len(os.fsencode(part))
        if size > name_max:
            return f"its name {show_path(part[:40] + '...')} is {size:,} bytes long; a file name holds at most {name_max}"
    path_max = _limit(text, "PC_PATH_MAX", PATH_MAX) - 1  # the closing NUL
    if len(raw) > path_max:
        return f"it is {len(raw):,} bytes long; a path holds at most {path_max:,}"
    found = _walk(text)
    if found:
        return found
    if output:
        absolute = len(os.fsencode(os.path.abspath(text)))
        if absolute + OUTPUT_HEADROOM > path_max:
            return (f"its full path is {absolute:,} bytes long; what is written below it needs up to "
                    f"{OUTPUT_HEADROOM} more and a path holds at most {path_max:,}: use a shorter path")
        prefix = ""
        for part in text.split(os.sep):
            prefix = f"{prefix}{os.sep}{part}" if prefix or text.startswith(os.sep) else part
            if part and part != part.strip() and not os.path.lexists(prefix):
                return f"the new name {show_path(part)} begins or ends with a space"
    return None


def _walk(text: str) -> str | None:
    """A symbolic-link loop (or an over-long link target) on the way to ``text``, or None."""
    path = Path(text)
    for step in (*reversed(path.parents), path):
        try:
            os.stat(step)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"{show_path(step)} is a symbolic-link loop (or too many links in a row)"
            if exc.errno == errno.ENAMETOOLONG:
                return f"{show_path(step)}: {os.strerror(exc.errno)}"
            return None  # missing, not a folder, no permission: the command's own check says it in its words
        except ValueError:
            return "the path holds a NUL character"
    return None


def check_path(text: str, option: str, output: bool = False) -> str:
    """The path, unchanged, if it can be used; else an InputError naming the option, the path and why."""
    problem = path_problem(text, output)
    if problem is not None:
        raise InputError(f"{option} {show_path(text)} is not allowed: {problem}")
    return text
