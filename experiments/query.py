"""`ontschot query FOLDER "SQL"`: SQL over a result folder's Parquet files with DuckDB, read-only.

The tables a folder offers:
- a sweep folder (``sweep.json``): ``runs``, every planned run file that verifies (run id, content hash); a
  damaged one is refused by name (``experiments.sweep``), never skipped;
- any other result folder (``manifest.json``: ``ontschot run``, ``validate``, ``cases``, ...): each Parquet file
  at its top level by its name without ``.parquet`` (``results``, ``events`` with ``run --events``,
  ``coalitions``, ``ensemble_runs``, ``cases_runs``).

The files are read by pyarrow and handed to an in-memory DuckDB whose access to files is then switched off and
locked, so a query can read these tables and nothing else, and can write nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.stored import read_json
from model.parameters import InputError, show_path

SWEEP_MANIFEST = "sweep.json"
RUN_MANIFEST = "manifest.json"


def tables(folder: str | Path) -> dict[str, list[Path]]:
    """The tables a result folder offers, each with its files.

    Raises:
        InputError: not a result folder, no Parquet file in it, or a damaged sweep run file.
    """
    from experiments.sweep import _sound_runs

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{show_path(folder)} is not a result folder (it does not exist or is not a folder)")
    if (folder / SWEEP_MANIFEST).is_file():
        files = [path for path, _ in _sound_runs(folder, keep_frame=False)]
        if not files:
            raise InputError(f"sweep folder {show_path(folder)} holds no finished run yet")
        return {"runs": files}
    if not (folder / RUN_MANIFEST).is_file():
        raise InputError(f"{show_path(folder)} is not a result folder: it has neither {SWEEP_MANIFEST} nor "
                         f"{RUN_MANIFEST}")
    read_json(folder / RUN_MANIFEST, "result folder's manifest")  # a regular file of bounded size, JSON: or one line
    found = {path.stem: [path] for path in sorted(folder.glob("*.parquet")) if path.is_file()}
    if not found:
        raise InputError(f"result folder {show_path(folder)} holds no Parquet file to query")
    return found


def query(folder: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over the folder's tables (``tables``); the answer as a frame.

    Raises:
        InputError: a bad folder, or SQL DuckDB refuses (its first line), e.g. an unknown table or column, or an
            attempt to read or write a file.
    """
    import duckdb
    import pyarrow.dataset as ds

    if not sql.strip():
        raise InputError("the query is empty: give SQL such as \"SELECT count(*) FROM results\"")
    found = tables(folder)
    con = duckdb.connect(":memory:")
    try:
        for name, files in found.items():
            dataset = ds.dataset([str(f) for f in files], format="parquet")
            con.register(name, dataset)
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            return con.execute(sql).fetchdf()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"the query failed: {first} (tables: {', '.join(found)})") from None
    finally:
        con.close()
