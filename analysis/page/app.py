"""The workshop page (Solara): steer a municipality live, see the transition, follow a persona.

Serve it with ``ontschot page`` (or ``solara run analysis.page.app``). Every browser session builds its
own ``Workshop`` inside the ``Page`` component (``solara.use_memo``), so one participant's clicks never
change another's page; a model built at module level would be shared by every visitor.

Controls are built from the parameter metadata (label, unit, range, choices) of ``session.CONTROL_KEYS``;
a changed control takes effect on "Reset" (a new run from year 0), "Switch regime now" changes the
running municipality's funding regime from the next year on.
"""

from __future__ import annotations

import html
import os
import time

import solara

from analysis import business_case
from analysis.page import charts, guard
from analysis.page.session import (
    DEFAULT_SEED,
    HOLDER_LABELS,
    PAIR,
    PERSONA_NAMES,
    SEED_RANGE,
    STATUS_LABELS,
    Track,
    Workshop,
    check_seed,
    control_keys,
    default_settings,
)
from experiments.arms import describe_funding, describe_practices
from model.constants import Holder, Status
from model.parameters import PARAMETERS, InputError
from model.personas import PERSONAS
from model.reporters import INDICATORS

PLAY_SECONDS = 1.0  # pause between years while playing: time for the room to read the pictures
SLIDER_MAX_STEPS = 300  # a whole-number range wider than this gets a number field instead of a slider
SLIDER_STEPS = 100  # a float slider moves in a hundredth of its range
MILLION = 1e6
TIMING = os.environ.get("ONTSCHOT_PAGE_TIMING") == "1"  # print each Step's server time (benchmarks/bench_page.py)


@solara.component
def Chart(name: str, build, key, height: int = 320):
    """One picture: its ECharts option is built again only when ``key`` (the session's run and year) changes."""
    option = solara.use_memo(build, [key])
    solara.FigureEcharts(option, attributes={"class": f"chart-{name}", "style": f"height: {height}px;"})


@solara.component
def Control(key: str, value, on_value):
    """A control for one parameter, from its metadata: a list of choices, a slider or a number field."""
    p = PARAMETERS.get(key)
    label = f"{p.label} ({p.unit})"
    with solara.Column(gap="0px", classes=[f"control-{key.replace('.', '-').replace('_', '-')}"]):
        if p.kind == "choice":
            guard.Select(label, value, on_value, key)
        elif p.kind == "int" and p.range[1] - p.range[0] <= SLIDER_MAX_STEPS:
            solara.Text(f"{label}: {value}", style={"font-size": "0.8em"})
            guard.Slider("", value, on_value, key, step=1)
        elif p.kind == "int":
            guard.NumberField(label, value, on_value, name=key)
            solara.Text(guard.allowed(key), style={"font-size": "0.7em"})
        elif p.kind == "float":
            lo, hi = p.range
            solara.Text(f"{label}: {value:g}", style={"font-size": "0.8em"})
            guard.Slider("", value, on_value, key, step=(hi - lo) / SLIDER_STEPS)
        else:  # a list (a yearly path): set it in a scenario file, not on the page
            solara.Text(f"{label}: {value} (change it in a scenario file)", style={"font-size": "0.8em"})


@solara.component
def Controls(pending, seed, on_reset, error):
    """The settings of the next run, built from ``CONTROL_KEYS``; applied by Reset."""
    with solara.Card("Settings (applied on Reset)", classes=["view-settings"]):
        for key in control_keys():
            Control(key, pending.value[key], lambda v, k=key: pending.set({**pending.value, k: v}))
        guard.NumberField(f"Seed (a whole number from {SEED_RANGE[0]})", seed.value, seed.set, name="seed",
                          classes=["control-seed"])
        solara.Button("Reset", color="primary", on_click=on_reset, classes=["button-reset"])
        if error.value:
            solara.Error(error.value, classes=["settings-error"])


@solara.component
def RunButtons(workshop: Workshop, playing, on_step):
    """Play / pause and step one year."""
    with solara.Row():
        solara.Button("Pause" if playing.value else "Play", color="primary", on_click=lambda: playing.set(not playing.value),
                      disabled=not workshop.running, classes=["button-play"])
        solara.Button("Step", color="primary", on_click=on_step, disabled=playing.value or not workshop.running,
                      classes=["button-step"])


@solara.component
def SwitchRegime(workshop: Workshop, on_switch):
    """Change the running municipality's funding regime from the next year on."""
    regime_choices = PARAMETERS.get("scenario.regime")
    share_meta = PARAMETERS.get("scenario.pooled_share")
    target = solara.use_reactive(PAIR[1] if workshop.main.model.regime == PAIR[0] else PAIR[0])
    share = solara.use_reactive(workshop.main.model.pooled_share)
    message = solara.use_reactive("")

    @guard.guarded
    def switch():
        year = workshop.switch_regime(target.value, share.value if target.value == "gradual" else None)
        message.set(f"From year {year}: {target.value}")
        on_switch()

    with solara.Card("Switch regime now", classes=["view-switch"]):
        guard.Select(regime_choices.label, target.value, target.set, "scenario.regime", classes=["switch-target"])
        if target.value == "gradual":
            lo, hi = share_meta.range
            guard.Slider(share_meta.label, share.value, share.set, "scenario.pooled_share", step=(hi - lo) / SLIDER_STEPS)
        solara.Button("Switch regime now", color="warning", on_click=switch, disabled=not workshop.running,
                      classes=["button-switch"])
        if message.value:
            solara.Text(message.value, classes=["switch-message"])


TABLE_STYLE = "border-collapse: collapse; font-size: 0.85em; margin: 4px 0;"
CELL_STYLE = "padding: 2px 8px; border-bottom: 1px solid #e0e0e0; text-align: right;"


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """An HTML table (cheaper to build on every year than Markdown), first column left-aligned."""
    def cells(tag, values):
        return "".join(f'<{tag} style="{CELL_STYLE}{" text-align: left;" if k == 0 else ""}">{html.escape(str(v))}'
                       f"</{tag}>" for k, v in enumerate(values))

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f'<table style="{TABLE_STYLE}"><thead><tr>{cells("th", header)}</tr></thead><tbody>{body}</tbody></table>'


@solara.component
def Table(header: tuple[str, ...], rows: list[tuple]):
    solara.HTML("div", unsafe_innerHTML=_table(header, rows), classes=["ontschot-table"])


def _eur_m(x: float) -> str:
    return f"{x / MILLION:,.2f}"


@solara.component
def LadderView(track: Track, key):
    with solara.Card("Participation ladder", classes=["view-ladder"]):
        Chart("ladder", lambda: charts.ladder(track), key)
        moves = track.ladder_moves[-1]
        up, down = sum(moves["up"].values()), sum(moves["down"].values())
        solara.Text(f"This year: {up:,} moved up, {down:,} moved down the ladder.", classes=["ladder-moves"])


@solara.component
def FlowView(track: Track, key):
    with solara.Card("Flow between statuses", classes=["view-flow"]):
        Chart("flow", lambda: charts.flow(track), key)
        now = track.status_counts[-1]
        moves = sorted(track.status_moves[-1].items(), key=lambda kv: -kv[1])[:8]
        with solara.Columns([1, 1]):
            Table(("status", "residents"), [(k, f"{v:,}") for k, v in now.items()])
            Table(("biggest moves this year", "residents"),
                  [(f"{a} → {b}", f"{n:,}") for (a, b), n in moves] or [("(none yet)", "")])


@solara.component
def SpendingView(track: Track, key):
    with solara.Card("Spending and the business case", classes=["view-spending"]):
        Chart("spending", lambda: charts.spending(track), key)
        if track.spend:
            rows = [(h, _eur_m(v)) for h, v in track.spend[-1].items()]
            rows.append(("cumulative own result (all holders)", _eur_m(sum(track.own_result))))
            Table((f"year {track.year}", "EUR million"), rows)


@solara.component
def FirmView(track: Track, key):
    with solara.Card("Social-firm places", classes=["view-firms"]):
        Chart("firms", lambda: charts.firm_places(track), key, height=190)
        if track.firms:
            now = track.firms[-1]
            rows = [(stream, now["bought"][stream], now["filled"][stream]) for stream in now["bought"]]
            rows.append(("empty", "", now["places"]["empty"]))
            Table(("funding stream", "places bought", "filled"), rows)
        case = business_case.so_far(track.indicator)  # the firm's business case for the municipality [SR]
        if case:
            Table(("business case (EUR thousand)", f"year {track.year}", "so far"), case)


COMPARED = ("benefit_stock", "outflow_work", "not_in_sight", "spend_total", "own_result_total")


@solara.component
def SideBySideView(workshop: Workshop, key):
    with solara.Card("Side by side: the same municipality, the same random numbers",
                     classes=["view-side-by-side"]):
        options = solara.use_memo(lambda: charts.side_by_side(workshop.pair), [key])
        with solara.Columns([1, 1, 1]):
            for regime, option in zip(PAIR, options, strict=True):
                solara.FigureEcharts(option, attributes={"class": f"chart-{regime}", "style": "height: 320px;"})
            Chart("business-case", lambda: charts.business_case(workshop.business_case()["difference"]), key)
        if workshop.year:
            rows = []
            for name in COMPARED:
                unit, meaning = INDICATORS[name]
                values = [workshop.pair[r].indicator(name)[-1] for r in PAIR]
                show = _eur_m if unit == "EUR" else (lambda x: f"{x:,.0f}")
                rows.append((f"{meaning} ({'EUR million' if unit == 'EUR' else unit})", *map(show, values),
                             show(values[1] - values[0])))
            Table((f"year {workshop.year}", *PAIR, "difference"), rows)
        arms = workshop.pair_arms()
        Table(("arm", "funding", "practices (the controls' values, the same in both)"),
              [(name, describe_funding(c), describe_practices(c["practices"])) for name, c in arms.items()])


def _status_text(record: dict) -> str:
    status = record["status"]
    return STATUS_LABELS[Status[status.upper()]] if status.upper() in Status.__members__ else status


def _payers(record: dict) -> str:
    names = sorted({HOLDER_LABELS[Holder[h.upper()]] for h in record["payers"].values()})
    return ", ".join(names) or "-"


@solara.component
def PersonaView(workshop: Workshop, key):
    name = solara.use_reactive(PERSONA_NAMES[0])
    with solara.Card("Persona", classes=["view-persona"]):
        guard.ToggleButtons(name, list(PERSONA_NAMES), [PERSONAS[n]["label"] for n in PERSONA_NAMES], "persona",
                            classes=["persona-choice"])
        solara.Text(PERSONAS[name.value]["source"])
        with solara.Columns([1, 1]):
            for regime in PAIR:
                records = workshop.pair[regime].persona(name.value)
                with solara.Column(classes=[f"persona-{regime}"]):
                    # bold text, not solara.Markdown: that loads mermaid (3 MB of JavaScript) in every browser
                    solara.Text(regime, style={"font-weight": "bold"})
                    if not records:
                        solara.Text("Step a year to see the path.")
                        continue
                    last = max(r["year"] for r in records)
                    now = [(r["member"], _status_text(r), ", ".join(r["provisions"]) or "-",
                            _payers(r)) for r in records if r["year"] == last]
                    Table((f"year {last}", "status", "instruments", "who pays"), now)
                    members = list(dict.fromkeys(r["member"] for r in records))
                    path = [(y, *(next((_status_text(r) for r in records if r["year"] == y and r["member"] == m), "")
                                  for m in members)) for y in range(1, last + 1)]
                    Table(("year", *members), path)
                    # why each year went as it did: the desk, its offer, the queue rank, the money left (model/trace.py)
                    with solara.Column(classes=["persona-why"]):
                        Table(("year", "member", "why"), [(r["year"], r["member"], r.get("why", ""))
                                                          for r in records])


@guard.seated  # at most guard.MAX_SESSIONS sessions; memory given back when one closes
@solara.component
def Page():
    """The page of one browser session: its own workshop, built here and kept per session."""
    first = solara.use_memo(lambda: Workshop(seed=DEFAULT_SEED), [])
    workshop = solara.use_reactive(first)
    year = solara.use_reactive(0)  # re-renders the views after a step (the workshop changes in place)
    switched = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    pending = solara.use_reactive(default_settings())
    seed = solara.use_reactive(DEFAULT_SEED)
    error = solara.use_reactive("")
    w = workshop.value

    @guard.guarded
    def step():
        start, cpu = time.perf_counter(), time.thread_time()
        reached = w.step()
        stepped = time.thread_time()
        year.set(reached)  # the views render again in this call, before the browser is told
        if TIMING:  # wall time, and this thread's own CPU time (the rest is waiting for the CPU or the GIL)
            print(f"ontschot-page: year {w.year} stepped and rendered in {time.perf_counter() - start:.3f} s "
                  f"(thread CPU {time.thread_time() - cpu:.3f} s, of which the models {stepped - cpu:.3f} s)",
                  flush=True)

    @guard.guarded
    def reset():
        playing.set(False)
        try:
            new = Workshop(guard.page_settings(pending.value), check_seed(seed.value))
        except InputError as exc:
            error.set(str(exc))
            return
        error.set("")
        w.release()
        workshop.set(new)
        year.set(0)

    @guard.guarded(clear=False)  # not an action of the participant's: it ends after every Reset too
    def play():
        while playing.value and w.running:
            time.sleep(PLAY_SECONDS)
            if not playing.value:
                break
            year.set(w.step())
        playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, w])
    solara.use_effect(lambda: lambda: workshop.value.release(), [])  # the session closes: free its models
    key = (id(w), year.value, switched.value)

    solara.Title("Ontschot — workshop")
    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Run", classes=["view-run"]):
                solara.HTML("h2", f"Year {w.year} of {w.horizon}", classes=["ontschot-year"])
                regime = w.main.regime_in_force[-1] if w.main.regime_in_force else w.main.model.regime
                solara.Text(f"Your municipality: {w.values['scenario.inhabitants']:,} inhabitants, seed {w.seed}; "
                            f"regime last year: {regime}", classes=["ontschot-regime"])
                RunButtons(w, playing, step)
                guard.Notice()
            SwitchRegime(w, lambda: switched.set(switched.value + 1))
            Controls(pending, seed, reset, error)
        with solara.Column():
            with solara.Columns([1, 1]):
                LadderView(w.main, key)
                FlowView(w.main, key)
            with solara.Columns([1, 1]):
                SpendingView(w.main, key)
                FirmView(w.main, key)
            SideBySideView(w, key)
            PersonaView(w, key)
