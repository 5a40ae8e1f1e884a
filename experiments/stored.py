"""What ``report`` and ``verify`` read from a stored folder, checked before it is used.

A stored folder is the program's own output, but anyone can edit it, copy another run's file into
it or put a named pipe, a device or a link where a file was. So every stored file is read here:

- **regular files only**: a named pipe, a device, a socket or a folder where a file should be is
  refused (a symbolic link to a regular file is followed; one to ``/dev/zero`` is refused), opened
  without blocking, and read up to a stated size (``LIMITS``), never without end;
- **lock and state files** are opened with ``O_NOFOLLOW`` (``O_EXCL`` when created): a symbolic
  link where one is expected is refused, so its target is never written;
- **what the files hold**: a results frame (``results.parquet`` of ``ontschot run``, the run files
  of a sweep) has the columns, types and known indicators of this version, one row per key and
  values in range (counts at least 0, every value finite); ``manifest.json`` and ``sweep.json``
  have the types this version writes, every recorded parameter within its range
  (``model/parameters.toml``: inhabitants, salaries...), and the run folder's results are the
  ones its manifest describes (arms, replications, seeds, years and, from this version on, the
  SHA-256 of ``results.parquet``); ``decomposition.csv`` names known indicators once per part; a
  discovery folder's ``discovery.json`` holds every field the report reads with its type and range
  (texts bounded and on one line, shares from 0 to 1, whole counts that agree, outcome names that are
  safe as file names, restrictions on varied dimensions only, bounded lists) and
  ``discovery_points.csv`` one row per point analysed with the columns the scatter draws.

A folder that fails gets one line naming the file, the field and what is allowed (``StoredError``,
an ``InputError``: exit 2), before any page or figure is made.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.parameters import PARAMETERS, InputError, show, show_path

KIB = 1024
MIB = KIB * KIB
# Largest file of each kind read (bytes): far above what any run writes, far below what exhausts a machine.
LIMITS = {
    "json": 256 * MIB,  # manifest.json, sweep.json (a 200,000-run plan is about 60 MiB)
    "csv": 64 * MIB,  # decomposition.csv, sensitivity.csv, ensemble.csv
    "parquet": 2048 * MIB,  # results.parquet, a sweep's run files
    "lock": 64 * KIB,  # sweep.lock, .ontschot-run.lock
    "html": 256 * MIB,  # a report page, read whole to check its generator tag's digest (a report is a few MiB)
}
TEXT_MAX = 200  # characters of a name (an arm, a part, a host)
SEED_MAX = 2**32 - 1
YEARS_MAX = 1000  # a year column beyond this is not a simulated year
DECOMPOSITION_ROWS = 2000  # rows of decomposition.csv (indicators x parts); a run writes about 60
SIGNED_UNITS = ("EUR", "EUR per unit-year")  # every other unit counts something: never below 0
FILES_KEY = "files"  # manifest.json: {file name: SHA-256} of the files the report reads
HEX64 = re.compile(r"[0-9a-f]{64}")
RUN_ID = re.compile(r"[0-9A-Za-z_.-]{1,128}")


class StoredError(InputError):
    """A stored file that cannot be used as it is: one line naming the file, the field and what is allowed."""


def refuse(path: Path | str, field: str, value: Any, allowed: str) -> StoredError:
    """The one-line error for ``field = value`` in a stored file.

    A field name read from the file is shown escaped when it holds a character that is not printable: a line
    break of any kind (U+0085 too) would split the line.
    """
    shown = field if field.isprintable() else ascii(field)
    return StoredError(f"{show_path(path)}: {shown} = {show(value)} is not allowed: expected {allowed}")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def not_regular(path: Path | str, mode: int) -> StoredError:
    """The error for a stored path that is not a regular file."""
    return StoredError(f"{show_path(path)} is {_kind(mode)}, not a regular file: a stored folder holds only files "
                       "the program wrote; remove it or choose another folder")


def present(path: Path | str) -> bool:
    """Whether something is at ``path`` (a dangling link counts: it is refused when read, not taken as absent)."""
    return os.path.lexists(path)


def is_regular(path: Path | str) -> bool:
    """Whether ``path`` is (or links to) a regular file, without opening it (a pipe or device: False)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def check_regular(path: Path | str) -> None:
    """Refuse what is at ``path`` unless it is (or links to) a regular file; it is never opened, so never blocks.

    Raises:
        StoredError: a pipe, device, socket or folder (or a link to one), a dangling link or a path that cannot be
            looked at, naming the file.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise StoredError(f"{show_path(path)} is a symbolic link to nothing, not a regular file: a stored folder "
                              "holds only files the program wrote; remove it or choose another folder") from None
        raise StoredError(f"{show_path(path)} cannot be read (it does not exist)") from None
    except (OSError, ValueError) as exc:
        raise StoredError(f"{show_path(path)} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)


def read_bytes(path: Path | str, kind: str) -> bytes:
    """A stored file's bytes: a regular file (links followed), at most ``LIMITS[kind]`` bytes, read without blocking.

    Raises:
        StoredError: missing, unreadable, not a regular file (pipe, device, socket, folder) or too large.
    """
    limit = LIMITS[kind]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise StoredError(f"{show_path(path)} cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(path, info.st_mode)
        if info.st_size > limit:
            raise _too_large(path, info.st_size, limit)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(MIB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew while read
                raise _too_large(path, total, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise StoredError(f"{show_path(path)} cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _too_large(path, size: int, limit: int) -> StoredError:
    return StoredError(f"{show_path(path)} holds {size:,} bytes or more: expected at most {limit:,} bytes for this "
                       "kind of file (the program never writes one that large)")


def read_json(path: Path | str, what: str) -> dict:
    """A JSON object from a stored file.

    Raises:
        StoredError: not a regular file, too large, not JSON or not an object.
    """
    blob = read_bytes(path, "json")
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise StoredError(f"{show_path(path)} cannot be read as JSON ({' '.join(str(exc).split())[:120]})") from None
    if not isinstance(data, dict):
        raise StoredError(f"{show_path(path)} is not a {what} (expected a JSON object)")
    return data


def read_csv(path: Path | str) -> pd.DataFrame:
    """A CSV table from a stored file.

    Raises:
        StoredError: not a regular file, too large or not CSV.
    """
    blob = read_bytes(path, "csv")
    try:
        return pd.read_csv(io.BytesIO(blob))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise StoredError(f"{show_path(path)} cannot be read as CSV ({' '.join(str(exc).split())[:120]})") from None


def read_parquet(path: Path | str, blob: bytes | None = None) -> pd.DataFrame:
    """A Parquet table from a stored file (or its bytes already read).

    Raises:
        StoredError: not a regular file, too large or not Parquet.
    """
    blob = read_bytes(path, "parquet") if blob is None else blob
    try:
        return pd.read_parquet(io.BytesIO(blob))
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise StoredError(f"{show_path(path)} cannot be read ({' '.join(str(exc).split())[:120]})") from None


def sha256(blob: bytes) -> str:
    """The SHA-256 of a file's bytes, as the manifest records it."""
    return hashlib.sha256(blob).hexdigest()


# ------------------------------------------------------------------ lock and state files


def open_state(path: Path | str, create: bool) -> int:
    """A lock or state file opened for reading and writing, never through a symbolic link.

    With ``create`` a new file is made with ``O_EXCL`` (or the existing one opened); the file must
    be a regular file. The caller closes the descriptor.

    Raises:
        StoredError: a symbolic link, a pipe, a device or a folder where the file should be.
        OSError: the folder cannot be written (the caller reports it).
    """
    base = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
    try:
        if create:
            try:
                fd = os.open(path, base | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                fd = os.open(path, base)
        else:
            fd = os.open(path, base)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise StoredError(f"{show_path(path)} is a symbolic link: a lock or state file is never followed "
                              "through a link (its target would be overwritten); remove the link") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise not_regular(path, info.st_mode)
    return fd


def read_state(path: Path | str) -> bytes | None:
    """A lock file's bytes for a reader (``verify``): None when absent; never through a link, never blocking.

    Raises:
        StoredError: a link, not a regular file, too large, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise StoredError(f"{show_path(path)} is a symbolic link: a lock file is never followed through a "
                              "link; remove the link") from None
        raise StoredError(f"{show_path(path)} cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(path, info.st_mode)
        blob = os.read(fd, LIMITS["lock"] + 1)
    finally:
        os.close(fd)
    if len(blob) > LIMITS["lock"]:
        raise _too_large(path, len(blob), LIMITS["lock"])
    return blob


def check_holder(holder: Any, path: Path | str) -> dict | None:
    """A lock file's record checked: pid, host, started and command of the types the program writes.

    Returns None for an empty record (a holder killed while writing it).

    Raises:
        StoredError: naming the field and what is allowed.
    """
    if holder is None:
        return None
    if not isinstance(holder, dict):
        raise refuse(path, "the lock record", holder, "a JSON object with pid, host, started, command")
    pid = holder.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid <= 2**31 - 1:
        raise refuse(path, "pid", pid, "a process id (a whole number from 0 to 2,147,483,647)")
    for name in ("host", "started"):
        value = holder.get(name)
        if not isinstance(value, str) or len(value) > TEXT_MAX:
            raise refuse(path, name, value, f"text of at most {TEXT_MAX} characters")
    command = holder.get("command", [])
    if not isinstance(command, list) or len(command) > 64 or not all(isinstance(c, str) for c in command):
        raise refuse(path, "command", command, "a list of at most 64 texts")
    return holder


def parse_holder(blob: bytes | None, path: Path | str) -> dict | None:
    """The holder recorded in a lock file's bytes (None: no file or an empty one).

    Raises:
        StoredError: not JSON or a field of the wrong type.
    """
    if blob is None or not blob.strip():
        return None
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StoredError(f"{show_path(path)} cannot be read as a lock record (expected JSON with pid, host, "
                          "started, command)") from None
    return check_holder(data, path)


# ------------------------------------------------------------------ results frames


def _units() -> tuple[dict[str, str], dict[str, str]]:
    from model.reporters import GROUP_UNITS, INDICATORS

    return {k: u for k, (u, _) in INDICATORS.items()}, {k: u for k, (u, _) in GROUP_UNITS.items()}


GROUP_BY = ("all", "age_band", "disability", "wage_band")


def _texts(frame: pd.DataFrame, column: str, path, max_len: int = TEXT_MAX) -> None:
    def sound(v) -> bool:
        return isinstance(v, str) and 0 < len(v) <= max_len and v.isprintable()

    values = frame[column]
    try:
        if all(sound(v) for v in pd.unique(values)):  # a few distinct names in millions of rows: each checked once
            return
    except TypeError:  # values that cannot be hashed (lists): not text, found row by row below
        pass
    bad = ~values.map(sound)
    raise refuse(path, f"column {column} (row {int(np.flatnonzero(bad.to_numpy())[0])})", values[bad].iloc[0],
                 f"printable text of 1 to {max_len} characters")


def _wholes(frame: pd.DataFrame, column: str, path, lo: int, hi: int) -> None:
    values = frame[column]
    if not pd.api.types.is_integer_dtype(values.dtype):
        raise refuse(path, f"column {column}", str(values.dtype), f"whole numbers from {lo:,} to {hi:,}")
    bad = (values < lo) | (values > hi)
    if bad.any():
        raise refuse(path, f"column {column} (row {int(np.flatnonzero(bad.to_numpy())[0])})", int(values[bad].iloc[0]),
                     f"a whole number from {lo:,} to {hi:,}")


def check_results(frame: pd.DataFrame, path: Path | str, key: tuple[str, ...]) -> None:
    """A results frame as this version writes it: columns, types, known indicators, one row per key, values in range.

    Args:
        frame: the frame read from ``path``.
        path: the file (for messages).
        key: the columns besides year, indicator, group_by and group that name one run's row (the arm and
            replication of a run folder, the run id of a sweep's run file).

    Raises:
        StoredError: the first problem, naming the file, the column and what is allowed.
    """
    needed = ("replication", "seed", "year", "indicator", "group_by", "group", "value", *key)
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise StoredError(f"{show_path(path)} lacks column(s) {', '.join(missing)}: it comes from an incompatible "
                          "version of ontschot or was altered; run the command again")
    for column in ("indicator", "group_by", "group", *(c for c in ("regime", "arm") if c in frame.columns)):
        _texts(frame, column, path)
    _wholes(frame, "replication", path, 0, 10**6)
    _wholes(frame, "seed", path, 0, SEED_MAX)
    _wholes(frame, "year", path, 0, YEARS_MAX)
    bad = ~frame["group_by"].isin(GROUP_BY)
    if bad.any():
        raise refuse(path, "column group_by", frame["group_by"][bad].iloc[0], "one of " + ", ".join(GROUP_BY))
    whole, by_group = _units()
    overall = frame["group_by"] == "all"
    unit = frame["indicator"].map(whole).where(overall, frame["indicator"].map(by_group))
    if unit.isna().any():
        row = frame[unit.isna()].iloc[0]
        known = "an indicator of this version (model/reporters.py" + (" INDICATORS)" if row["group_by"] == "all"
                                                                      else " GROUP_INDICATORS)")
        raise refuse(path, f"column indicator (group_by {row['group_by']})", row["indicator"], known)
    if not pd.api.types.is_numeric_dtype(frame["value"].dtype) or pd.api.types.is_bool_dtype(frame["value"].dtype):
        raise refuse(path, "column value", str(frame["value"].dtype), "numbers")
    value = frame["value"].astype(float)
    bad = ~np.isfinite(value.to_numpy())
    if bad.any():
        raise refuse(path, f"column value ({frame['indicator'][bad].iloc[0]})", value[bad].iloc[0], "a finite number")
    counted = ~unit.isin(SIGNED_UNITS) & (value < 0)
    if counted.any():
        row = frame[counted].iloc[0]
        raise refuse(path, f"column value ({row['indicator']}, {unit[counted].iloc[0]})", row["value"],
                     "a number of at least 0 (it counts something)")
    twice = frame.duplicated([*key, "year", "indicator", "group_by", "group"])
    if twice.any():
        row = frame[twice].iloc[0]
        where = ", ".join(f"{c} {row[c]}" for c in (*key, "year", "indicator", "group", "group_by"))
        raise StoredError(f"{show_path(path)}: a row is given twice ({where}): expected one row per run, year, "
                          "indicator and group; the file was altered: run the command again")


# ------------------------------------------------------------------ manifests


def _text(value: Any, path, field: str, optional: bool = True, max_len: int = TEXT_MAX) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > max_len:
        raise refuse(path, field, value, f"text of at most {max_len} characters")


def _whole(value: Any, path, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise refuse(path, field, value, f"a whole number from {lo:,} to {hi:,}")
    return value


def _mapping(value: Any, path, field: str, optional: bool = True) -> dict:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise refuse(path, field, value, "a JSON object")
    return value


def check_parameters(values: Any, path, field: str, required: tuple[str, ...] = ()) -> dict:
    """Recorded parameter values: every known path within its kind and range; unknown paths (older versions) kept.

    Raises:
        StoredError: naming the file, the parameter, its value and what is allowed.
    """
    values = _mapping(values, path, field, optional=False)
    out = {}
    for key, value in values.items():
        if key in PARAMETERS:
            try:
                out[key] = PARAMETERS.get(key).coerce(value)
            except InputError:
                raise refuse(path, f'{field}."{key}"', value, PARAMETERS.get(key).describe_allowed()) from None
        else:
            out[key] = value
    for key in required:
        if key not in out:
            raise StoredError(f"{show_path(path)}: {field} lacks \"{key}\": it comes from an incompatible version of "
                              "ontschot or was altered; run the command again")
    return out


REPORTED = ("scenario.inhabitants", "scenario.social_firms", "scenario.social_firm_places", "staff.salary",
            "scenario.years")  # parameters the report reads from a run folder's manifest


def check_run_manifest(manifest: dict, path) -> dict:
    """A run folder's manifest.json with the types this version writes and every parameter in range.

    Returns the manifest with parameters coerced to their kinds.

    Raises:
        StoredError: the first field that is wrong.
    """
    _text(manifest.get("created"), path, "created", max_len=64)
    _text(manifest.get("kind"), path, "kind", max_len=64)
    code = _mapping(manifest.get("code_version"), path, "code_version")
    for name in ("commit", "package"):
        _text(code.get(name), path, f"code_version.{name}", max_len=120)
    params = check_parameters(manifest.get("parameters"), path, "parameters", REPORTED)
    arm_params = _mapping(manifest.get("arm_parameters"), path, "arm_parameters")
    checked_arms = {}
    for arm, values in arm_params.items():
        _text(arm, path, "arm_parameters (an arm's name)", optional=False)
        checked_arms[arm] = check_parameters(values, path, f'arm_parameters."{arm}"')
    regimes = PARAMETERS.get("scenario.regime").choices
    arms = manifest.get("arms")
    if arms is not None:
        if not isinstance(arms, list) or not 1 <= len(arms) <= 64:
            raise refuse(path, "arms", arms, "a list of 1 to 64 arms")
        names = []
        for k, arm in enumerate(arms):
            where = f"arms[{k}]"
            arm = _mapping(arm, path, where, optional=False)
            _text(arm.get("name"), path, f"{where}.name", optional=False)
            if not arm["name"].strip() or not arm["name"].isprintable():
                raise refuse(path, f"{where}.name", arm["name"], f"printable text of 1 to {TEXT_MAX} characters")
            names.append(arm["name"])
            if arm.get("regime") not in regimes:
                raise refuse(path, f"{where}.regime", arm.get("regime"), "one of " + ", ".join(regimes))
            share = arm.get("pooled_share", 0.0)
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
                raise refuse(path, f"{where}.pooled_share", share, "a number from 0 to 1")
            if "from_year" in arm:
                _whole(arm["from_year"], path, f"{where}.from_year", 1, YEARS_MAX + 1)
            arm["practices"] = check_parameters(arm.get("practices", {}), path, f"{where}.practices")
            bundle = arm.get("bundle")
            if bundle is not None:
                bundle = _mapping(bundle, path, f"{where}.bundle", optional=False)
                _text(bundle.get("name"), path, f"{where}.bundle.name", optional=False)
                _text(bundle.get("source"), path, f"{where}.bundle.source", max_len=4096)
                bundle["levers"] = check_parameters(bundle.get("levers", {}), path, f"{where}.bundle.levers")
        if len(set(names)) != len(names):
            raise refuse(path, "arms", names, "arms with distinct names")
    listed = manifest.get("regimes")
    if listed is not None and (not isinstance(listed, list) or not all(r in regimes for r in listed)):
        raise refuse(path, "regimes", listed, "a list of " + ", ".join(regimes))
    practices = manifest.get("practices")
    if practices is not None:
        practices = _mapping(practices, path, "practices", optional=False)
        practices["levers"] = check_parameters(practices.get("levers") or {}, path, "practices.levers")
    if "replications" in manifest:
        _whole(manifest["replications"], path, "replications", 1, 10**6)
    if "root_seed" in manifest:
        _whole(manifest["root_seed"], path, "root_seed", 0, SEED_MAX)
    seeds = manifest.get("replication_seeds")
    if seeds is not None:
        if not isinstance(seeds, list) or ("replications" in manifest and len(seeds) != manifest["replications"]):
            raise refuse(path, "replication_seeds", seeds, "a list of one seed per replication")
        for k, seed in enumerate(seeds):
            _whole(seed, path, f"replication_seeds[{k}]", 0, SEED_MAX)
    overrides = _mapping(manifest.get("overrides"), path, "overrides")
    if overrides:
        check_parameters(overrides, path, "overrides")
    files = _mapping(manifest.get(FILES_KEY), path, FILES_KEY)
    for name, digest in files.items():
        if not isinstance(digest, str) or not HEX64.fullmatch(digest):
            raise refuse(path, f"{FILES_KEY}.{name}", digest, "a SHA-256 in 64 hexadecimal digits")
    for name in ("decomposition", "ensemble"):
        _mapping(manifest.get(name), path, name)
    return {**manifest, "parameters": params, "arm_parameters": checked_arms}


def check_run_folder(folder: Path, manifest: dict, frame: pd.DataFrame, blob: bytes) -> None:
    """A run folder's results are the ones its manifest describes: file hash, arms, replications, seeds, years.

    Raises:
        StoredError: naming the file and what does not match.
    """
    results = folder / "results.parquet"
    recorded = (manifest.get(FILES_KEY) or {}).get("results.parquet")
    if recorded is not None and recorded != sha256(blob):
        raise StoredError(f"{show_path(results)} is not the file its manifest.json records (SHA-256 "
                          f"{sha256(blob)[:12]}..., recorded {recorded[:12]}...): it was altered or copied from "
                          "another run; run `ontschot run` again")
    arm = "arm" if "arm" in frame.columns else "regime"
    check_results(frame, results, (arm, "replication"))
    found = set(frame[arm])
    if isinstance(manifest.get("arms"), list):
        names = {a["name"] for a in manifest["arms"]}
        if found != names:
            raise StoredError(f"{show_path(results)} holds arms {', '.join(sorted(map(str, found)))}; its "
                              f"manifest.json lists {', '.join(sorted(names))}: the results are another run's; "
                              "run `ontschot run` again")
    reps = manifest.get("replications")
    if isinstance(reps, int) and set(frame["replication"]) != set(range(reps)):
        raise StoredError(f"{show_path(results)} holds replications {_span(frame['replication'])}; its manifest.json "
                          f"records {reps} (0 to {reps - 1}): the results are another run's; run `ontschot run` again")
    seeds = manifest.get("replication_seeds")
    if isinstance(seeds, list):
        pairs = frame[["replication", "seed"]].drop_duplicates()
        wrong = pairs[[s != (seeds[r] if 0 <= r < len(seeds) else None) for r, s in zip(pairs["replication"],
                                                                                       pairs["seed"], strict=True)]]
        if len(wrong):
            r = wrong.iloc[0]
            raise StoredError(f"{show_path(results)}: replication {r['replication']} ran on seed {r['seed']}; its "
                              "manifest.json records another: the results are another run's; run `ontschot run` again")
    years = manifest["parameters"].get("scenario.years")
    if isinstance(years, int) and set(frame["year"]) != set(range(1, years + 1)):
        raise StoredError(f"{show_path(results)} holds years {_span(frame['year'])}; its manifest.json records "
                          f"{years} years (1 to {years}): the results are another run's; run `ontschot run` again")
    counts = frame.groupby([arm, "replication"]).size()
    if counts.nunique() > 1:
        raise StoredError(f"{show_path(results)}: the arms and replications hold different numbers of rows "
                          f"({counts.min():,} to {counts.max():,}): rows were removed or added; run `ontschot run` "
                          "again")


def _span(values: pd.Series) -> str:
    unique = sorted(set(values))
    return f"{unique[0]} to {unique[-1]} ({len(unique)} values)" if unique else "none"


def check_sweep_manifest(manifest: dict, path) -> dict:
    """A sweep folder's sweep.json with the types this version writes.

    Raises:
        StoredError: the first field that is wrong.
    """
    planned = manifest.get("planned_run_ids")
    if not isinstance(planned, list):
        raise refuse(path, "planned_run_ids", planned, "a list of run ids")
    for k, run in enumerate(planned):
        if not isinstance(run, str) or not RUN_ID.fullmatch(run):
            raise refuse(path, f"planned_run_ids[{k}]", run, "a run id (letters, digits, '_', '-', '.'; 1 to 128)")
    if len(set(planned)) != len(planned):
        raise refuse(path, "planned_run_ids", "(a run id given twice)", "distinct run ids")
    design = _mapping(manifest.get("design"), path, "design")
    _text(design.get("name"), path, "design.name")
    _text(design.get("kind"), path, "design.kind", max_len=64)
    if "base" in design:
        check_parameters(design["base"], path, "design.base")
    regimes = design.get("regimes", [])
    if not isinstance(regimes, list) or not all(isinstance(r, str) and len(r) <= TEXT_MAX for r in regimes):
        raise refuse(path, "design.regimes", regimes, "a list of regime names")
    for name in ("replications", "seed", "max_retries"):
        if name in design:
            _whole(design[name], path, f"design.{name}", 0, 2**63 - 1)
    for name in ("sampler", "vary", "outcomes"):
        _mapping(design.get(name), path, f"design.{name}")
    sampler = design.get("sampler") or {}
    _text(sampler.get("method"), path, "design.sampler.method", max_len=64)
    for name, value in sampler.items():
        if name != "method" and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise refuse(path, f"design.sampler.{name}", value, "a number or a text")
    for name, spec in (design.get("vary") or {}).items():
        where = f'design.vary."{name}"'
        if isinstance(spec, dict) and "choices" in spec:  # a discovery's list dimension
            options = spec["choices"]
            if not isinstance(options, list) or not options or not all(
                    isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in options):
                raise refuse(path, f"{where}.choices", options, "a non-empty list of values")
        elif isinstance(spec, dict):
            span = spec.get("range")
            if not isinstance(span, list) or len(span) != 2 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in span):
                raise refuse(path, f"{where}.range", span, "two finite numbers")
        elif not isinstance(spec, list) or not all(isinstance(v, (int, float, str)) for v in spec):
            raise refuse(path, where, spec, "a list of values or a table with a range")
    outcomes = design.get("outcomes") or {}
    if "indicators" in outcomes and (not isinstance(outcomes["indicators"], list)
                                     or not all(isinstance(v, str) for v in outcomes["indicators"])):
        raise refuse(path, "design.outcomes.indicators", outcomes["indicators"], "a list of indicator names")
    if outcomes.get("difference") is not None and (not isinstance(outcomes["difference"], list)
                                                   or len(outcomes["difference"]) != 2
                                                   or not all(isinstance(v, str) for v in outcomes["difference"])):
        raise refuse(path, "design.outcomes.difference", outcomes["difference"], "two regime names")
    _text(manifest.get("design_hash"), path, "design_hash", max_len=128)
    fingerprint = _mapping(manifest.get("code_fingerprint"), path, "code_fingerprint")
    _text(fingerprint.get("id"), path, "code_fingerprint.id", max_len=256)
    code = _mapping(manifest.get("code_version"), path, "code_version")
    _text(code.get("commit"), path, "code_version.commit", max_len=120)
    _text(manifest.get("created"), path, "created", max_len=64)
    for name in ("sessions", "planned"):
        value = manifest.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise refuse(path, name, value, "a list of JSON objects")
    for k, entry in enumerate(manifest.get("planned", [])):
        if "point" in entry:
            _whole(entry["point"], path, f"planned[{k}].point", 0, 2**63 - 1)
        if "varied" in entry:
            _mapping(entry["varied"], path, f"planned[{k}].varied", optional=False)
    return manifest


# ------------------------------------------------------------------ other tables


def check_table(table: pd.DataFrame, path, texts: tuple[str, ...] = (), numbers: tuple[str, ...] = (),
                key: tuple[str, ...] = (), rows: int = 10**6) -> pd.DataFrame:
    """A stored table with the columns the reader uses: texts printable, numbers numeric (empty: NaN), one row per key.

    Raises:
        StoredError: naming the file, the column and what is allowed.
    """
    missing = [c for c in (*texts, *numbers) if c not in table.columns]
    if missing:
        raise StoredError(f"{show_path(path)} lacks column(s) {', '.join(missing)}: it comes from an incompatible "
                          "version of ontschot or was altered; run the command again")
    if len(table) > rows:
        raise refuse(path, "its rows", len(table), f"at most {rows:,} rows")
    for column in texts:
        _texts(table, column, path)
    for column in numbers:
        values = table[column]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            raise refuse(path, f"column {column}", _first_text(values), "numbers")
        if np.isinf(values.astype(float)).any():
            raise refuse(path, f"column {column}", float(values[np.isinf(values.astype(float))].iloc[0]),
                         "finite numbers")
    if key and table.duplicated(list(key)).any():
        row = table[table.duplicated(list(key))].iloc[0]
        raise StoredError(f"{show_path(path)}: a row is given twice ({', '.join(f'{c} {row[c]}' for c in key)}): "
                          "expected one row per " + " and ".join(key))
    return table


# ------------------------------------------------------------------ decomposition


def decomposition_problem(table: pd.DataFrame) -> str | None:
    """What is wrong with a decomposition.csv's rows (None: sound): known indicators, one row per part, numbers.

    The caller names the file; the report shows the problem in the decomposition's section and draws nothing.
    """
    from analysis.compare import SUMMARIES

    known = {s.name for s in SUMMARIES}
    if len(table) > DECOMPOSITION_ROWS:
        return f"holds {len(table):,} rows: expected at most {DECOMPOSITION_ROWS:,}"
    for column in ("indicator", "part"):
        bad = ~table[column].map(lambda v: isinstance(v, str) and 0 < len(v) <= TEXT_MAX and v.isprintable())
        if bad.any():
            return (f"column {column} holds {show(table[column][bad].iloc[0])}: expected printable text of 1 to "
                    f"{TEXT_MAX} characters")
    unknown = ~table["indicator"].isin(known)
    if unknown.any():
        return (f"column indicator holds {show(table['indicator'][unknown].iloc[0])}: expected a headline indicator "
                "(analysis/compare.py SUMMARIES)")
    for column in ("mean", "ci_low", "ci_high", "replications"):
        if not pd.api.types.is_numeric_dtype(table[column].dtype) or pd.api.types.is_bool_dtype(table[column].dtype):
            return f"column {column} holds text ({show(_first_text(table[column]))}): expected numbers"
    if not np.isfinite(table["mean"].astype(float)).all():
        return "column mean holds a value that is not a finite number: expected finite numbers"
    for column in ("ci_low", "ci_high"):
        values = table[column].astype(float)
        if np.isinf(values).any():
            return f"column {column} holds an infinite value: expected finite numbers (or empty: no interval)"
    reps = table["replications"].astype(float)
    if not (np.isfinite(reps) & (reps >= 1) & (reps == np.floor(reps))).all():
        return "column replications holds a value that is not a whole number of at least 1"
    twice = table.duplicated(["indicator", "part"])
    if twice.any():
        row = table[twice].iloc[0]
        return f"the part {show(row['part'])} of {row['indicator']} is given twice: expected one row per part"
    for column in ("arm", "against"):
        if column in table.columns:
            bad = ~table[column].map(lambda v: isinstance(v, str) and 0 < len(v) <= TEXT_MAX and v.isprintable())
            if bad.any():
                return f"column {column} holds {show(table[column][bad].iloc[0])}: expected an arm's name"
    return None


def _first_text(values: pd.Series) -> Any:
    for v in values:
        if isinstance(v, str):
            try:
                float(v)
            except ValueError:
                return v
    return values.iloc[0]


# ------------------------------------------------------------------ discovery folders
# discovery.json and discovery_points.csv, as experiments/discover.py ``analyse_folder`` writes them.

DISCOVERY_TEXT_MAX = 16 * KIB  # characters of a rule, a definition or a method (a rule names every restriction)
DISCOVERY_DIMENSIONS = 1000  # varied parameters (the parameter set has about 200)
DISCOVERY_CHOICES = 1000  # values of one list dimension (experiments/limits.py: levels)
DISCOVERY_POINTS = 10**6  # design points (experiments/limits.py: 100,000 samples, raisable)
DISCOVERY_STEPS = 10_000  # steps of a peeling trajectory (PRIM peels 1% or more a step: about 1,200 at 100,000 points)
DISCOVERY_BASE = 10_000  # fixed values of a design's [base]
DISCOVERY_BOXES_TEXT = 10 * MIB  # characters of the rules in words (discovery.txt), not read by the report
BOX_STATUS = ("box", "no-box", "none", "all")  # analysis/discovery.py find_box
FOUND_KEYS = ("coverage", "density", "mass", "n_in_box", "limits", "chosen", "trajectory")  # a box's, not none/all
DIMENSION_KINDS = ("choice", "int", "float")
OUTCOME_KEYS = ("name", "summary", "above", "below", "within_years", "says")  # analysis/discovery.py Outcome
PARAMETER_PATH = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")  # scenario.pooled_share
OUTCOME_NAME = re.compile(r"[a-z0-9_]{1,%d}" % TEXT_MAX)  # a design's [outcomes.NAME]: figure and file names


def _line(value: Any, path, field: str, max_len: int = TEXT_MAX, optional: bool = False, empty: bool = False) -> None:
    """Text on one line (no control characters), at most ``max_len`` characters; drawn and printed as it is."""
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > max_len or (not empty and not value.strip()) or any(
            unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise refuse(path, field, value, f"text of {'0' if empty else '1'} to {max_len:,} characters on one line "
                                         "(no control characters)")


def _number(value: Any, path, field: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not lo <= value <= hi:
        span = "a finite number" if math.isinf(lo) and math.isinf(hi) else f"a number from {lo:g} to {hi:g}"
        raise refuse(path, field, value, span)
    return float(value)


class _Size:
    """A long list or table in a message: its size, not its start (``<a list of 1,000,000>``)."""

    def __init__(self, value: list | dict):
        self.text = f"<a {'list' if isinstance(value, list) else 'table'} of {len(value):,}>"

    def __repr__(self) -> str:
        return self.text


def _list(value: Any, path, field: str, lo: int, hi: int, what: str) -> list:
    if not isinstance(value, list) or not lo <= len(value) <= hi:
        raise refuse(path, field, _Size(value) if isinstance(value, list) and len(value) > hi else value,
                     f"a list of {lo:,} to {hi:,} {what}")
    return value


def _regime(value: Any, path, field: str, pooled: bool) -> str:
    regimes = [r for r in PARAMETERS.get("scenario.regime").choices if not pooled or r != "compartmentalised"]
    if value not in regimes:
        raise refuse(path, field, value, "one of " + ", ".join(regimes))
    return value


def check_discovery_outcome(outcome: Any, path, field: str) -> dict:
    """One stored outcome (analysis/discovery.py ``Outcome.as_dict``): a name, a summary with a threshold or a payback.

    Raises:
        StoredError: naming the file, the field and what is allowed.
    """
    from analysis.compare import SUMMARIES

    outcome = _mapping(outcome, path, field, optional=False)
    unknown = [k for k in outcome if k not in OUTCOME_KEYS]
    if unknown:
        raise refuse(path, f"{field} (a key)", unknown[0], "one of " + ", ".join(OUTCOME_KEYS))
    name = outcome.get("name")
    if not isinstance(name, str) or not OUTCOME_NAME.fullmatch(name):
        raise refuse(path, f"{field}.name", name, f"a name of 1 to {TEXT_MAX} lower-case letters, digits and _")
    _line(outcome.get("says"), path, f"{field}.says", optional=True)
    if "within_years" in outcome:
        if {"summary", "above", "below"} & set(outcome):
            raise refuse(path, field, outcome, "either within_years or a summary with above or below")
        _whole(outcome["within_years"], path, f"{field}.within_years", 1, YEARS_MAX)
        return outcome
    names = [s.name for s in SUMMARIES]
    if outcome.get("summary") not in names:
        raise refuse(path, f"{field}.summary", outcome.get("summary"), "a run summary: one of " + ", ".join(names))
    if ("above" in outcome) == ("below" in outcome):
        raise refuse(path, field, outcome, "exactly one of above and below (or within_years)")
    side = "above" if "above" in outcome else "below"
    _number(outcome[side], path, f"{field}.{side}")
    return outcome


def check_discovery_setup(setup: Any, path, field: str = "setup") -> dict:
    """The outcomes and PRIM settings stored with a discovery (``setup``), as ``ontschot discover --analyse`` uses them.

    Raises:
        StoredError: naming the file, the field and what is allowed.
    """
    from experiments.discover import MAX_OUTCOMES

    setup = _mapping(setup, path, field, optional=False)
    _line(setup.get("name"), path, f"{field}.name")
    pooled = _regime(setup.get("pooled"), path, f"{field}.pooled", pooled=True)
    if _regime(setup.get("baseline"), path, f"{field}.baseline", pooled=False) == pooled:
        raise refuse(path, f"{field}.baseline", pooled, f"another regime than pooled, {pooled}")
    outcomes = _list(setup.get("outcomes"), path, f"{field}.outcomes", 1, MAX_OUTCOMES, "outcomes")
    names = [check_discovery_outcome(o, path, f"{field}.outcomes[{k}]")["name"] for k, o in enumerate(outcomes)]
    if len(set(names)) != len(names):
        raise refuse(path, f"{field}.outcomes", names, "outcomes of distinct names")
    setup["prim"] = check_prim(setup.get("prim"), path, f"{field}.prim")
    return setup


def check_prim(settings: Any, path, field: str) -> dict:
    """PRIM's settings: every one (analysis/discovery.py PRIM_DEFAULTS) within the range a design allows.

    Raises:
        StoredError: naming the file, the setting and what is allowed.
    """
    from analysis.discovery import PRIM_DEFAULTS
    from experiments.discover import DISCOVERY
    from experiments.limits import Limits
    from experiments.schema import Context

    settings = _mapping(settings, path, field, optional=False)
    try:
        DISCOVERY.fields["prim"].read(settings, field, Context(file=show_path(path), limits=Limits()))
    except StoredError:
        raise
    except InputError as exc:
        raise StoredError(str(exc)) from None
    missing = [k for k in PRIM_DEFAULTS if k not in settings]
    if missing:
        raise StoredError(f"{show_path(path)}: {field} lacks {missing[0]}: expected every PRIM setting "
                          f"({', '.join(PRIM_DEFAULTS)}); the file was altered: run ontschot discover --analyse again")
    return settings


def _check_dimensions(dims: Any, path) -> dict:
    """What was varied: per parameter path its label, unit, kind and range (two numbers) or choices."""
    dims = _mapping(dims, path, "dimensions", optional=False)
    if not 1 <= len(dims) <= DISCOVERY_DIMENSIONS:
        raise refuse(path, "dimensions", _Size(dims), f"1 to {DISCOVERY_DIMENSIONS:,} varied parameters")
    for key, dim in dims.items():
        if len(key) > TEXT_MAX or not PARAMETER_PATH.fullmatch(key):
            raise refuse(path, "dimensions (a key)", key, "a parameter path such as scenario.pooled_share")
        where = f'dimensions."{key}"'
        dim = _mapping(dim, path, where, optional=False)
        _line(dim.get("label"), path, f"{where}.label")
        _line(dim.get("unit"), path, f"{where}.unit", optional=True, empty=True)
        kind = dim.get("kind")
        if kind not in DIMENSION_KINDS:
            raise refuse(path, f"{where}.kind", kind, "one of " + ", ".join(DIMENSION_KINDS))
        if kind == "choice" or "choices" in dim:
            choices = _list(dim.get("choices"), path, f"{where}.choices", 1, DISCOVERY_CHOICES, "values")
            for k, value in enumerate(choices):
                if kind == "choice":
                    _line(value, path, f"{where}.choices[{k}]")
                else:
                    _number(value, path, f"{where}.choices[{k}]")
            if len({str(c) for c in choices}) != len(choices):
                raise refuse(path, f"{where}.choices", choices, "distinct values")
        else:
            span = _list(dim.get("range"), path, f"{where}.range", 2, 2, "numbers [low, high]")
            if _number(span[0], path, f"{where}.range[0]") > _number(span[1], path, f"{where}.range[1]"):
                raise refuse(path, f"{where}.range", span, "low at most high")
    return dims


def _check_limit(limit: Any, dims: dict, path, field: str) -> str:
    """One restriction of a box: a varied dimension, its kind, its quasi-p value, its remaining choices or bounds."""
    limit = _mapping(limit, path, field, optional=False)
    where = limit.get("path")
    if not isinstance(where, str) or where not in dims:
        raise refuse(path, f"{field}.path", where, "a varied parameter (a key of dimensions)")
    dim = dims[where]
    _line(limit.get("label"), path, f"{field}.label")
    if limit.get("kind") != dim["kind"]:
        raise refuse(path, f"{field}.kind", limit.get("kind"), f"the dimension's kind, {dim['kind']}")
    _number(limit.get("quasi_p"), path, f"{field}.quasi_p", 0.0, 1.0)
    if dim["kind"] == "choice":
        choices = _list(limit.get("choices"), path, f"{field}.choices", 1, len(dim["choices"]), "of its choices")
        if any(not isinstance(c, str) or c not in dim["choices"] for c in choices) or len(set(choices)) != len(choices):
            raise refuse(path, f"{field}.choices", choices, "distinct choices of the dimension")
        return where
    lower, upper = limit.get("lower"), limit.get("upper")
    for side, value in (("lower", lower), ("upper", upper)):
        if value is not None:
            _number(value, path, f"{field}.{side}")
    if lower is None and upper is None:
        raise refuse(path, field, limit, "a lower or an upper limit (or both)")
    if lower is not None and upper is not None and lower > upper:
        raise refuse(path, f"{field}.lower", lower, f"at most the upper limit, {upper:g}")
    return where


def _check_found(box: dict, dims: dict, path, field: str) -> None:
    """A box's figures (status box or no-box): shares, cases in it, restrictions and the peeling trajectory."""
    for name in ("coverage", "density", "mass"):
        _number(box.get(name), path, f"{field}.{name}", 0.0, 1.0)
    _whole(box.get("n_in_box"), path, f"{field}.n_in_box", 0, box["n"])
    size = (1, len(dims)) if box["status"] == "box" else (0, 0)
    limits = _list(box.get("limits"), path, f"{field}.limits", *size, "restrictions")
    paths = [_check_limit(lim, dims, path, f"{field}.limits[{k}]") for k, lim in enumerate(limits)]
    if len(set(paths)) != len(paths):
        raise refuse(path, f"{field}.limits", paths, "one restriction per dimension")
    steps = _list(box.get("trajectory"), path, f"{field}.trajectory", 1, DISCOVERY_STEPS, "steps")
    for k, step in enumerate(steps):
        where = f"{field}.trajectory[{k}]"
        step = _mapping(step, path, where, optional=False)
        for name in ("coverage", "density", "mass"):
            _number(step.get(name), path, f"{where}.{name}", 0.0, 1.0)
        _whole(step.get("restricted"), path, f"{where}.restricted", 0, len(dims))
    _whole(box.get("chosen"), path, f"{field}.chosen", 0, len(steps) - 1)
    dropped = _list(box.get("dropped", []), path, f"{field}.dropped", 0, len(dims), "dimensions")
    if any(not isinstance(d, str) or d not in dims for d in dropped):
        raise refuse(path, f"{field}.dropped", dropped, "varied parameters (keys of dimensions)")


def _check_box(box: Any, k: int, record: dict, path) -> str:
    """One outcome's box: its outcome, words, status, counts and (for a box) its figures; returns the outcome's name."""
    field = f"boxes[{k}]"
    box = _mapping(box, path, field, optional=False)
    name = check_discovery_outcome(box.get("outcome"), path, f"{field}.outcome")["name"]
    for words in ("says", "definition", "rule"):
        _line(box.get(words), path, f"{field}.{words}", DISCOVERY_TEXT_MAX)
    status = box.get("status")
    if status not in BOX_STATUS:
        raise refuse(path, f"{field}.status", status, "one of " + ", ".join(BOX_STATUS))
    n = record["points_analysed"]
    if box.get("n") != n or isinstance(box.get("n"), bool):
        raise refuse(path, f"{field}.n", box.get("n"), f"the points analysed, {n:,}")
    holds = _whole(box.get("n_holds"), path, f"{field}.n_holds", 0, n)
    if (status == "none") != (holds == 0) or (status == "all") != (holds == n):
        raise refuse(path, f"{field}.status", status, f"none where it holds nowhere, all where it holds in all "
                                                      f"cases ({holds:,} of {n:,} here), else box or no-box")
    if not math.isclose(_number(box.get("base_rate"), path, f"{field}.base_rate", 0.0, 1.0), holds / n, abs_tol=1e-9):
        raise refuse(path, f"{field}.base_rate", box["base_rate"], f"n_holds / n, {holds / n:g}")
    if "settings" in box:
        check_prim(box["settings"], path, f"{field}.settings")
    if status in ("box", "no-box"):
        _check_found(box, record["dimensions"], path, field)
    else:
        extra = [key for key in FOUND_KEYS if key in box]
        if extra:
            raise refuse(path, f"{field}.{extra[0]}", box[extra[0]], f"nothing: an outcome of status {status} "
                                                                      "has no box")
    return name


def _check_discovery_head(record: dict, path) -> None:
    """What a discovery record says of its runs: design, regimes, replications, seeds, points, fixed values, code."""
    _line(record.get("design"), path, "design")
    _line(record.get("design_hash"), path, "design_hash", max_len=128)
    _regime(record.get("pooled"), path, "pooled", pooled=True)
    _regime(record.get("baseline"), path, "baseline", pooled=False)
    _whole(record.get("replications"), path, "replications", 1, 10**6)
    _whole(record.get("seed"), path, "seed", 0, SEED_MAX)
    sampler = _mapping(record.get("sampler"), path, "sampler", optional=False)
    _line(sampler.get("method"), path, "sampler.method", max_len=64)
    _whole(sampler.get("samples"), path, "sampler.samples", 1, DISCOVERY_POINTS)
    _whole(sampler.get("seed"), path, "sampler.seed", 0, SEED_MAX)
    planned = _whole(record.get("points_planned"), path, "points_planned", 1, DISCOVERY_POINTS)
    _whole(record.get("points_analysed"), path, "points_analysed", 1, planned)
    base = _mapping(record.get("base"), path, "base")
    if len(base) > DISCOVERY_BASE:
        raise refuse(path, "base", _Size(base), f"at most {DISCOVERY_BASE:,} fixed values")
    for key, value in base.items():
        _line(key, path, "base (a key)")
        if key not in PARAMETERS and (isinstance(value, str) and len(value) > TEXT_MAX
                                      or not isinstance(value, (str, int, float))):
            raise refuse(path, f'base."{key}"', value, f"a number or a text of at most {TEXT_MAX} characters")
    known = check_parameters(base, path, "base")
    try:
        PARAMETERS.resolve({k: v for k, v in known.items() if k in PARAMETERS})
    except InputError as exc:
        raise StoredError(f"{show_path(path)}: base cannot hold together ({' '.join(str(exc).split())[:200]})") from None
    _line(_mapping(record.get("code_version"), path, "code_version").get("commit"), path, "code_version.commit",
          max_len=120, optional=True)
    _line(record.get("created"), path, "created", max_len=64, optional=True)
    _line(record.get("method"), path, "method", max_len=DISCOVERY_TEXT_MAX, optional=True)
    _text(record.get("text"), path, "text", max_len=DISCOVERY_BOXES_TEXT)
    _mapping(record.get("package_versions"), path, "package_versions")


def check_discovery_points(points: pd.DataFrame, record: dict, path) -> pd.DataFrame:
    """discovery_points.csv: one row per point analysed, each varied value, the replications, each outcome.

    Raises:
        StoredError: naming the file, the column and what is allowed.
    """
    dims = record["dimensions"]
    names = [box["outcome"]["name"] for box in record["boxes"]]
    needed = ["point", *dims, "replications", *(c for name in names for c in (name, f"{name}_value"))]
    missing = [c for c in needed if c not in points.columns]
    if missing:
        raise StoredError(f"{show_path(path)} lacks column(s) {', '.join(missing[:5])}: it comes from an incompatible "
                          "version of ontschot or was altered; run ontschot discover --analyse again")
    analysed = record["points_analysed"]
    if len(points) != analysed:
        raise refuse(path, "its rows", len(points), f"one row per point analysed ({analysed:,}, the "
                                                    "points_analysed of discovery.json)")
    _wholes(points, "point", path, 0, record["points_planned"] - 1)
    check_table(points, path, key=("point",))
    _wholes(points, "replications", path, record["replications"], record["replications"])
    for where, dim in dims.items():
        if "choices" in dim:
            bad = ~points[where].astype(str).isin({str(c) for c in dim["choices"]})
            if bad.any():
                raise refuse(path, f"column {where} (row {int(np.flatnonzero(bad.to_numpy())[0])})",
                             points[where][bad].iloc[0], "one of the dimension's choices in discovery.json")
        else:
            check_table(points, path, numbers=(where,))
            if points[where].isna().any():
                raise refuse(path, f"column {where}", float("nan"), "a finite number in every row")
    for name in names:
        if not pd.api.types.is_bool_dtype(points[name].dtype):
            raise refuse(path, f"column {name}", _first_text(points[name]), "True or False in every row")
        check_table(points, path, numbers=(f"{name}_value",))
    return points


def check_discovery(record: dict, points: pd.DataFrame, path, points_path) -> tuple[dict, pd.DataFrame]:
    """A discovery folder's discovery.json and discovery_points.csv with the types, ranges and sizes this version writes.

    Everything the report reads is checked: texts bounded and on one line, shares from 0 to 1, counts whole and
    consistent, every restriction on a varied dimension, and a points table with the columns the scatter uses.

    Raises:
        StoredError: the first problem, naming the file, the field and what is allowed.
    """
    from experiments.discover import MAX_OUTCOMES

    _check_discovery_head(record, path)
    setup = check_discovery_setup(record.get("setup"), path)
    for side in ("pooled", "baseline"):
        if setup[side] != record[side]:
            raise refuse(path, f"setup.{side}", setup[side], f"the record's {side}, {record[side]}")
    record["dimensions"] = _check_dimensions(record.get("dimensions"), path)
    boxes = _list(record.get("boxes"), path, "boxes", 1, MAX_OUTCOMES, "boxes (one per outcome)")
    names = [_check_box(box, k, record, path) for k, box in enumerate(boxes)]
    if names != [o["name"] for o in setup["outcomes"]]:
        raise refuse(path, "boxes", names, "one box per outcome of setup.outcomes, in its order")
    return record, check_discovery_points(points, record, points_path)
