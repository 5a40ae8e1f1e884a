"""The workshop page's session logic without a browser: controls from metadata, views from model state."""

from __future__ import annotations

import os

import numpy as np
import pytest

from analysis.page import charts
from analysis.page.session import (
    CONTROL_KEYS,
    PAIR,
    STATUS_LABELS,
    Workshop,
    _derived_steps,
    control_keys,
    default_settings,
    participation_steps,
)
from model.constants import Status, Step
from model.parameters import PARAMETERS, InputError

SETTINGS = {"scenario.inhabitants": 8000, "scenario.years": 4}


@pytest.fixture(scope="module")
def stepped():
    """A small workshop after two years."""
    w = Workshop(SETTINGS, seed=3)
    w.step()
    w.step()
    return w


def test_controls_come_from_the_parameter_set_and_skip_missing_keys():
    keys = control_keys()
    assert keys and all(k in PARAMETERS for k in keys)
    assert keys == tuple(k for k in CONTROL_KEYS if k in PARAMETERS)  # the given order, missing ones dropped
    assert control_keys(("scenario.regime", "practice.not_there_yet", "scenario.pooled_share")) == (
        "scenario.regime", "scenario.pooled_share")
    assert default_settings() == {k: PARAMETERS.get(k).value for k in keys}


def test_bad_settings_and_seeds_are_one_line_errors():
    with pytest.raises(InputError, match="scenario.inhabitants.*1,000 to 20,000,000"):
        Workshop({"scenario.inhabitants": 10})
    with pytest.raises(InputError, match="seed = -1 is not allowed"):
        Workshop(SETTINGS, seed=-1)
    with pytest.raises(InputError, match="unknown parameter 'scenario.nope'"):
        Workshop({"scenario.nope": 1})


def test_the_views_count_what_the_reporters_count(stepped):
    track = stepped.main
    ind = track.model.indicators
    residents = ind["residents"]
    assert sum(track.status_counts[-1].values()) == residents
    for name, status in (("in_regular_work", Status.REGULAR_WORK), ("in_trajectory", Status.TRAJECTORY),
                         ("not_in_sight", Status.NOT_IN_SIGHT)):
        assert track.status_counts[-1][STATUS_LABELS[status]] == ind[name]
    for s in Step:
        assert track.step_counts[-1][int(s)] == pytest.approx(ind[f"step_{s.value}"] * residents)
    moves = track.ladder_moves[-1]  # everyone on a step this year stayed, moved up or down, or is new
    for s in Step:
        assert sum(moves[k][int(s)] for k in ("stayed", "up", "down", "entered")) == track.step_counts[-1][int(s)]
    assert sum(moves["up"].values()) > 0 and sum(moves["down"].values()) > 0
    places = track.firms[-1]
    assert sum(places["filled"].values()) == ind["firm_occupied"]
    assert sum(places["bought"].values()) == places["places"]["total"] == ind["firm_places"]


def test_status_moves_account_for_every_change(stepped):
    track = stepped.main
    moves = track.status_moves[-1]
    before, after = track.status_counts[-2], track.status_counts[-1]
    for label in before:  # last year's count + arrivals - departures = this year's count
        arrivals = sum(n for (a, b), n in moves.items() if b == label)
        departures = sum(n for (a, b), n in moves.items() if a == label)
        assert before[label] + arrivals - departures == after[label], label


def test_the_pair_shares_the_random_numbers_and_differs_by_policy(stepped):
    comp, integ = (stepped.pair[r] for r in PAIR)
    assert comp.status_counts[0] == integ.status_counts[0]  # the same municipality at the start
    assert comp.spend[-1]["pooled desk"] == 0 and integ.spend[-1]["pooled desk"] > 0
    main = stepped.main.model  # the main model starts compartmentalised: it is the compartmentalised one
    assert main.tidy().equals(comp.model.tidy())
    case = stepped.business_case()
    assert case["difference"] == pytest.approx(np.subtract(case["integrated"], case["compartmentalised"]).tolist())


def test_the_pair_differs_in_funding_alone_and_says_what_each_arm_holds():
    w = Workshop({**SETTINGS, "practice.outreach": 0.1, "practice.regisseurs_per_10k": 1.0}, seed=3)
    arms = w.pair_arms()
    assert list(arms) == list(PAIR)
    assert arms["compartmentalised"]["practices"] == arms["integrated"]["practices"]  # "integrated": funding alone
    assert arms["integrated"]["practices"]["practice.outreach"] == 0.1
    assert arms["integrated"]["practices"]["practice.regisseurs_per_10k"] == 1.0
    assert (arms["compartmentalised"]["pooled_share"], arms["integrated"]["pooled_share"]) == (0.0, 1.0)
    for regime, track in w.pair.items():  # read from the model each side runs
        assert arms[regime]["regime"] == track.model.p["scenario.regime"] == regime
    w.release()


def test_switch_regime_changes_the_allocation_from_the_next_year():
    w = Workshop(SETTINGS, seed=5)
    w.step()
    assert w.switch_regime("integrated") == 2
    assert w.main.spend[-1]["pooled desk"] == 0  # year 1 ran compartmentalised
    w.step()
    assert w.main.spend[-1]["pooled desk"] > 0 and w.main.spend[-1]["Wmo"] == 0
    assert w.main.regime_in_force == ["compartmentalised", "integrated"]
    with pytest.raises(InputError, match="'scenario.regime' = 'pooled'"):
        w.switch_regime("pooled")


def test_step_stops_at_the_horizon():
    w = Workshop({**SETTINGS, "scenario.years": 1}, seed=1)
    assert w.step() == 1 and not w.running
    assert w.step() == 1


def test_personas_are_followed_in_both_regimes(stepped):
    for regime in PAIR:
        records = stepped.pair[regime].persona("myra")
        assert {r["year"] for r in records} == {1, 2}
        assert "Myra" in {r["member"] for r in records}
        assert all(r["why"] for r in records)  # the persona card's why line (model/trace.py)


def test_the_ladder_reads_a_participation_step_column_when_the_model_has_one():
    w = Workshop(SETTINGS, seed=2)
    m = w.main.model
    rows = m.pop.alive_rows()
    before = participation_steps(m, rows)  # the model's own step column (placed during the spin-up)
    derived = _derived_steps(m, rows)  # from status and isolation, for residents a column has not placed
    m.pop.participation_step = np.full(len(m.pop.uid), int(Step.PAID_WORK), dtype=np.int8)
    try:
        assert (participation_steps(m, rows) == Step.PAID_WORK).all()
        m.pop.participation_step[rows[:10]] = -1  # not placed yet: derived for those
        read = participation_steps(m, rows)
        assert (read[:10] == derived[:10]).all() and (read[10:] == Step.PAID_WORK).all()
    finally:
        del m.pop.participation_step
    assert (participation_steps(m, rows) == before).all()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_chart_options_carry_the_tracked_numbers(stepped, lang):
    from analysis.page.texts import page_translator

    t = page_translator(lang)
    track = stepped.main
    flow = charts.flow(track, t)
    assert [s["name"] for s in flow["series"]] == [t(label) for label in track.status_counts[-1]]
    first = next(iter(track.status_counts[-1]))
    assert flow["series"][0]["data"] == [c[first] for c in track.status_counts]
    ladder = charts.ladder(track, t)
    totals = [sum(s["data"][k] if isinstance(s["data"][k], int) else s["data"][k]["value"] for s in ladder["series"])
              for k in range(len(Step))]
    assert totals == [track.step_counts[-1][int(s)] for s in Step]
    spending = charts.spending(track, t)
    assert len(spending["series"][0]["data"]) == stepped.year
    left, right = charts.side_by_side(stepped.pair, t)
    assert left["yAxis"]["max"] == right["yAxis"]["max"]


def test_ontschot_page_serves_on_loopback_and_warns_for_other_hosts(monkeypatch, capsys):
    from analysis.page import server
    from analysis.page.texts import LANG_ENVIRONMENT
    from experiments import cli

    monkeypatch.setenv(LANG_ENVIRONMENT, "nl")  # put back as it was after the test
    served = []
    monkeypatch.setattr(server, "serve", lambda host, port: served.append((host, port)))
    assert cli.main(["page", "--lang", "en"]) == 0
    assert os.environ[LANG_ENVIRONMENT] == "en"  # the server process's default language
    capsys.readouterr()
    assert cli.main(["page"]) == 0
    assert os.environ[LANG_ENVIRONMENT] == "nl"
    out, err = capsys.readouterr()
    assert served[-1] == ("127.0.0.1", 8765) and "http://127.0.0.1:8765" in out and not err
    assert cli.main(["page", "--host", "0.0.0.0", "--port", "9000"]) == 0
    out, err = capsys.readouterr()
    assert served[-1] == ("0.0.0.0", 9000) and "http://0.0.0.0:9000" in out
    assert err.startswith("ontschot: warning: serving on 0.0.0.0") and len(err.splitlines()) == 1
    for port in ("0", "70000", "x"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["page", "--port", port])
        assert exc.value.code == 2
        assert len(capsys.readouterr().err.splitlines()) == 1


def test_the_server_compresses_each_static_asset_once():
    """Static assets are gzip-compressed once per server and sent again as they were; the page itself is not kept."""
    import asyncio

    from analysis.page import server

    calls = []
    body = b"var x = 1;\n" * 2000  # compressible, over the middleware's minimum size

    async def inner(scope, receive, send):  # an app serving the same file every time, or a 404
        calls.append(scope["path"])
        status = 404 if scope["path"].endswith("missing.js") else 200
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/javascript")]})
        await send({"type": "http.response.body", "body": body})

    app = server.cached_gzip_class()(inner, minimum_size=1000)

    async def get(path):
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
                 "headers": [(b"accept-encoding", b"gzip, deflate")]}
        await app(scope, receive, send)
        return sent

    first, again = asyncio.run(get("/_solara/cdn/x.js")), asyncio.run(get("/_solara/cdn/x.js"))
    assert calls == ["/_solara/cdn/x.js"] and first == again
    assert (b"content-encoding", b"gzip") in first[0]["headers"]
    assert len(b"".join(m.get("body", b"") for m in first)) < len(body) / 10
    for path in ("/", "/", "/static/missing.js", "/static/missing.js"):  # not kept: the page, a failure
        asyncio.run(get(path))
    assert calls[1:] == ["/", "/", "/static/missing.js", "/static/missing.js"]


def test_loopback_addresses():
    from analysis.page import server

    assert all(server.is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(server.is_loopback(h) for h in ("0.0.0.0", "192.168.1.10", "::", "example.org"))
    assert server.address("::1", 8765) == "http://[::1]:8765"
    cmd = server.command("127.0.0.1", 8765)
    assert cmd[1:5] == ["-m", "analysis.page.server", "run", server.APP] and "--production" in cmd


def test_the_page_renders_a_control_per_key_and_steps_without_a_browser():
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    from analysis.page.app import Page

    def classes(widget, found):
        found.extend(str(getattr(widget, "class_", "") or "").split())
        for child in getattr(widget, "children", None) or ():
            if not isinstance(child, str):
                classes(child, found)
        return found

    box, rc = solara.render(Page(), handle_error=False)
    shown = classes(box, [])
    for key in control_keys():
        assert shown.count(f"control-{key.replace('.', '-').replace('_', '-')}") == 1, key
    rc.find(v.Btn, children=["Stap"]).widget.click()  # the page is Dutch unless asked otherwise
    year = rc.find(solara.widgets.HTML, tag="h2").widget
    assert year.unsafe_innerHTML == "Jaar 1 van 15"
    rc.close()


def test_every_status_has_a_label_a_place_and_a_colour():
    """A status the model adds must show on the page (the revolving door added 'other income')."""
    from analysis.page.charts import STATUS_COLOURS
    from analysis.page.session import STATUS_LABELS, STATUS_ORDER
    from model.constants import Status

    assert set(STATUS_ORDER) == set(Status) == set(STATUS_LABELS)
    assert len(STATUS_COLOURS) == len(STATUS_ORDER)


def test_sessions_with_the_same_settings_and_seed_share_the_pair_each_reading_up_to_its_own_year():
    from analysis.page import session

    ahead, behind = Workshop(SETTINGS, seed=11), Workshop(SETTINGS, seed=11)
    other = Workshop(SETTINGS, seed=12)
    try:
        for regime in PAIR:
            assert ahead.pair[regime].model is behind.pair[regime].model  # one model for the room
            assert other.pair[regime].model is not ahead.pair[regime].model  # another seed: its own
        for _ in range(3):
            ahead.step()
        behind.step()
        for regime in PAIR:
            a, b = ahead.pair[regime], behind.pair[regime]
            assert (a.year, b.year) == (3, 1) and len(b.status_counts) == 2 and len(b.own_result) == 1
            assert b.status_counts == a.status_counts[:2] and b.indicator("outflow_work") == a.indicator("outflow_work")[:1]
            assert all(r["year"] <= 1 for r in b.persona("myra")) and b.persona("myra")
        assert behind.business_case()["difference"] == ahead.business_case()["difference"][:1]
        behind.step()  # year 2 was simulated by the session ahead: read, not simulated again
        assert ahead.pair[PAIR[0]].shared.track.year == 3
    finally:
        for w in (ahead, behind, other):
            w.release()
            w.release()  # twice: counted out once
    assert not [k for k in session._SHARED if k[0] in (11, 12)]  # the last session out released the pair


def test_a_shared_pair_gives_the_same_years_as_a_session_alone():
    from analysis.page import session

    alone = Workshop(SETTINGS, seed=13)
    for _ in range(2):
        alone.step()
    expected = {r: (list(alone.pair[r].status_counts), alone.pair[r].indicator("spend_total")) for r in PAIR}
    alone.release()
    first, second = Workshop(SETTINGS, seed=13), Workshop(SETTINGS, seed=13)
    try:
        second.step()
        first.step()
        first.step()
        second.step()
        for r in PAIR:
            for w in (first, second):
                assert (list(w.pair[r].status_counts), w.pair[r].indicator("spend_total")) == expected[r]
    finally:
        first.release()
        second.release()
    assert not [k for k in session._SHARED if k[0] == 13]
