"""The workshop page (Solara): steer a municipality live, see the transition, follow a persona.

Serve it with ``ontschot page`` (or ``solara run analysis.page.app``). Every browser session builds its
own ``Workshop`` inside the ``Page`` component (``solara.use_memo``), so one participant's clicks never
change another's page; a model built at module level would be shared by every visitor.

Controls are built from the parameter metadata (label, unit, range, choices) of ``session.CONTROL_KEYS``;
a changed control takes effect on "Reset" (a new run from year 0), "Switch regime now" changes the
running municipality's funding regime from the next year on.

Dutch by default, English with the switch at the top, ``?lang=en`` in the address, or ``ontschot page
--lang en``; every text goes through ``analysis.i18n.translator(lang, "page")`` and the labels of
``texts.py``. ``?view=presenter`` is the trainer's projected view: Step, Play, Reset and the regime switch,
a few large numbers and this year's flow diagram (``sankey.py``).
"""

from __future__ import annotations

import html
import os
import time

import solara

from analysis import business_case
from analysis.i18n import LANGUAGES, Translator
from analysis.page import charts, guard, sankey, texts, why
from analysis.page.session import (
    DEFAULT_SEED,
    PAIR,
    PERSONA_NAMES,
    SEED_RANGE,
    Track,
    Workshop,
    check_seed,
    control_keys,
    default_settings,
)
from model.parameters import PARAMETERS, InputError

PLAY_SECONDS = 1.0  # pause between years while playing: time for the room to read the pictures
SLIDER_MAX_STEPS = 300  # a whole-number range wider than this gets a number field instead of a slider
SLIDER_STEPS = 100  # a float slider moves in a hundredth of its range
MILLION = 1e6
THOUSAND = 1e3
TIMING = os.environ.get("ONTSCHOT_PAGE_TIMING") == "1"  # print each Step's server time (benchmarks/bench_page.py)
SLIDER_STYLE = "min-width: 220px; width: 100%;"  # a slider as wide as its card, never a few pixels


@solara.component
def Chart(name: str, build, key, height: int = 320):
    """One picture: its ECharts option is built again only when ``key`` (the session's run, year, language) changes."""
    option = solara.use_memo(build, [key])
    solara.FigureEcharts(option, attributes={"class": f"chart-{name}", "style": f"height: {height}px;"})


@solara.component
def Control(key: str, value, on_value, t: Translator):
    """A control for one parameter, from its metadata: a list of choices, a slider or a number field."""
    p = PARAMETERS.get(key)
    label = f"{texts.control_label(t, key, p.label)} ({texts.unit(t, p.unit)})"
    with solara.Column(gap="0px", classes=[f"control-{key.replace('.', '-').replace('_', '-')}"], style=SLIDER_STYLE):
        if p.kind == "choice":
            guard.Select(label, value, on_value, key, names={c: texts.choice(t, c) for c in p.choices})
        elif p.kind == "int" and p.range[1] - p.range[0] <= SLIDER_MAX_STEPS:
            solara.Text(f"{label}: {texts.value_text(t, 'int', value)}", style={"font-size": "0.8em"})
            guard.Slider("", value, on_value, key, step=1)
        elif p.kind == "int":
            guard.NumberField(label, value, on_value, name=key)
            hint = guard.allowed(key) if key == guard.INHABITANTS else texts.number_field_hint(t, *p.range)
            solara.Text(hint, style={"font-size": "0.7em"})
        elif p.kind == "float":
            lo, hi = p.range
            solara.Text(f"{label}: {texts.value_text(t, 'float', value)}", style={"font-size": "0.8em"})
            guard.Slider("", value, on_value, key, step=(hi - lo) / SLIDER_STEPS)
        else:  # a list (a yearly path): set it in a scenario file, not on the page
            solara.Text(t("{label}: set it in a scenario file").format(label=label), style={"font-size": "0.8em"})


@solara.component
def Controls(pending, seed, on_reset, error, t: Translator):
    """The settings of the next run, built from ``CONTROL_KEYS``; applied by Reset."""
    with solara.Card(t("Settings (applied on Reset)"), classes=["view-settings"]):
        for key in control_keys():
            Control(key, pending.value[key], lambda v, k=key: pending.set({**pending.value, k: v}), t)
        guard.NumberField(t("Seed (a whole number from {lo})").format(lo=t.number(SEED_RANGE[0])), seed.value,
                          seed.set, name="seed", classes=["control-seed"])
        solara.Button(t("Reset"), color="primary", on_click=on_reset, classes=["button-reset"])
        if error.value:
            solara.Error(error.value, classes=["settings-error"])


@solara.component
def RunButtons(workshop: Workshop, playing, on_step, t: Translator):
    """Play / pause and step one year."""
    with solara.Row():
        solara.Button(t("Pause") if playing.value else t("Play"), color="primary",
                      on_click=lambda: playing.set(not playing.value),
                      disabled=not workshop.running, classes=["button-play"])
        solara.Button(t("Step"), color="primary", on_click=on_step, disabled=playing.value or not workshop.running,
                      classes=["button-step"])


def run_in_force(workshop: Workshop, t: Translator) -> str:
    """The regime of the run in force, from year 1 and from each switch: 'From year 1: compartmentalised; ...'."""
    return "; ".join(t("From year {year}: {regime}").format(year=year, regime=texts.regime(t, regime, share))
                     for year, regime, share in workshop.regimes())


@solara.component
def SwitchRegime(workshop: Workshop, on_switch, t: Translator):
    """Change the running municipality's funding regime from the next year on; below it, the run in force."""
    regime_choices = PARAMETERS.get("scenario.regime")
    share_meta = PARAMETERS.get("scenario.pooled_share")
    other = PAIR[1] if workshop.main.model.regime == PAIR[0] else PAIR[0]
    target = solara.use_reactive(other)
    share = solara.use_reactive(workshop.main.model.pooled_share)

    def new_run():  # a Reset: offer the other regime than the new run's, at its pooled share
        target.set(other)
        share.set(workshop.main.model.pooled_share)

    solara.use_effect(new_run, [id(workshop)])
    switches = solara.use_reactive(0)  # this card shows the run in force again after a switch
    switches.get()  # read while rendering, so that a switch renders this card again (Solara follows what is read)
    shown_names = {c: texts.choice(t, c) for c in regime_choices.choices}

    @guard.guarded
    def switch():
        workshop.switch_regime(target.value, share.value if target.value == "gradual" else None)
        switches.set(switches.value + 1)
        on_switch()

    with solara.Card(t("Switch regime now"), classes=["view-switch"]):
        guard.Select(t(regime_choices.label), target.value, target.set, "scenario.regime",
                     names=shown_names, classes=["switch-target"])
        if target.value == "gradual":
            lo, hi = share_meta.range
            with solara.Column(gap="0px", classes=["switch-share"], style=SLIDER_STYLE):
                solara.Text(f"{t(share_meta.label)}: {t.percent(share.value)}", style={"font-size": "0.8em"},
                            classes=["switch-share-value"])
                guard.Slider("", share.value, share.set, "scenario.pooled_share", step=(hi - lo) / SLIDER_STEPS,
                             classes=["switch-share-slider"])
        solara.Button(t("Switch regime now"), color="warning", on_click=switch, disabled=not workshop.running,
                      classes=["button-switch"])
        solara.HTML("div", html.escape(run_in_force(workshop, t)), classes=["switch-message"],
                    style="margin-top: 8px;")  # its own line under the button


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
def Table(header: tuple[str, ...], rows: list[tuple], classes: list[str] | None = None):
    solara.HTML("div", unsafe_innerHTML=_table(header, rows), classes=["ontschot-table", *(classes or [])])


def _eur_m(t: Translator, x: float) -> str:
    return t.number(x / MILLION, 2)


def _this_year(t: Translator, year: int) -> str:
    return t("this year (year {year})").format(year=year)


def _year_end(t: Translator, year: int) -> str:
    return t("at the end of year {year}").format(year=year)


def _cumulative(t: Translator, year: int) -> str:
    return t("cumulative, years 1–{year}").format(year=year)


@solara.component
def LadderView(track: Track, key, t: Translator):
    with solara.Card(t("Participation ladder"), classes=["view-ladder"]):
        Chart("ladder", lambda: charts.ladder(track, t), key)
        moves = track.ladder_moves[-1]
        up, down = sum(moves["up"].values()), sum(moves["down"].values())
        solara.Text(t("This year: {up} moved up, {down} moved down the ladder.").format(
            up=t.persons(up), down=t.persons(down)), classes=["ladder-moves"])


def sankey_html(track: Track, t: Translator, part: str, width: float, height: float,
                shown_width: float | None = None) -> str:
    """One part of this year's moves (``within``, ``entries`` or ``exits``) as inline SVG, labels translated."""
    flows = sankey.split_moves(track.status_moves[-1])[part]
    diagram = sankey.layout(flows, width, height)
    names = {sankey.ENTERED: t("came in (new households)"), sankey.LEFT: t("left the population")}
    return sankey.svg(diagram, lambda k: names.get(k) or t(k), t.persons, css_class=f"sankey sankey-{part}",
                      shown_width=shown_width)


@solara.component
def SankeyView(track: Track, key, t: Translator, large: bool = False):
    """This year's moves between statuses: within the social domain (care to work highlighted), then in and out."""
    moves = track.status_moves[-1]
    parts = sankey.split_moves(moves)
    size = (sankey.LARGE_WIDTH, sankey.LARGE_HEIGHT, sankey.LARGE_SHOWN) if large else (sankey.WIDTH, sankey.HEIGHT)
    within = solara.use_memo(lambda: sankey_html(track, t, "within", *size), [key])
    small = solara.use_memo(lambda: (sankey_html(track, t, "entries", sankey.WIDTH / 2 + sankey.LABEL_ROOM / 2,
                                                 sankey.SMALL_HEIGHT),
                                     sankey_html(track, t, "exits", sankey.WIDTH / 2 + sankey.LABEL_ROOM / 2,
                                                 sankey.SMALL_HEIGHT)), [key])
    with solara.Card(t("Moves between statuses this year (year {year})").format(year=track.year),
                     classes=["view-sankey"]):
        if not track.year:
            solara.Text(t("Step a year to see who moved where."), classes=["sankey-empty"])
            return
        care = sankey.care_to_work(moves)
        solara.HTML("div", unsafe_innerHTML=html.escape(t(
            "Within the social domain: {n} residents changed status this year; in orange: {care} from Wmo care "
            "(day activities, guidance; with or without benefit) into work or a re-integration trajectory.").format(
                n=t.persons(sum(parts["within"].values())), care=t.persons(care))),
            classes=["sankey-caption"], style="font-size: 1.1em;" if large else "font-size: 0.9em;")
        solara.HTML("div", unsafe_innerHTML=within, classes=["sankey-within"])
        if large:
            return
        solara.Text(t("In and out of the social domain this year: {entries} came in, {exits} left.").format(
            entries=t.persons(sum(parts["entries"].values())), exits=t.persons(sum(parts["exits"].values()))),
            classes=["sankey-in-out"])
        with solara.Columns([1, 1]):
            solara.HTML("div", unsafe_innerHTML=small[0], classes=["sankey-entries"])
            solara.HTML("div", unsafe_innerHTML=small[1], classes=["sankey-exits"])


@solara.component
def FlowView(track: Track, key, t: Translator):
    with solara.Card(t("Residents by status"), classes=["view-flow"]):
        Chart("flow", lambda: charts.flow(track, t), key)
        now = track.status_counts[-1]
        within = sankey.split_moves(track.status_moves[-1])["within"]
        moves = sorted(within.items(), key=lambda kv: -kv[1])[:8]
        with solara.Columns([1, 1]):
            Table((t("status"), t("residents, {period}").format(period=_year_end(t, track.year))),
                  [(t(k), t.persons(v)) for k, v in now.items()])
            Table((t("biggest moves within the social domain, {period}").format(period=_this_year(t, track.year)),
                   t("residents")),
                  [(f"{t(a)} → {t(b)}", t.persons(n)) for (a, b), n in moves] or [(t("(none yet)"), "")])


@solara.component
def SpendingView(track: Track, key, t: Translator):
    with solara.Card(t("Spending and the business case"), classes=["view-spending"]):
        Chart("spending", lambda: charts.spending(track, t), key)
        if track.spend:
            rows = [(t(h), _this_year(t, track.year), _eur_m(t, v)) for h, v in track.spend[-1].items()]
            rows.append((t("own result (all holders)"), _cumulative(t, track.year), _eur_m(t, sum(track.own_result))))
            Table(("", t("period"), t("EUR million")), rows)


@solara.component
def FirmView(track: Track, key, t: Translator):
    with solara.Card(t("Social-firm places"), classes=["view-firms"]):
        Chart("firms", lambda: charts.firm_places(track, t), key, height=190)
        if track.firms:
            now = track.firms[-1]
            rows = [(t(stream), t.persons(now["bought"][stream]), t.persons(now["filled"][stream]))
                    for stream in now["bought"]]
            rows.append((t("empty"), "", t.persons(now["places"]["empty"])))
            Table((t("funding stream, {period}").format(period=_this_year(t, track.year)), t("places bought"),
                   t("filled")), rows)
        # the firm's business case for the municipality (analysis/business_case.py)
        case = business_case.so_far(track.indicator)
        if case and track.year:  # one row per ``PAGE_LINES`` name, in order, then the payback
            rows = [(t(texts.BUSINESS_CASE_WORDS[name]), _thousands(t, now_text), _thousands(t, so_far))
                    for name, (_, now_text, so_far) in zip(business_case.PAGE_LINES, case, strict=False)]
            rows.append((t("payback (first year the cumulative net is 0 or more)"), "", _payback(t, case[-1][2])))
            Table((t("business case (EUR thousand)"), _this_year(t, track.year), _cumulative(t, track.year)), rows)


def _thousands(t: Translator, text: str) -> str:
    """A figure ``so_far`` wrote in English form (``-1,234``) in this language's form."""
    return t.number(float(text.replace(",", ""))) if text else ""


def _payback(t: Translator, text: str) -> str:
    if text.startswith("year "):
        return t("year {year}").format(year=text.removeprefix("year "))
    return t("not yet")


COMPARED = (("benefit_stock", "residents on social assistance (bijstand)", "end"),
            ("outflow_work", "moves into paid work", "year"),
            ("not_in_sight", "residents with problems not known to any desk", "end"),
            ("spend_total", "municipal spending in the social domain", "year"),
            ("own_result_total", "own result in the social domain", "year"))


@solara.component
def SideBySideView(workshop: Workshop, key, t: Translator):
    with solara.Card(t("Side by side: the same municipality, the same random numbers"),
                     classes=["view-side-by-side"]):
        options = solara.use_memo(lambda: charts.side_by_side(workshop.pair, t), [key])
        with solara.Columns([1, 1, 1]):
            for regime, option in zip(PAIR, options, strict=True):
                solara.FigureEcharts(option, attributes={"class": f"chart-{regime}", "style": "height: 320px;"})
            Chart("business-case", lambda: charts.business_case(workshop.business_case()["difference"], t), key)
        year = workshop.year
        if year:
            rows = []
            for name, meaning, period in COMPARED:
                values = [workshop.pair[r].indicator(name)[-1] for r in PAIR]
                money = name in ("spend_total", "own_result_total")
                rows.append((t(meaning) + (f", {t('EUR million')}" if money else ""),
                             _this_year(t, year) if period == "year" else _year_end(t, year),
                             *(_eur_m(t, v) if money else t.persons(v) for v in values),
                             t.signed((values[1] - values[0]) / MILLION, 2) if money
                             else t.signed(values[1] - values[0])))
            care = [sankey.care_to_work(workshop.pair[r].status_moves[-1]) for r in PAIR]
            rows.insert(2, (t("from Wmo care into work or a trajectory"), _this_year(t, year),
                            *map(t.persons, care), t.signed(care[1] - care[0])))
            cum = workshop.business_case()
            rows.append((t("own result in the social domain, EUR million"), _cumulative(t, year),
                         *(_eur_m(t, cum[r][-1]) for r in PAIR), t.signed(cum["difference"][-1] / MILLION, 2)))
            Table((t("indicator"), t("period"), *(t(r) for r in PAIR), t("difference")), rows,
                  classes=["side-by-side-table"])
        Table((t("arm"), t("funding"), t("practices (the controls' values, the same in both)")),
              [(t(name), _funding(t, c), _practices(t, c["practices"])) for name, c in workshop.pair_arms().items()])


def _funding(t: Translator, contents: dict) -> str:
    share = contents["pooled_share"]
    return t("{regime} (pooled share {share})").format(regime=texts.choice(t, contents["regime"]),
                                                       share=t.percent(share))


def _practices(t: Translator, practices: dict) -> str:
    parts = []
    for key, value in practices.items():
        p = PARAMETERS.get(key) if key in PARAMETERS else None
        label = t(p.label) if p is not None else t(key)
        shown = texts.choice(t, value) if isinstance(value, str) else t.number(value, 2)
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def _provisions(t: Translator, record: dict) -> str:
    return ", ".join(texts.instrument(t, p) for p in record["provisions"]) or "–"


def _payers(t: Translator, record: dict) -> str:
    return ", ".join(sorted({texts.holder(t, h) for h in record["payers"].values()})) or "–"


@solara.component
def PersonaView(workshop: Workshop, key, t: Translator):
    name = solara.use_reactive(PERSONA_NAMES[0])
    with solara.Card(t("Persona"), classes=["view-persona"]):
        guard.ToggleButtons(name, list(PERSONA_NAMES), [t(n.capitalize()) for n in PERSONA_NAMES], "persona",
                            classes=["persona-choice"])
        solara.Text(t(texts.PERSONA_WORDS.get(name.value, "")))
        with solara.Columns([1, 1]):
            for regime in PAIR:
                view = workshop.pair[regime]
                records = view.persona(name.value)
                with solara.Column(classes=[f"persona-{regime}"]):
                    # bold text, not solara.Markdown: that loads mermaid (3 MB of JavaScript) in every browser
                    solara.Text(t(regime), style={"font-weight": "bold"})
                    if not records:
                        solara.Text(t("Step a year to see the path."))
                        continue
                    last = max(r["year"] for r in records)
                    now = [(texts.role(t, r["member"]), texts.status(t, r["status"]), _provisions(t, r),
                            _payers(t, r)) for r in records if r["year"] == last]
                    Table((t("at the end of year {year}").format(year=last), t("status"), t("instruments"),
                           t("who pays")), now)
                    members = list(dict.fromkeys(r["member"] for r in records))
                    # why each year went as it did, one sentence per year (model/trace.py, why.py)
                    first = members[0]
                    sentences = [(r["year"], why.sentence(t, r["status"], view.decisions(r)))
                                 for r in records if r["member"] == first]
                    with solara.Column(classes=["persona-why"]):
                        Table((t("year"), t("why ({member})").format(member=texts.role(t, first))),
                              sentences[::-1])
                    path = [(y, *(next((texts.status(t, r["status"]) for r in records
                                        if r["year"] == y and r["member"] == m), "") for m in members))
                            for y in range(1, last + 1)]
                    Table((t("year"), *(texts.role(t, m) for m in members)), path)


@solara.component
def Header(lang, view: str, t: Translator):
    """Title, the language switch and the link between the full and the presenter view."""
    with solara.Row(style={"align-items": "center"}, classes=["ontschot-header"]):
        solara.HTML("h1", t("Ontschot — workshop"), style="font-size: 1.4em; margin: 0 12px 0 0;")
        solara.ToggleButtonsSingle(value=lang, children=[solara.Button(texts.LANGUAGE_NAMES[code], value=code)
                                                         for code in LANGUAGES], classes=["language-switch"])
        other = "full" if view == "presenter" else "presenter"
        link = t("Presenter view") if other == "presenter" else t("Full page")
        solara.HTML("a", html.escape(link), attributes={"href": f"?view={other}&lang={lang.value}"},
                    classes=[f"link-{other}"])


@solara.component
def BigNumber(label: str, value: str, period: str, name: str):
    with solara.Card(classes=[f"big-{name}", "big-number"]):
        solara.HTML("div", html.escape(value), style="font-size: 3em; font-weight: bold; line-height: 1.1;")
        solara.HTML("div", html.escape(label), style="font-size: 1.2em;")
        solara.HTML("div", html.escape(period), style="font-size: 0.95em; color: #607d8b;")


@solara.component
def PresenterView(w: Workshop, key, t: Translator, playing, step, reset, switched):
    """The trainer's projected view: few controls, large numbers, this year's flow diagram."""
    regime = w.main.model.regime
    other = PAIR[1] if regime == PAIR[0] else PAIR[0]
    switched.get()  # read while rendering: a switch shows the new run in force and the other regime's button

    @guard.guarded
    def switch():
        w.switch_regime(other)
        switched.set(switched.value + 1)

    with solara.Row(style={"align-items": "center"}, classes=["view-presenter"]):
        solara.HTML("h2", t("Year {year} of {horizon}").format(year=w.year, horizon=w.horizon),
                    classes=["ontschot-year"], style="font-size: 2.4em; margin: 0 24px 0 0;")
        RunButtons(w, playing, step, t)
        solara.Button(t("Reset"), on_click=reset, classes=["button-reset"])
        solara.Button(t("Switch to {regime}").format(regime=t(other)), color="warning", on_click=switch,
                      disabled=not w.running, classes=["button-switch"])
    solara.HTML("div", html.escape(run_in_force(w, t)), classes=["switch-message"], style="font-size: 1.2em;")
    guard.Notice()
    m = w.main
    if w.year:
        moves = m.status_moves[-1]
        with solara.Columns([1, 1, 1, 1, 1]):
            BigNumber(t("residents on social assistance (bijstand)"), t.persons(m.indicator("benefit_stock")[-1]),
                      _year_end(t, w.year), "benefit")
            BigNumber(t("moves into paid work"), t.persons(m.indicator("outflow_work")[-1]), _this_year(t, w.year),
                      "work")
            BigNumber(t("from Wmo care into work or a trajectory"), t.persons(sankey.care_to_work(moves)),
                      _this_year(t, w.year), "care-to-work")
            BigNumber(t("not in sight"), t.persons(m.indicator("not_in_sight")[-1]), _year_end(t, w.year),
                      "not-in-sight")
            BigNumber(t("own result in the social domain, EUR million"), _eur_m(t, sum(m.own_result)),
                      _cumulative(t, w.year), "own-result")
    SankeyView(m, key, t, large=True)


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
    router = solara.use_router()
    start_lang, view = texts.page_options(router.search)
    lang = solara.use_reactive(start_lang)
    t = texts.page_translator(lang.value)
    solara.use_effect(lambda: guard.LANGUAGE.set(lang.value), [lang.value])  # the guard's messages follow it
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
            error.set(texts.refusal(t, str(exc)))
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
    # what the pictures are built from: a switch changes no picture until the next year is simulated
    key = (id(w), year.value, lang.value)

    solara.Title(t("Ontschot — workshop"))
    Header(lang, view, t)
    if view == "presenter":
        PresenterView(w, key, t, playing, step, reset, switched)
        return
    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card(t("Run"), classes=["view-run"]):
                solara.HTML("h2", t("Year {year} of {horizon}").format(year=w.year, horizon=w.horizon),
                            classes=["ontschot-year"])
                regime = w.main.regime_in_force[-1] if w.main.regime_in_force else None
                solara.Text(t("Your municipality: {inhabitants} inhabitants, seed {seed}; regime in force {period}: "
                              "{regime}").format(inhabitants=t.persons(w.values["scenario.inhabitants"]), seed=w.seed,
                                                 period=_this_year(t, w.year) if w.year else t("in year 1"),
                                                 regime=_regime_in_force(t, regime, w)),
                            classes=["ontschot-regime"])
                RunButtons(w, playing, step, t)
                guard.Notice()
            SwitchRegime(w, lambda: switched.set(switched.value + 1), t)
            Controls(pending, seed, reset, error, t)
        with solara.Column():
            SankeyView(w.main, key, t)
            with solara.Columns([1, 1]):
                LadderView(w.main, key, t)
                FlowView(w.main, key, t)
            with solara.Columns([1, 1]):
                SpendingView(w.main, key, t)
                FirmView(w.main, key, t)
            SideBySideView(w, key, t)
            PersonaView(w, key, t)


def _regime_in_force(t: Translator, recorded: str | None, w: Workshop) -> str:
    """``Track.regime_in_force``'s record ('gradual (50% pooled)') in words; before year 1 the run's first regime."""
    if recorded is None:
        _, regime, share = w.regimes()[0]
        return texts.regime(t, regime, share)
    if recorded.startswith("gradual"):
        return texts.regime(t, "gradual", w.main.model.share)
    return texts.regime(t, recorded)
