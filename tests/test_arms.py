"""The arms of a comparison: what each arm states it holds is what it ran with, everywhere it is stated."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.report import build_report, words
from experiments.arms import build_arms, describe, practice_bundle
from experiments.cli import main
from experiments.runner import run_values
from model.parameters import PARAMETERS, InputError

SMALL = ["--set", "scenario.inhabitants=3000", "--years", "2", "--replications", "2", "--seed", "9", "--no-progress",
         "--no-explain"]
BUNDLE = "integrated + pooling practices"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """`ontschot run` with its default arms, as stored, and what --json printed."""
    parent = tmp_path_factory.mktemp("arms")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", *SMALL, "--out", str(parent), "--json"]) == 0
    payload = json.loads(out.getvalue())
    folder = Path(payload["output"])
    manifest = json.loads((folder / "manifest.json").read_text())
    return {"folder": folder, "payload": payload, "manifest": manifest,
            "frame": pd.read_parquet(folder / "results.parquet")}


def test_the_default_arms_are_the_funding_alone_and_one_named_bundle_arm(default_run):
    arms = {a["name"]: a for a in default_run["manifest"]["arms"]}
    assert list(arms) == ["compartmentalised", "integrated", BUNDLE]
    assert arms["compartmentalised"]["practices"] == arms["integrated"]["practices"]  # the same practices
    assert arms["integrated"]["bundle"] is None and arms[BUNDLE]["bundle"]["name"] == "pooling practices"
    assert (arms["compartmentalised"]["pooled_share"], arms["integrated"]["pooled_share"]) == (0.0, 1.0)


def test_each_arms_stated_contents_are_the_values_it_ran_with(default_run):
    """Contents equal the stored parameters of the arm, and those reproduce the arm's stored results exactly."""
    manifest, frame = default_run["manifest"], default_run["frame"]
    stored = manifest["arm_parameters"]
    for contents in manifest["arms"]:
        values = stored[contents["name"]]
        assert contents["regime"] == values["scenario.regime"]
        assert contents["practices"] == {k: v for k, v in values.items() if k.startswith("practice.")}
        rows = frame[frame["arm"] == contents["name"]]
        assert set(rows["regime"]) == {contents["regime"]}
        share = rows[(rows["indicator"] == "pooled_share") & (rows["group_by"] == "all")]["value"]
        assert (share == contents["pooled_share"]).all()
        # Re-run the first replication from the stored values: the same results, to the last digit.
        seed = int(manifest["replication_seeds"][0])
        again = run_values(PARAMETERS.resolve(values), seed)
        first = rows[rows["replication"] == 0].drop(columns=["arm", "replication"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(again.reset_index(drop=True), first)


def test_the_bundle_arm_differs_only_in_practice_levers(default_run):
    stored = default_run["manifest"]["arm_parameters"]
    differ = {k for k in stored[BUNDLE] if stored[BUNDLE][k] != stored["integrated"][k]}
    assert differ and all(k.startswith("practice.") for k in differ)
    levers = default_run["manifest"]["practices"]["levers"]
    assert differ == {k for k, v in levers.items() if stored["integrated"][k] != v}
    same = {k for k in stored["integrated"] if stored["integrated"][k] != stored["compartmentalised"][k]}
    assert same == {"scenario.regime"}  # the funding alone


def test_json_and_the_printed_table_name_each_arms_contents(default_run, tmp_path, capsys):
    assert default_run["payload"]["arms"] == default_run["manifest"]["arms"]
    assert [r for r in default_run["payload"]["comparison"][0] if r.endswith("_mean")] == [
        "compartmentalised_mean", "integrated_mean", f"{BUNDLE}_mean"]
    text = (default_run["folder"] / "comparison.txt").read_text()
    head = text[:text.index("indicator")]
    for contents in default_run["manifest"]["arms"]:
        assert describe(contents) in head
    assert "practices: outreach 0.15, household intake 1, generalist triage 1, regisseurs per 10k 1" in head
    comparison = pd.read_csv(default_run["folder"] / "comparison.csv")
    assert f"diff_{BUNDLE}" in comparison.columns and "diff_integrated" in comparison.columns


def test_the_reports_first_screen_names_each_arms_funding_and_practices(default_run):
    out = build_report(default_run["folder"], default_run["folder"] / "report.html", lang="en")
    text = out.read_text()
    first = html.unescape(text[text.index("<section id='answer'>"):text.index("<section id='scenario'>")])
    for contents in default_run["manifest"]["arms"]:
        assert f"{contents['name']}" in first
        for key, value in contents["practices"].items():  # each lever by its name, with its value
            assert f"{words.LEVERS[key.removeprefix('practice.')]} {words.plain(value)}" in first
    assert "outreach 0.15, household intake 1, generalist triage 1, regisseurs per 10,000 inhabitants 1" in first
    assert ("funding integrated (100% of the participation and Wmo budgets pooled)" in first
            and "funding compartmentalised (0% of the participation and Wmo budgets pooled)" in first)
    assert "has the baseline's practices: its difference from the baseline is the funding alone" in first
    scenario = html.unescape(text[text.index("<section id='scenario'>"):text.index("<section id='headline'>")])
    assert "outreach 0.15" in scenario  # the scenario table's practices column is filled
    section = text[text.index("<section id='decomposition'>"):text.index("<section id='own-result'>")]
    assert "No decomposition is stored" in section and "--no-explain" in section  # a bundle arm, not decomposed


def test_regimes_are_arms_with_the_same_practices_and_the_bundle_goes_on_the_last(tmp_path):
    values = PARAMETERS.resolve({"scenario.pooled_share": 0.3, "practice.outreach": 0.05})
    arms = build_arms(values, ["compartmentalised", "gradual", "integrated"], practice_bundle(None))
    assert [a.name for a in arms] == ["compartmentalised", "gradual", "integrated", BUNDLE]
    assert len({tuple(sorted(a.practices.items())) for a in arms[:3]}) == 1  # the scenario's practices, in each
    assert arms[0].practices["practice.outreach"] == 0.05 and arms[3].practices["practice.outreach"] == 0.15
    assert arms[1].pooled_share == 0.3
    assert [a.name for a in build_arms(values, ["compartmentalised", "integrated"], None)] == [
        "compartmentalised", "integrated"]


def test_a_bundle_file_names_its_arm_and_a_bundle_that_changes_nothing_is_refused(tmp_path):
    bundle = tmp_path / "outreach_only.toml"
    bundle.write_text("[practice]\noutreach = 0.2\n")
    arms = build_arms(PARAMETERS.resolve(), ["compartmentalised", "integrated"], practice_bundle(str(bundle)))
    assert arms[-1].name == "integrated + outreach only" and arms[-1].practices["practice.outreach"] == 0.2
    with_it = PARAMETERS.resolve({"practice.outreach": 0.2})
    with pytest.raises(InputError, match="would be the same as 'integrated'"):
        build_arms(with_it, ["compartmentalised", "integrated"], practice_bundle(str(bundle)))
    # The built-in bundle on a scenario that already has it: the bundle is in every arm, and no extra arm.
    pooled = PARAMETERS.resolve(practice_bundle(None).levers)
    assert [a.name for a in build_arms(pooled, ["compartmentalised", "integrated"], practice_bundle(None),
                                       required=False)] == ["compartmentalised", "integrated"]


def test_the_first_year_under_the_regime_is_read_from_new_and_old_folders():
    """Folders stored before the rename hold a 0-based ``switch_year``; both read as 'from year N'."""
    from experiments.arms import describe_funding, stored_from_year

    assert stored_from_year({"from_year": 3}) == 3
    assert stored_from_year({"scenario.from_year": 3}) == 3
    assert stored_from_year({"switch_year": 2}) == 3
    assert stored_from_year({"scenario.switch_year": 0}) == 1
    assert stored_from_year({}) == 1
    arm = {"regime": "integrated", "pooled_share": 1.0, "from_year": 6}
    assert describe_funding(arm).endswith("from year 6, compartmentalised before")
