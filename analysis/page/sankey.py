"""This year's moves between statuses as a flow diagram (Sankey), drawn as inline SVG.

A pure function of one year's transition counts (``Track.status_moves[-1]``: residents per (from, to)
status pair, with ``entered`` and ``left`` for the population's entries and exits): ``split_moves``
separates moves within the social domain from entries into it and exits out of it, ``layout`` places
them as two columns (status last year on the left, this year on the right) with bands as wide as the
number of residents, and ``svg`` draws that. Nothing here needs a browser, so the geometry is tested
against the model's own transitions (``tests/test_page_views.py``).

Drawn as SVG written here rather than with ECharts' sankey series: the labels are page text (translated,
searchable, checked by the browser tests for internal keys), the geometry is tested without a browser,
and a move back and forth between two statuses in one year (trajectory -> benefit and benefit ->
trajectory) is drawn as two bands, where ECharts' sankey refuses a graph with a cycle.

The care-to-work route (``CARE`` -> ``TOWARDS_WORK``: from Wmo day activities or guidance into work or a
re-integration trajectory) is highlighted, as it is what integrated funding is meant to open up.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from analysis.page.charts import STATUS_COLOURS
from analysis.page.session import STATUS_LABELS, STATUS_ORDER
from model.constants import Status

ENTERED, LEFT = "entered", "left"  # the population's entries and exits in ``Track.status_moves``
ORDER = (ENTERED, *(STATUS_LABELS[s] for s in STATUS_ORDER), LEFT)
CARE = frozenset({STATUS_LABELS[Status.DAY_ACTIVITIES], STATUS_LABELS[Status.GUIDANCE_ONLY]})
TOWARDS_WORK = frozenset({STATUS_LABELS[s] for s in (Status.REGULAR_WORK, Status.SUBSIDISED_WORK,
                                                      Status.SHELTERED_WORK, Status.TRAJECTORY)})

# Drawing (pixels): the diagram's own coordinate system; the browser scales the SVG to its box.
WIDTH, HEIGHT, SMALL_HEIGHT = 760, 420, 260
NODE_WIDTH = 14
GAP = 10  # between two nodes of a column
LABEL_ROOM = 230  # room for the labels left and right of the columns
MARGIN = 8
HIGHLIGHT = "#e65100"  # the care-to-work bands
HIGHLIGHT_MIN_WIDTH = 3.0  # a care-to-work band of one or two residents still shows
BAND = "#90a4ae"  # entries and exits
# as the charts colour them
BAND_COLOURS = {STATUS_LABELS[s]: c for s, c in zip(STATUS_ORDER, STATUS_COLOURS, strict=True)}
BAND_OPACITY, HIGHLIGHT_OPACITY = 0.4, 0.95
LARGE_WIDTH, LARGE_HEIGHT = 1000, 460  # the presenter's projected diagram, drawn up to LARGE_SHOWN pixels wide
LARGE_SHOWN = 1400  # so its labels are 1.4 times as large
NODE_COLOUR = "#455a64"
FONT_SIZE = 13


def is_care_to_work(source: str, target: str) -> bool:
    """A move from Wmo care (day activities, guidance only) into work or a re-integration trajectory."""
    return source in CARE and target in TOWARDS_WORK


def split_moves(moves: dict[tuple[str, str], int]) -> dict[str, dict[tuple[str, str], int]]:
    """This year's moves in three parts: ``within`` the social domain, ``entries`` into it, ``exits`` out of it."""
    parts: dict[str, dict[tuple[str, str], int]] = {"within": {}, "entries": {}, "exits": {}}
    for (a, b), n in moves.items():
        part = "entries" if a == ENTERED else "exits" if b == LEFT else "within"
        if n > 0:
            parts[part][(a, b)] = int(n)
    return parts


def care_to_work(moves: dict[tuple[str, str], int]) -> int:
    """Residents who moved from Wmo care into work or a trajectory this year."""
    return sum(n for (a, b), n in moves.items() if is_care_to_work(a, b))


@dataclass(frozen=True)
class Node:
    key: str  # a status label (English, the catalogue's key), ``entered`` or ``left``
    side: str  # "from" (left column) or "to" (right column)
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    count: int
    width: float
    y0: float  # top of the band at the left column
    y1: float  # top of the band at the right column
    highlighted: bool


@dataclass(frozen=True)
class Diagram:
    width: float
    height: float
    scale: float  # pixels per resident
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]

    @property
    def total(self) -> int:
        return sum(link.count for link in self.links)

    def node(self, key: str, side: str) -> Node:
        return next(n for n in self.nodes if n.key == key and n.side == side)


def _rank(key: str) -> int:
    return ORDER.index(key) if key in ORDER else len(ORDER)


def layout(flows: dict[tuple[str, str], int], width: float = WIDTH, height: float = HEIGHT) -> Diagram:
    """Two columns of nodes (from, to) and a band per flow, each as high as its residents (same scale throughout).

    Nodes are ordered as ``ORDER`` (work at the top, out of sight at the bottom); a node's bands are stacked in
    the order of the nodes at their other end, so bands cross as little as that order allows.
    """
    flows = {k: int(n) for k, n in flows.items() if n > 0}
    total = sum(flows.values())
    sources = sorted({a for a, _ in flows}, key=_rank)
    targets = sorted({b for _, b in flows}, key=_rank)
    inner = height - 2 * MARGIN
    most = max(len(sources), len(targets), 1)
    scale = (inner - GAP * (most - 1)) / total if total else 0.0
    x_from, x_to = LABEL_ROOM, width - LABEL_ROOM - NODE_WIDTH
    nodes, top = [], {}
    for side, keys, x in (("from", sources, x_from), ("to", targets, x_to)):
        y = MARGIN
        for key in keys:
            count = sum(n for (a, b), n in flows.items() if (a if side == "from" else b) == key)
            nodes.append(Node(key, side, count, x, y, count * scale))
            top[(side, key)] = y
            y += count * scale + GAP
    links = []
    out_offset = {k: 0.0 for k in sources}
    in_offset = {k: 0.0 for k in targets}
    for (a, b), n in sorted(flows.items(), key=lambda kv: (_rank(kv[0][0]), _rank(kv[0][1]))):
        w = n * scale
        y0 = top[("from", a)] + out_offset[a]
        out_offset[a] += w
        links.append(Link(a, b, n, w, y0, 0.0, is_care_to_work(a, b)))
    placed = []
    for link in sorted(links, key=lambda k: (_rank(k.target), _rank(k.source))):
        y1 = top[("to", link.target)] + in_offset[link.target]
        in_offset[link.target] += link.width
        placed.append(Link(link.source, link.target, link.count, link.width, link.y0, y1, link.highlighted))
    placed.sort(key=lambda k: k.highlighted)  # highlighted bands on top
    return Diagram(width, height, scale, tuple(nodes), tuple(placed))


def _band(link: Link, x0: float, x1: float) -> str:
    """A band as a closed path: a curve along its top, down its end, a curve back along its bottom."""
    w = max(link.width, HIGHLIGHT_MIN_WIDTH if link.highlighted else 1.0)  # one resident stays visible
    xm = (x0 + x1) / 2
    return (f"M{x0:.1f},{link.y0:.1f} C{xm:.1f},{link.y0:.1f} {xm:.1f},{link.y1:.1f} {x1:.1f},{link.y1:.1f} "
            f"L{x1:.1f},{link.y1 + w:.1f} C{xm:.1f},{link.y1 + w:.1f} {xm:.1f},{link.y0 + w:.1f} {x0:.1f},{link.y0 + w:.1f} Z")


def svg(diagram: Diagram, label, number, css_class: str = "sankey", caption: str = "",
        shown_width: float | None = None) -> str:
    """The diagram as an inline SVG element: ``label(key)`` names a node, ``number(n)`` writes a count.

    The browser scales it to its box, at most ``shown_width`` pixels wide (default: its own width).
    """
    if not diagram.links:
        return ""
    parts = [f'<svg class="{css_class}" viewBox="0 0 {diagram.width:.0f} {diagram.height:.0f}" '
             f'width="100%" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'style="font-family: sans-serif; font-size: {FONT_SIZE}px; max-width: {shown_width or diagram.width:.0f}px;">']
    if caption:
        parts.append(f"<title>{html.escape(caption)}</title>")
    x0 = LABEL_ROOM + NODE_WIDTH
    x1 = diagram.width - LABEL_ROOM - NODE_WIDTH
    for link in diagram.links:
        if link.highlighted:
            colour, opacity = HIGHLIGHT, HIGHLIGHT_OPACITY
        else:  # coloured as the status it left (entries: as the status they came into)
            colour, opacity = BAND_COLOURS.get(link.source, BAND_COLOURS.get(link.target, BAND)), BAND_OPACITY
        what = f"{label(link.source)} → {label(link.target)}: {number(link.count)}"
        parts.append(f'<path class="band{" care-to-work" if link.highlighted else ""}" d="{_band(link, x0, x1)}" '
                     f'fill="{colour}" fill-opacity="{opacity}" data-count="{link.count}">'
                     f"<title>{html.escape(what)}</title></path>")
    for node in diagram.nodes:
        left = node.side == "from"
        tx = node.x - 6 if left else node.x + NODE_WIDTH + 6
        ty = node.y + max(node.height, 1.0) / 2
        parts.append(f'<rect class="node" x="{node.x:.1f}" y="{node.y:.1f}" width="{NODE_WIDTH}" '
                     f'height="{max(node.height, 1.0):.1f}" fill="{NODE_COLOUR}"/>')
        parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" dominant-baseline="middle" '
                     f'text-anchor="{"end" if left else "start"}">'
                     f"{html.escape(label(node.key))} ({html.escape(number(node.count))})</text>")
    parts.append("</svg>")
    return "".join(parts)
