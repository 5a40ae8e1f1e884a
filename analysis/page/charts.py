"""The page's pictures as ECharts options, built from a session's tracks (``session.py``).

The browser draws them (``solara.FigureEcharts``), so a simulated year costs the server the model's
step and a few kilobytes of numbers, not an image per view and session. Solara's offline assets ship
the ECharts version it asks for (Vega-based plots, by contrast, stay blank offline). Animation is
off: a projected picture should change at once, and a screenshot should not depend on timing. Every text
(titles, series, axes) goes through the page's translator ``t`` (``analysis/page/texts.py``).
"""

from __future__ import annotations

from analysis.i18n import Translator
from analysis.page.session import PAIR, STATUS_LABELS, STATUS_ORDER, STEP_LABELS, Track

MILLION = 1e6
# One colour per status, dark for work and light for being out of sight, so the stack reads as a ladder.
STATUS_COLOURS = ("#1b5e20", "#43a047", "#9ccc65", "#fbc02d", "#fb8c00", "#8d6e63", "#e53935", "#7986cb", "#b0bec5")
HOLDER_COLOURS = ("#1565c0", "#64b5f6", "#8e24aa", "#00897b")
FIRM_COLOURS = ("#64b5f6", "#8e24aa", "#00897b", "#eceff1")
UP, DOWN, STAYED, ENTERED = "#2e7d32", "#c62828", "#90a4ae", "#ffb300"


def _base(title: str, **extra) -> dict:
    return {"animation": False, "title": {"text": title, "textStyle": {"fontSize": 13}},
            "tooltip": {"trigger": "axis"}, "legend": {"top": 24, "itemWidth": 14, "textStyle": {"fontSize": 11}},
            "grid": {"top": 95, "left": 20, "right": 30, "bottom": 30, "containLabel": True}, **extra}


def _axis(kind: str, name: str, **extra) -> dict:
    """An axis with its name centred along it (not at its end, where a long name is cut off)."""
    return {"type": kind, "name": name, "nameLocation": "middle", "nameGap": 28, **extra}


def ladder(track: Track, t: Translator) -> dict:
    """Residents on each participation step this year: who stayed, moved up, moved down or entered."""
    steps = sorted(STEP_LABELS)
    moves = track.ladder_moves[-1]
    if track.year == 0:
        parts = ((t("at the start"), STAYED, [track.step_counts[-1][s] for s in steps]),)
    else:
        parts = tuple((f"{t(name)} ({t.persons(sum(moves[key].values()))})", colour,
                       [moves[key].get(s, 0) for s in steps])
                      for key, colour, name in (("stayed", STAYED, "stayed"), ("up", UP, "moved up"),
                                                ("down", DOWN, "moved down"), ("entered", ENTERED, "new this year")))
    option = _base(t("Participation ladder at the end of year {year}").format(year=track.year))
    option["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    option["yAxis"] = {"type": "category", "data": [t(STEP_LABELS[s]) for s in steps]}
    option["xAxis"] = _axis("value", t("residents"))
    option["series"] = [{"name": name, "type": "bar", "stack": "ladder", "color": colour, "data": data}
                        for name, colour, data in parts]
    totals = [track.step_counts[-1][s] for s in steps]  # the last part of each bar is labelled with the total
    option["series"][-1]["data"] = [{"value": v, "label": {"show": True, "position": "right",
                                                           "formatter": t.persons(total)}}
                                    for v, total in zip(option["series"][-1]["data"], totals, strict=True)]
    return option


def flow(track: Track, t: Translator, title: str | None = None, y_max: float | None = None) -> dict:
    """Residents by status at the end of each year, stacked (work at the bottom, out of sight on top)."""
    years = list(range(len(track.status_counts)))
    option = _base(title or t("Residents by status at the end of each year, year {year}").format(year=track.year))
    option["xAxis"] = _axis("category", t("year"), data=years, boundaryGap=False)
    option["yAxis"] = _axis("value", t("residents"), nameGap=45, **({"max": y_max} if y_max else {}))
    option["series"] = [{"name": t(STATUS_LABELS[s]), "type": "line", "stack": "status", "areaStyle": {},
                         "symbol": "circle" if len(years) == 1 else "none", "color": STATUS_COLOURS[k],
                         "data": [counts[STATUS_LABELS[s]] for counts in track.status_counts]}
                        for k, s in enumerate(STATUS_ORDER)]
    return option


def spending(track: Track, t: Translator) -> dict:
    """Spending per budget holder each year (stacked bars, EUR million) and the cumulative own result (line)."""
    years = list(range(1, len(track.spend) + 1))
    names = list(track.spend[0]) if track.spend else []
    cumulative, total = [], 0.0
    for value in track.own_result:
        total += value
        cumulative.append(round(total / MILLION, 3))
    option = _base(t("Spending per budget holder per year, year {year}").format(year=track.year))
    option["xAxis"] = _axis("category", t("year"), data=years)
    option["yAxis"] = [_axis("value", t("spending per year, EUR million"), nameGap=40),
                       _axis("value", t("cumulative own result, EUR million"), nameGap=40, splitLine={"show": False})]
    option["series"] = [{"name": t(name), "type": "bar", "stack": "spend", "color": HOLDER_COLOURS[k],
                         "data": [round(s[name] / MILLION, 3) for s in track.spend]} for k, name in enumerate(names)]
    option["series"].append({"name": t("cumulative own result"), "type": "line", "yAxisIndex": 1,
                             "color": "#000000", "data": cumulative})
    return option


def firm_places(track: Track, t: Translator) -> dict:
    """Social-firm places this year: filled per funding stream, and empty."""
    option = _base(t("Social-firm places this year (year {year})").format(year=track.year))
    option["grid"] = {**option["grid"], "top": 75, "bottom": 30}
    option["tooltip"] = {"trigger": "item"}
    option["yAxis"] = {"type": "category", "data": [t("places")]}
    option["xAxis"] = _axis("value", t("places"))
    if not track.firms:
        option["series"] = []
        return option
    now = track.firms[-1]
    parts = [(t("filled, {stream}").format(stream=t(stream)), n) for stream, n in now["filled"].items()]
    parts.append((t("empty"), now["places"]["empty"]))
    option["xAxis"]["max"] = max(now["places"]["total"], 1)
    option["series"] = [{"name": f"{name} ({t.persons(n)})", "type": "bar", "stack": "places", "color": FIRM_COLOURS[k],
                         "data": [n], "itemStyle": {"borderColor": "#90a4ae"}} for k, (name, n) in enumerate(parts)]
    return option


def side_by_side(pair: dict[str, Track], t: Translator) -> list[dict]:
    """The same municipality under both regimes (same random numbers), on the same scale."""
    top = max(sum(c.values()) for track in pair.values() for c in track.status_counts)
    return [flow(pair[r], t, title=t("{regime}: residents by status at year end, year {year}").format(
        regime=t(r), year=pair[r].year), y_max=top) for r in PAIR]


def business_case(difference: list[float], t: Translator) -> dict:
    """Cumulative own result, integrated minus compartmentalised, each year (EUR million)."""
    option = _base(t("Business case: cumulative own result since year 1, EUR million,\n"
                     "integrated minus compartmentalised"))
    option["title"]["textStyle"] = {"fontSize": 12, "lineHeight": 16}
    option["legend"] = {"show": False}  # one series, named in the title
    option["grid"] = {**option["grid"], "top": 60}
    option["xAxis"] = _axis("category", t("year"), data=list(range(1, len(difference) + 1)))
    option["yAxis"] = {"type": "value"}  # the unit is in the title
    option["series"] = [{"name": t("integrated minus compartmentalised"), "type": "bar",
                         "data": [{"value": round(d / MILLION, 3), "itemStyle": {"color": UP if d >= 0 else DOWN}}
                                  for d in difference]}]
    return option
