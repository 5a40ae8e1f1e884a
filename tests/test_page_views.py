"""The workshop page's views without a browser: the flow diagram against the model's own transitions, the
presenter and language parameters, the why sentences, the page's catalogue and the run in force."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from analysis.i18n import translator
from analysis.page import app, sankey, texts, why
from analysis.page.session import HOLDER_LABELS, STATUS_LABELS, STEP_LABELS, Workshop, control_keys
from experiments import cli
from model.constants import Status
from model.parameters import PARAMETERS

SETTINGS = {"scenario.inhabitants": 8000, "scenario.years": 4}
PAGE = Path(app.__file__).parent
# What a room must never read: parameter paths, snake_case keys, source tags such as [SR] or [R12].
INTERNAL = re.compile(r"\b(scenario|practice|staff|wmo|pwet|firm|benefit)\.[a-z_]+|\b[a-z]+_[a-z_]+\b|\[[A-Z]{1,3}\d*\b")
SAME_IN_DUTCH = {"Persona", "status", "indicator", "Wmo", "Myra", "Theo", "Chantal"}


def snapshot(model) -> dict[int, int]:
    """Each resident's status now, by id, read straight from the population."""
    rows = model.pop.alive_rows()
    return dict(zip(model.pop.uid[rows].tolist(), model.pop.status(rows).tolist(), strict=True))


@pytest.fixture(scope="module")
def stepped():
    """A small workshop after two years, with the model's statuses before and after the second year."""
    w = Workshop(SETTINGS, seed=5)
    w.step()
    before = snapshot(w.main.model)
    w.step()
    return w, before, snapshot(w.main.model)


def model_transitions(before: dict[int, int], after: dict[int, int]) -> dict[tuple[str, str], int]:
    """The year's moves counted here from the two snapshots, independently of ``Track``."""
    out: dict[tuple[str, str], int] = {}

    def add(key):
        out[key] = out.get(key, 0) + 1

    for uid, s in after.items():
        if uid not in before:
            add((sankey.ENTERED, STATUS_LABELS[Status(s)]))
        elif before[uid] != s:
            add((STATUS_LABELS[Status(before[uid])], STATUS_LABELS[Status(s)]))
    for uid, s in before.items():
        if uid not in after:
            add((STATUS_LABELS[Status(s)], sankey.LEFT))
    return out


def test_the_diagram_counts_the_models_transitions(stepped):
    w, before, after = stepped
    expected = model_transitions(before, after)
    parts = sankey.split_moves(w.main.status_moves[-1])
    assert {**parts["within"], **parts["entries"], **parts["exits"]} == expected
    assert all(a != sankey.ENTERED and b != sankey.LEFT for a, b in parts["within"])
    assert sum(parts["entries"].values()) == len(set(after) - set(before)) > 0
    assert sum(parts["exits"].values()) == len(set(before) - set(after)) > 0
    for name, flows in parts.items():
        diagram = sankey.layout(flows)
        assert {(k.source, k.target): k.count for k in diagram.links} == flows, name
        for link in diagram.links:  # a band is as wide as its residents, on one scale
            assert link.width == pytest.approx(link.count * diagram.scale)
        for node in diagram.nodes:  # a node is as high as its bands, which stack inside it without overlap
            mine = sorted((k for k in diagram.links if (k.source if node.side == "from" else k.target) == node.key),
                          key=lambda k: k.y0 if node.side == "from" else k.y1)
            assert node.count == sum(k.count for k in mine)
            assert node.height == pytest.approx(node.count * diagram.scale)
            tops = [k.y0 if node.side == "from" else k.y1 for k in mine]
            assert tops[0] == pytest.approx(node.y)
            assert np.allclose(np.diff(tops), [k.width for k in mine[:-1]])
        column = sorted((n for n in diagram.nodes if n.side == "from"), key=lambda n: n.y)
        assert all(b.y >= a.y + a.height for a, b in zip(column, column[1:], strict=False))
        assert max(n.y + n.height for n in diagram.nodes) <= diagram.height


def test_care_to_work_is_highlighted_and_only_it():
    care, work = STATUS_LABELS[Status.DAY_ACTIVITIES], STATUS_LABELS[Status.REGULAR_WORK]
    guidance, trajectory = STATUS_LABELS[Status.GUIDANCE_ONLY], STATUS_LABELS[Status.TRAJECTORY]
    benefit = STATUS_LABELS[Status.BENEFIT_NO_SUPPORT]
    flows = {(care, work): 2, (guidance, trajectory): 3, (benefit, work): 40, (work, care): 5, (care, guidance): 7}
    diagram = sankey.layout(flows)
    assert {(k.source, k.target) for k in diagram.links if k.highlighted} == {(care, work), (guidance, trajectory)}
    assert sankey.care_to_work(flows) == 5
    t = translator("en", "page")
    svg = sankey.svg(diagram, t, t.persons)
    assert svg.count('class="band care-to-work"') == 2 and svg.count('class="band"') == 3


def test_the_diagram_changes_after_a_step_and_names_no_internal_key():
    w = Workshop(SETTINGS, seed=5)
    pictures = []
    for lang in ("nl", "en"):
        t = texts.page_translator(lang)
        w.step()
        html = app.sankey_html(w.main, t, "within", sankey.WIDTH, sankey.HEIGHT)
        labels = " ".join(re.findall(r">([^<>]+)</text>", html))
        assert labels and not INTERNAL.search(labels), labels
        pictures.append(html)
    assert pictures[0] != pictures[1]
    assert "bijstand zonder ondersteuning" in pictures[0] and "benefit without support" in pictures[1]


def test_language_and_view_come_from_the_address_and_the_command_line(monkeypatch):
    monkeypatch.delenv(texts.LANG_ENVIRONMENT, raising=False)
    assert texts.page_options(None) == ("nl", "full")
    assert texts.page_options("lang=en&view=presenter") == ("en", "presenter")
    assert texts.page_options("lang=fr&view=nope") == ("nl", "full")  # unknown values: the defaults
    monkeypatch.setenv(texts.LANG_ENVIRONMENT, "en")
    assert texts.page_options("") == ("en", "full")
    assert texts.page_options("view=presenter&lang=nl") == ("nl", "presenter")
    with pytest.raises(SystemExit) as stop:
        cli.main(["page", "--lang", "de"])
    assert stop.value.code == 2


def test_numbers_are_dutch_and_whole_persons():
    t = texts.page_translator("nl")
    assert t.persons(30000) == "30.000" and t.persons(65.6) == "66"
    assert t.number(-1.234, 2) == "-1,23" and t.signed(0.11, 2) == "+0,11"
    assert texts.number_field_hint(t, 1000, 20_000_000) == "een geheel getal van 1.000 tot en met 20.000.000"


def _page_msgids() -> list[str]:
    """Every text the page's code translates: the literals in t("...") calls and the label tables."""
    ids = []
    for path in sorted(PAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                ids.append(node.args[0].value)
    for table in (texts.STATUS_WORDS, texts.INSTRUMENT_WORDS, texts.HOLDER_WORDS, texts.EXIT_WORDS, texts.ROLE_WORDS,
                  texts.PERSONA_WORDS, texts.CHOICE_WORDS, texts.BUSINESS_CASE_WORDS, why.DESKS, dict(why.RANKINGS),
                  STATUS_LABELS, HOLDER_LABELS, STEP_LABELS):
        ids += list(table.values())
    ids += [meaning for _, meaning, _ in app.COMPARED] + ["stayed", "moved up", "moved down", "new this year"]
    for key in (*control_keys(), "practice.volunteering", "practice.open_access", "practice.mixed_places"):
        ids += [PARAMETERS.get(key).label, PARAMETERS.get(key).unit]
    return list(dict.fromkeys(ids))


def test_every_page_text_has_a_dutch_translation_with_its_placeholders():
    t = translator("nl", "page")
    ids = _page_msgids()
    assert len(ids) > 150
    missing = [i for i in ids if t(i) == i and i not in SAME_IN_DUTCH]
    assert not missing, missing
    for i in ids:
        assert set(re.findall(r"{\w+}", t(i))) == set(re.findall(r"{\w+}", i)), i
    english = translator("en", "page")
    leaks = [english(i) for i in ids if INTERNAL.search(english(i).replace("{", "").replace("}", ""))]
    assert not leaks, leaks


def test_why_sentences_say_what_the_trace_decided():
    w = Workshop(SETTINGS, seed=1)
    for _ in range(3):
        w.step()
    view = w.pair["integrated"]
    records = [r for r in view.persona("myra") if r["member"] == "Myra"]
    assert [r["year"] for r in records] == [1, 2, 3]
    for lang in ("nl", "en"):
        t = texts.page_translator(lang)
        for r in records:
            entries = view.decisions(r)
            assert entries and all(e.year == r["year"] and e.uid == r["uid"] for e in entries)
            text = why.sentence(t, r["status"], entries)
            assert text.startswith(texts.status(t, r["status"]).capitalize()) and text.endswith(".")
            assert not INTERNAL.search(text), text
            ranked = [e for e in entries if e.rank is not None]
            for e in ranked[:1]:  # the queue place the trace recorded is the one the sentence names
                assert t("ranked {rank} of {n}").format(rank=t.number(e.rank), n=t.number(e.candidates)) in text
    t = texts.page_translator("nl")
    first = why.sentence(t, records[0]["status"], view.decisions(records[0]))
    assert "ontschotte loket" in first or "Wmo-onderzoek" in first, first


def test_the_run_in_force_follows_reset_and_switches():
    t = texts.page_translator("nl")
    w = Workshop(SETTINGS, seed=2)
    assert app.run_in_force(w, t) == "Vanaf jaar 1: verkokerd"
    w.step()
    assert w.switch_regime("integrated") == 2  # switched after year 1: year 2 is the first under it
    assert app.run_in_force(w, t) == "Vanaf jaar 1: verkokerd; Vanaf jaar 2: ontschot"
    w.step()
    assert w.main.regime_in_force == ["compartmentalised", "integrated"]
    again = Workshop(SETTINGS, seed=2)  # what Reset builds: the run in force is the new one
    assert app.run_in_force(again, t) == "Vanaf jaar 1: verkokerd"
    again.switch_regime("integrated")  # before year 1: integrated from year 1, nothing else
    assert app.run_in_force(again, t) == "Vanaf jaar 1: ontschot"
    again.step()
    assert again.main.regime_in_force == ["integrated"]
    later = Workshop({**SETTINGS, "scenario.regime": "integrated", "scenario.from_year": 3}, seed=2)
    assert app.run_in_force(later, t) == "Vanaf jaar 1: verkokerd; Vanaf jaar 3: ontschot"
    shares = []
    for _ in range(3):
        later.step()
        shares.append(later.main.model.share)
    assert shares == [0.0, 0.0, 1.0]  # year 3 is the first integrated year
    gradual = Workshop({**SETTINGS, "scenario.regime": "gradual", "scenario.pooled_share": 0.25}, seed=2)
    assert app.run_in_force(gradual, t) == "Vanaf jaar 1: geleidelijk (25% ontschot)"
    for each in (w, again, later, gradual):
        each.release()


def test_a_refused_setting_names_the_control_not_the_parameter_path():
    from model.parameters import InputError

    with pytest.raises(InputError) as refused:
        Workshop({"scenario.inhabitants": 10})
    text = texts.refusal(texts.page_translator("nl"), str(refused.value))
    assert text == "Inwoners: 10 is niet toegestaan; toegestaan: een geheel getal van 1.000 tot en met 20.000.000"
    english = texts.refusal(texts.page_translator("en"), str(refused.value))
    assert english.startswith("Inhabitants: 10 is not allowed") and not INTERNAL.search(english)
