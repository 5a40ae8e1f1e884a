"""Run files of a sweep that prove what they hold: run id and content hash in the Parquet metadata.

A run file is ``runs/<run id>.parquet``. Its key-value metadata holds ``ontschot.run_id`` (the run
it belongs to), ``ontschot.code_version`` (the commit, a hash of any uncommitted change and the lock file's
hash of the code that computed it), ``ontschot.units`` (every indicator's unit) and
``ontschot.content_hash``: the SHA-256 of the file's data pages, i.e. every byte before the footer.
``check_run`` reads a file back and says what is wrong with it, if anything: unreadable or truncated, written for another run, or altered since it was written. A file is
written to a temporary name in the same folder, flushed to disk, and renamed into place, so its
final name only ever holds a whole file; an ``OSError`` while writing (a full disk, a read-only
or forbidden folder) removes the temporary file and becomes a ``StoreWriteError``.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments.store import os_reason

RUN_ID_KEY = b"ontschot.run_id"
HASH_KEY = b"ontschot.content_hash"
CODE_KEY = b"ontschot.code_version"  # experiments.store.code_fingerprint()["id"] of the process that computed the run
UNITS_KEY = b"ontschot.units"  # JSON {indicator: unit} of the whole-population rows (model/reporters.py INDICATORS)
MAGIC = b"PAR1"
TEMP_SUFFIX = ".tmp"


class StoreWriteError(Exception):
    """A run file could not be written (disk full, read-only, no permission): the sweep stops, it does not retry."""


def run_file(out: Path, run_id: str) -> Path:
    """Where a run's file lives in a sweep folder."""
    return Path(out) / "runs" / f"{run_id}.parquet"


def temp_name(final: Path) -> Path:
    """A unique temporary name beside ``final`` (hidden, ending in ``.tmp``, never matched by ``*.parquet``)."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex}{TEMP_SUFFIX}")


def _data_pages(blob: bytes) -> bytes:
    """The bytes of a Parquet file before its footer (what the content hash covers)."""
    if len(blob) < 12 or blob[:4] != MAGIC or blob[-4:] != MAGIC:
        raise ValueError("its start or end marker is missing: truncated or not Parquet")
    footer = int.from_bytes(blob[-8:-4], "little")
    if footer + 12 > len(blob):
        raise ValueError("the footer is longer than the file")
    return blob[: len(blob) - 8 - footer]


def encode(frame: pd.DataFrame, run_id: str, code: str = "") -> bytes:
    """A run's frame as Parquet bytes with its run id, the code version that computed it and the hash of its data pages."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)

    def parquet(digest: str) -> bytes:
        meta = {**(table.schema.metadata or {}), RUN_ID_KEY: run_id.encode(), HASH_KEY: digest.encode(),
                CODE_KEY: code.encode(), **indicator_metadata()}
        sink = pa.BufferOutputStream()
        pq.write_table(table.replace_schema_metadata(meta), sink)
        return sink.getvalue().to_pybytes()

    data = _data_pages(parquet("0" * 64))
    digest = hashlib.sha256(data).hexdigest()
    blob = parquet(digest)
    if _data_pages(blob) != data:  # the writer is deterministic; if that ever changes, say so at once
        raise RuntimeError("pyarrow wrote different data pages for the same table: the content hash cannot work")
    return blob


PARAM_PREFIX = "param__"  # a varied parameter's column in a run frame: param__scenario__pooled_share (no quoting in SQL)


def param_column(key: str) -> str:
    """The run-frame column of a varied parameter: ``scenario.pooled_share`` -> ``param__scenario__pooled_share``."""
    return PARAM_PREFIX + key.replace(".", "__")


def param_key(column: str) -> str | None:
    """The parameter path of a run-frame column (``param_column`` undone), or None for any other column."""
    return column.removeprefix(PARAM_PREFIX).replace("__", ".") if column.startswith(PARAM_PREFIX) else None


DICTIONARY_KEY = b"ontschot.data_dictionary"  # the same key as model/events.py's event files
INDICATOR_DICTIONARY = "indicators-1"  # long frames of yearly indicators: the meanings and units in ontschot.indicators
INDICATORS_KEY = b"ontschot.indicators"  # JSON {indicator: [unit, meaning]} of the whole-population rows (group_by all)
GROUP_INDICATORS_KEY = b"ontschot.group_indicators"  # JSON {indicator: [unit, meaning]} of the by-group rows


def units_json() -> bytes:
    """The unit of every yearly indicator as JSON bytes (the run file's ``value`` column is in these units)."""
    import json

    from model.reporters import INDICATORS

    return json.dumps({name: unit for name, (unit, _) in INDICATORS.items()}, sort_keys=True).encode()


def indicator_metadata() -> dict[bytes, bytes]:
    """What a Parquet file of yearly indicators carries to be read on its own: units, meanings, dictionary version."""
    import json

    from model.reporters import GROUP_UNITS, INDICATORS

    return {UNITS_KEY: units_json(), DICTIONARY_KEY: INDICATOR_DICTIONARY.encode(),
            INDICATORS_KEY: json.dumps({k: list(v) for k, v in INDICATORS.items()}, sort_keys=True).encode(),
            GROUP_INDICATORS_KEY: json.dumps({k: list(v) for k, v in GROUP_UNITS.items()}, sort_keys=True).encode()}


def write_indicators(frame: pd.DataFrame, path: Path) -> None:
    """Write a long frame of yearly indicators (results, coalition runs, ensemble runs) with ``indicator_metadata``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **indicator_metadata()}), path)


def write_run(out: Path, run_id: str, frame: pd.DataFrame, code: str = "") -> Path:
    """Publish a run's frame atomically as ``runs/<run id>.parquet``, naming the code version that computed it.

    Raises:
        StoreWriteError: the file could not be written; no temporary file is left behind.
    """
    blob = encode(frame, run_id, code)
    final = run_file(out, run_id)
    publish(final, blob)
    return final


def publish(final: Path, blob: bytes) -> None:
    """Write ``blob`` to a temporary name, flush it to disk and rename it to ``final`` (atomic on one file system).

    Raises:
        StoreWriteError: naming the folder and the system's reason; the temporary file is removed.
    """
    tmp = temp_name(final)
    try:
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        reason = os_reason(exc)
        raise StoreWriteError(f"cannot write {final.name} in '{final.parent}': {reason}") from None


@dataclass(frozen=True)
class RunCheck:
    """What ``check_run`` found: ``problem`` is None for a sound file; ``held`` the run id the file names."""

    problem: str | None
    held: str | None = None
    frame: pd.DataFrame | None = None
    code: str | None = None  # the code version the file names (None: written before run files named it)

    @property
    def ok(self) -> bool:
        """The file is sound."""
        return self.problem is None


def check_run(path: Path, run_id: str | None = None, keep_frame: bool = False) -> RunCheck:
    """What is wrong with a run file, if anything: read it, match its run id and its hash, decode it.

    Args:
        path: the file.
        run_id: the run it should hold (default: its name).
        keep_frame: return the decoded frame too (one read serves the check and the load).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from experiments import stored

    expected = run_id or path.stem
    try:
        blob = stored.read_bytes(path, "parquet")  # a regular file of bounded size, read without blocking
    except stored.StoredError as exc:
        return RunCheck(_problem(exc, path))
    if not blob:
        return RunCheck("empty")
    try:
        data = _data_pages(blob)
        meta = pq.read_metadata(pa.BufferReader(blob)).metadata or {}
    except (ValueError, OSError, pa.ArrowException) as exc:
        return RunCheck(f"not a readable Parquet file ({_first_line(exc)})")
    held = meta.get(RUN_ID_KEY, b"").decode(errors="replace") or None
    code = meta.get(CODE_KEY, b"").decode(errors="replace") or None
    if held is None:
        return RunCheck("carries no run id (written before run files were verified, or not by a sweep)")
    if held != expected:
        return RunCheck(f"holds run {held}, not {expected}", held)
    if meta.get(HASH_KEY, b"").decode(errors="replace") != hashlib.sha256(data).hexdigest():
        return RunCheck("its content does not match its hash (altered or damaged since it was written)", held)
    try:
        frame = pd.read_parquet(io.BytesIO(blob))
    except (ValueError, OSError, pa.ArrowException) as exc:
        return RunCheck(f"not a readable Parquet file ({_first_line(exc)})", held)
    if "run_id" not in frame.columns or (frame["run_id"] != expected).any():
        return RunCheck("its rows do not all name its run", held)
    try:
        stored.check_results(frame, path, ("run_id",))
    except stored.StoredError as exc:
        return RunCheck(_problem(exc, path), held)
    return RunCheck(None, held, frame if keep_frame else None, code)


def _problem(exc: Exception, path: Path) -> str:
    """A stored file's problem without its own path in front (the caller names the file)."""
    from model.parameters import show_path

    text = " ".join(str(exc).split())
    prefix = show_path(path)
    return text[len(prefix):].lstrip(": ") if text.startswith(prefix) else text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:80] if text else type(exc).__name__
