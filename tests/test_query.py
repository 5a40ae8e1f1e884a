"""`ontschot query`: SQL over a result folder's files, answers that match the files, and nothing read or written
outside them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.cli import main
from experiments.design import load_design
from experiments.query import query, tables
from experiments.runfiles import param_column, param_key
from experiments.sweep import run_sweep
from model.parameters import InputError
from tests.test_sweep import write_design


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    argv = ["run", "--replications", "1", "--set", "scenario.inhabitants=2000", "--years", "2", "--events",
            "--practices", "none", "--no-explain", "--no-progress", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    return next(p for p in out.iterdir() if p.is_dir())


def test_a_run_folder_offers_its_files_as_tables_and_the_answers_match_them(run_folder, capsys):
    assert {"results", "events"} <= set(tables(run_folder))
    sql = ("SELECT regime, sum(value) AS outflow FROM results WHERE indicator = 'outflow_work' "
           "AND group_by = 'all' GROUP BY regime ORDER BY regime")
    answer = query(run_folder, sql)
    frame = pd.read_parquet(run_folder / "results.parquet")
    frame = frame[(frame["indicator"] == "outflow_work") & (frame["group_by"] == "all")]
    expected = frame.groupby("regime")["value"].sum()
    assert answer.set_index("regime")["outflow"].to_dict() == pytest.approx(expected.to_dict())
    events = query(run_folder, "SELECT count(*) AS n FROM events")["n"].iloc[0]
    assert events == len(pd.read_parquet(run_folder / "events.parquet"))
    capsys.readouterr()
    assert main(["query", str(run_folder), "SELECT count(*) AS n FROM events", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": int(events)}]


@pytest.mark.parametrize("sql", [
    "COPY (SELECT 1 AS x) TO '{target}'",
    "SELECT * FROM read_csv('{source}')",
    "SET enable_external_access = true",
    "ATTACH '{target}' AS other",
])
def test_a_query_reads_and_writes_nothing_outside_the_folder(run_folder, tmp_path, sql):
    source = tmp_path / "secret.csv"
    source.write_text("a\n1\n")
    target = tmp_path / "written.csv"
    with pytest.raises(InputError, match="the query failed"):
        query(run_folder, sql.format(source=source, target=target))
    assert not target.exists()


def test_bad_input_is_one_line(run_folder, tmp_path, capsys):
    assert main(["query", str(run_folder), "SELECT no_such_column FROM results"]) == 2
    assert main(["query", str(tmp_path), "SELECT 1"]) == 2
    assert main(["query", str(run_folder), "   "]) == 2
    existing = tmp_path / "answer.csv"
    existing.write_text("mine")
    assert main(["query", str(run_folder), "SELECT 1 AS x", "--csv", str(existing)]) == 2
    assert existing.read_text() == "mine"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("ontschot: error:") for line in err)


@pytest.mark.parametrize("manifest", ["named pipe", "link to /dev/zero", "not an object"])
def test_a_manifest_that_is_no_regular_json_file_is_one_line_without_hanging(run_folder, tmp_path, manifest):
    import os
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(run_folder, folder)
    (folder / "manifest.json").unlink()
    if manifest == "named pipe":
        os.mkfifo(folder / "manifest.json")  # reading it would wait for a writer for ever
    elif manifest == "link to /dev/zero":
        (folder / "manifest.json").symlink_to("/dev/zero")  # reading it would never end
    else:
        (folder / "manifest.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="manifest.json"):
        tables(folder)


def test_a_sweep_folder_offers_its_verified_runs_and_refuses_a_damaged_one(tmp_path):
    design = load_design(write_design(tmp_path, inhabitants=2000, years=2, places="[10]"))
    out = tmp_path / "sweep"
    run_sweep(design, out, workers=1, progress=False)
    counts = query(out, "SELECT count(DISTINCT run_id) AS n FROM runs")
    assert counts["n"].iloc[0] == len(list((out / "runs").glob("*.parquet")))
    # A varied parameter's column needs no quoting in SQL, and maps back to its parameter path.
    places = query(out, "SELECT DISTINCT param__scenario__social_firm_places AS p FROM runs")
    assert places["p"].tolist() == [10]
    assert param_key("param__scenario__social_firm_places") == "scenario.social_firm_places"
    assert param_column("scenario.social_firm_places") == "param__scenario__social_firm_places"
    victim = next((out / "runs").glob("*.parquet"))
    blob = bytearray(victim.read_bytes())
    blob[100] ^= 0xFF
    victim.write_bytes(bytes(blob))
    with pytest.raises(InputError, match=victim.name):
        query(out, "SELECT count(*) FROM runs")


def test_every_parquet_file_of_a_run_folder_says_what_it_holds(run_folder):
    import pyarrow.parquet as pq

    from experiments.runfiles import DICTIONARY_KEY, GROUP_INDICATORS_KEY, INDICATORS_KEY, UNITS_KEY
    from model.events import DATA_DICTIONARY
    from model.reporters import INDICATORS

    for path in sorted(run_folder.glob("*.parquet")):
        meta = pq.read_metadata(path).metadata
        if path.stem == "events":
            assert meta[DICTIONARY_KEY].decode() == DATA_DICTIONARY
            continue
        assert meta[DICTIONARY_KEY] == b"indicators-1"
        units, meanings = json.loads(meta[UNITS_KEY]), json.loads(meta[INDICATORS_KEY])
        assert units["spend_total"] == "EUR" and meanings["spend_total"][0] == "EUR"
        rows = pd.read_parquet(path, columns=["indicator", "group_by"])
        whole = rows["group_by"] == "all"
        assert set(rows.loc[whole, "indicator"]) <= set(INDICATORS)
        groups = json.loads(meta[GROUP_INDICATORS_KEY])
        assert set(rows.loc[~whole, "indicator"]) <= set(groups) and groups["spend"][0] == "EUR"
