"""Guards of the workshop page: refused values as one line, number fields that say "not a number", limits, clean-up.

- ``guarded``: the decorator for every event handler of the page. A refused value (``InputError``) becomes
  a one-line message in the page's message area (``Notice``); any other exception becomes a one-line
  message too and one line in the server's log. No traceback and no server path reaches the browser, and
  the session goes on (Step still works).
- ``NumberField``: a whole-number field that parses what was typed (``parse_whole``: digits, optionally
  grouped as 30.000, 30,000 or 30 000) and says so under the field when it is not a number; Reset refuses
  while a field holds such text (``page_settings``).
- ``PAGE_MAX_INHABITANTS``: the page's own upper bound on the municipality's size (the model's range goes
  much further, for runs from the command line).
- ``seated``: at most ``MAX_SESSIONS`` sessions at once; the next one gets a page saying the room is full.
  When a session ends its memory is given back to the operating system (``gc`` and glibc's
  ``malloc_trim``), a little after the session's widgets are closed.

The texts are English msgids of the ``page`` catalogue (``analysis/locale/nl/LC_MESSAGES/page.po``); a page
with a language sets ``LANGUAGE`` for its session and the messages follow it. The model's own reason for
refusing a value (key, value, what is allowed) is shown as the model wrote it.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import anyio.to_thread
import solara

from analysis.i18n import translator
from analysis.page.server import MAX_SESSIONS, server_loop, session_limit  # noqa: F401  (the cap, named here too)
from model.parameters import PARAMETERS, InputError

# Every Dutch municipality but the four largest (Amsterdam, Rotterdam, The Hague, Utrecht). Measured on the
# 2-core machine: a session of 250,000 inhabitants takes about 1.5 s to build, 0.3 s a year and about 100 MB,
# so 30 such sessions still fit a laptop serving a room; the model's own range (up to 20,000,000: about 6 GB
# and 24 s a year for one session) is for ``ontschot run``.
PAGE_MAX_INHABITANTS = 250_000
INHABITANTS = "scenario.inhabitants"
MAX_TYPED = 40  # characters of a number field read at all (a 4,300-digit int is refused by Python itself)
SHOWN_TYPED = 20  # characters of refused text repeated in the message
STATUS_VARIABLE = "ONTSCHOT_PAGE_TIMING"  # "1": the server prints what it holds after each clean-up
WORKER_THREAD_NAME = "AnyIO worker thread"  # the name anyio gives its pool's threads
WORKER_EXIT_SECONDS = 2.0  # how long the clean-up waits for the ask and for idle worker threads to end
WORKER_IDLE_SECONDS = 10.0  # anyio ends a pool's worker idle this long (its WorkerThread.MAX_IDLE_TIME; tested)
# The clean-up runs this long after the last session closed: a session ended by its lifetime frees its worker
# thread only then, and anyio ends that worker once it has been idle WORKER_IDLE_SECONDS.
TRIM_DELAY_SECONDS = WORKER_IDLE_SECONDS + 2.0  # the closed sessions' widgets and models are gone by then too


log = logging.getLogger("ontschot.page")
if not log.handlers:  # one line per unexpected exception on the server's stderr, whatever Solara configured
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("ontschot page: %(message)s"))
    log.addHandler(_handler)
    log.propagate = False

# Per session (Solara keeps a module-level reactive value per browser session).
LANGUAGE = solara.reactive(None)  # "nl" or "en" once the page has a language; None: the English texts
NOTICE = solara.reactive("")  # the one-line message of the last refused or failed action
FIELD_PROBLEMS = solara.reactive({})  # number field -> what is wrong with the text typed in it


def _(text: str, lang: str | None = None) -> str:
    """``text`` in the session's language (``lang`` if given)."""
    lang = lang if lang is not None else LANGUAGE.value
    return translator(lang, "page").gettext(text) if lang else text


def _number(value: int, lang: str | None = None) -> str:
    """A whole number with the session language's thousands separator (English when none is set)."""
    lang = lang if lang is not None else LANGUAGE.value
    try:
        return translator(lang or "en", "page").number(value)
    except (ArithmeticError, ValueError):  # 1e308 and the like: shown as Python writes it
        return repr(value)


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def refused(exc: BaseException, lang: str | None = None) -> str:
    """The message for a refused value: the model's one-line reason."""
    return _("Not accepted: {reason}", lang).format(reason=one_line(exc))


def failed(exc: BaseException, lang: str | None = None) -> str:
    """The message for an unexpected exception: its kind only (its text may hold server paths)."""
    return _(
        "Something went wrong on the server ({kind}); the session goes on. The details are in the server's log.", lang
    ).format(kind=type(exc).__name__)


def _log_failure(where: str, exc: BaseException) -> None:
    """One line in the server's log: where, what, and the innermost frame."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    at = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
    log.error("%s failed%s: %s: %s", where, at, type(exc).__name__, one_line(exc))


def guarded(handler: Callable | None = None, *, clear: bool = True) -> Callable:
    """Wrap an event handler: refused values and failures become the session's one-line ``NOTICE``.

    A handler that finishes clears the notice (it is about the last action), unless ``clear`` is False:
    for work that is not a participant's action (the play thread, which also ends after every Reset).
    Returns None when the handler raised. Use as ``@guarded`` or ``@guarded(clear=False)``.
    """
    if handler is None:
        return functools.partial(guarded, clear=clear)

    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            result = handler(*args, **kwargs)
        except InputError as exc:
            NOTICE.set(refused(exc))
            return None
        except Exception as exc:  # anything else: a line in the log, a line on the page, the session lives
            _log_failure(getattr(handler, "__qualname__", repr(handler)), exc)
            NOTICE.set(failed(exc))
            return None
        if clear and NOTICE.value:
            NOTICE.set("")
        return result

    return run


@solara.component
def Notice():
    """The page's message area: the last refused or failed action, in one line."""
    if NOTICE.value:
        solara.Error(NOTICE.value, classes=["page-notice"])


# ---------------------------------------------------------------------------------------------- numbers

_PLAIN = re.compile(r"[+-]?\d+")
_GROUPED = re.compile(r"[+-]?\d{1,3}([.,' _])\d{3}(?:\1\d{3})*")  # one separator throughout: 30.000, 1,250,000
_DECIMAL = re.compile(r"[+-]?(\d+[.,]\d*|[.,]\d+)([eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+")


def parse_whole(text: Any, label: str = "", lang: str | None = None) -> int:
    """A whole number from what was typed, or an InputError in one line saying what is wrong.

    Takes digits with an optional sign, grouped by thousands with one separator (30.000, 30,000,
    30 000); not decimals (2.5, 1e5), words or an empty field.
    """
    raw = "" if text is None else str(text)
    s = raw.strip().replace("\u00a0", " ")
    shown = s if len(s) <= SHOWN_TYPED else s[:SHOWN_TYPED] + "…"
    where = f"{label}: " if label else ""
    if not s:
        raise InputError(where + _("the field is empty; type a whole number", lang))
    if len(s) > MAX_TYPED:
        raise InputError(
            where
            + _("'{text}' is too long to be a number here ({n} characters at most)", lang).format(
                text=shown, n=MAX_TYPED
            )
        )
    if _PLAIN.fullmatch(s):
        return int(s)
    if _GROUPED.fullmatch(s):
        return int(re.sub(r"[.,' _]", "", s))
    if _DECIMAL.fullmatch(s):
        raise InputError(
            where + _("'{text}' is not a whole number; type a whole number, e.g. 30000", lang).format(text=shown)
        )
    raise InputError(where + _("'{text}' is not a number; type a whole number, e.g. 30000", lang).format(text=shown))


def check_fields() -> None:
    """An InputError when a number field of this session holds text that is not a whole number."""
    problems = FIELD_PROBLEMS.value
    if problems:
        raise InputError(_("Fix the field first: {problem}").format(problem=next(iter(problems.values()))))


def check_page_bounds(settings: Mapping[str, Any], lang: str | None = None) -> None:
    """An InputError when a setting is beyond what the page allows (``PAGE_MAX_INHABITANTS``)."""
    n = settings.get(INHABITANTS)
    if isinstance(n, (int, float)) and not isinstance(n, bool) and n > PAGE_MAX_INHABITANTS:
        raise InputError(
            _(
                "'{key}' = {value} is more than this page allows ({limit} inhabitants): a session "
                "that large would slow the page down for the whole room; run larger municipalities "
                "with 'ontschot run'",
                lang,
            ).format(key=INHABITANTS, value=_number(n, lang), limit=_number(PAGE_MAX_INHABITANTS, lang))
        )


def page_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings for a new run from the page, after the page's own checks (fields, bounds)."""
    check_fields()
    check_page_bounds(settings)
    return dict(settings)


def allowed(key: str) -> str:
    """What a control takes, with the page's own bound where it has one."""
    p = PARAMETERS.get(key)
    if key == INHABITANTS:
        lo = int(p.range[0])
        return _("a whole number from {lo} to {hi} on this page ({unit})").format(
            lo=_number(lo), hi=_number(PAGE_MAX_INHABITANTS), unit=_(p.unit)
        )
    return p.describe_allowed()


@solara.component
def NumberField(
    label: str, value: int, on_value: Callable[[int], None], name: str | None = None, classes: list[str] | None = None
):
    """A whole-number field: what is typed is parsed on Enter or leaving the field; a problem shows under it."""
    import reacton.ipyvuetify as v
    from solara.components.input import use_change

    name = name or label
    text = solara.use_reactive("" if value is None else str(value))
    problem = FIELD_PROBLEMS.value.get(name, "")

    def commit(typed):
        text.set("" if typed is None else str(typed))
        try:
            number = parse_whole(typed, label)
        except InputError as exc:
            FIELD_PROBLEMS.set({**FIELD_PROBLEMS.value, name: str(exc)})
            return
        if name in FIELD_PROBLEMS.value:
            FIELD_PROBLEMS.set({k: m for k, m in FIELD_PROBLEMS.value.items() if k != name})
        text.set(str(number))
        on_value(number)

    with solara.Column(gap="0px"):  # one container whatever shows, so the field stays the same widget
        field = v.TextField(
            v_model=text.value,
            on_v_model=text.set,
            label=label,
            error=bool(problem),
            hide_details="auto",
            class_=" ".join(classes or []),
        )
        use_change(field, guarded(commit))
        if problem:
            solara.Text(problem, classes=["number-error"], style={"color": "#b00020", "font-size": "0.8em"})


@solara.component
def Slider(
    label: str, value: Any, on_value: Callable[[Any], None], key: str, step: float, classes: list[str] | None = None
):
    """A slider for parameter ``key``: a value it does not take (a word, NaN, out of range) is refused in one line.

    Solara's own sliders cast what the browser sends with ``float``/``int`` and fail with a traceback on
    anything else; this one checks it against the parameter's kind and range first.
    """
    import reacton.ipyvuetify as v

    p = PARAMETERS.get(key)

    def take(sent):
        on_value(p.coerce(sent, "the page's controls"))

    v.Slider(
        v_model=value,
        on_v_model=guarded(take),
        label=label,
        min=p.range[0],
        max=p.range[1],
        step=step,
        thumb_label=True,
        hide_details=True,
        class_=" ".join(classes or []),
    )


@solara.component
def Select(label: str, value: Any, on_value: Callable[[Any], None], key: str, classes: list[str] | None = None,
           names: Mapping[Any, str] | None = None):
    """A list of parameter ``key``'s choices (shown by ``names`` when given): another value is refused in one line.

    Solara's Select takes whatever the browser sends, and a value of the page's own (the target regime
    offered after a switch) may then replace it without a word.
    """
    import reacton.ipyvuetify as v

    p = PARAMETERS.get(key)

    def take(sent):
        on_value(p.coerce(sent, "the page's controls"))

    v.Select(
        v_model=value,
        on_v_model=guarded(take),
        items=[{"text": (names or {}).get(c, c), "value": c} for c in p.choices],
        label=label,
        class_=" ".join(classes or []),
    )


@solara.component
def ToggleButtons(value: solara.Reactive, values: list, labels: list[str], name: str, classes: list[str] | None = None):
    """One of ``values`` by buttons; an index the buttons do not have is refused in one line (Solara's fails)."""
    import reacton.ipyvuetify as v

    def take(index):
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(values):
            raise InputError(f"{name} = {index!r} is not allowed: expected one of the {len(values)} buttons")
        value.set(values[index])

    v.BtnToggle(
        v_model=values.index(value.value) if value.value in values else 0,
        on_v_model=guarded(take),
        mandatory=True,
        children=[v.Btn(children=[label]) for label in labels],
        class_=" ".join(classes or []),
    )


# --------------------------------------------------------------------------------------------- sessions

_seats = 0
_seats_lock = threading.Lock()
_trim_timer: threading.Timer | None = None


def open_sessions() -> int:
    """Sessions holding a seat now."""
    return _seats


class Seat:
    """One session's place on the server; ``release`` gives it back (once) and schedules the clean-up."""

    def __init__(self):
        self.released = False

    def release(self) -> None:
        global _seats
        with _seats_lock:
            if self.released:
                return
            self.released = True
            _seats -= 1
        schedule_trim()


def take_seat(limit: int | None = None) -> Seat | None:
    """A seat, or None when ``limit`` (``session_limit()``) sessions hold one."""
    global _seats
    with _seats_lock:
        if _seats >= (session_limit() if limit is None else limit):
            return None
        _seats += 1
        return Seat()


@functools.cache
def _libc():
    """The C library (glibc here), loaded once; None where it cannot be loaded."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _malloc_trim() -> bool:
    """Give freed heap memory back to the operating system (glibc); False where there is no malloc_trim."""
    try:
        return bool(_libc().malloc_trim(0))
    except AttributeError:  # no C library, or one without malloc_trim
        return False


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (glibc 2.33 and later): the heap's figures in bytes."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_figures() -> dict[str, float]:
    """The glibc heap in MB: held from the system (``arena`` + mapped ``hblkhd``), in use, free inside; {} without it."""
    try:
        mallinfo2 = _libc().mallinfo2
    except AttributeError:  # no C library, or glibc before 2.33
        return {}
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    mb = 1024 * 1024
    return {"heap MB": round((info.arena + info.hblkhd) / mb, 1), "in use MB": round((info.uordblks + info.hblkhd) / mb, 1),
            "free inside MB": round(info.fordblks / mb, 1)}


def arena_figures() -> list[tuple[float, float]]:
    """Each glibc arena's (held MB, free inside MB), the main one first (``malloc_info``); [] without it."""
    libc = _libc()
    try:
        malloc_info, fopen, fclose = libc.malloc_info, libc.fopen, libc.fclose
    except AttributeError:  # no C library, or not glibc
        return []
    fopen.restype, fopen.argtypes, fclose.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p], [ctypes.c_void_p]
    malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    with tempfile.NamedTemporaryFile(suffix=".xml") as file:
        handle = fopen(file.name.encode(), b"w")
        if not handle:
            return []
        malloc_info(0, handle)
        fclose(handle)
        root = ElementTree.fromstring(Path(file.name).read_bytes())
    mb = 1024 * 1024
    figures = []
    for heap in root.iter("heap"):
        free = sum(int(total.get("size", 0)) for total in heap.findall("total") if total.get("type") in ("fast", "rest"))
        held = next((int(s.get("size", 0)) for s in heap.findall("system") if s.get("type") == "current"), 0)
        figures.append((round(held / mb, 1), round(free / mb, 1)))
    return figures


def status() -> dict[str, Any]:
    """What the server holds now: sessions with a seat, Solara's live kernels, live workshops and models."""
    from solara.server import kernel_context

    global _last_counts
    counts = collections.Counter(type(obj).__name__ for obj in gc.get_objects())
    grown = sorted(((n - _last_counts.get(k, 0), k) for k, n in counts.items()), reverse=True)[:STATUS_TYPES]
    _last_counts = counts
    return {
        "sessions": _seats,
        "kernels": len(kernel_context.contexts),
        "workshops": counts["Workshop"],
        "models": counts["SocialDomainModel"],
        "objects": sum(counts.values()),
        **heap_figures(),
        "arenas (held MB, free inside MB)": arena_figures(),
        "threads": dict(collections.Counter(thread.name.rstrip("0123456789-_ ") for thread in threading.enumerate())),
        # (type names only; "Error" and the like are left out, as a server log's reader looks for them)
        "grown since the last clean-up": {k: n for n, k in grown if n > 0 and not QUIET.search(k)},
    }


_last_counts: collections.Counter = collections.Counter()
STATUS_TYPES = 8  # the object types that grew most, in the status line
QUIET = re.compile("Error|Exception|Traceback|traceback|CRITICAL")


def end_idle_workers(wait: float = WORKER_EXIT_SECONDS) -> int:
    """Let the server's idle worker threads end; returns how many ended within ``wait`` seconds.

    Solara serves each session's websocket from a worker thread of anyio's pool in the server's event loop;
    when the session's browser goes, the thread stays in the pool, idle, with what it holds for itself (its
    Python thread state, thread-local objects, its stack). anyio ends the workers idle for more than its
    ``MAX_IDLE_TIME`` (10 s) only when the pool is next asked to run something: this asks it, with a call
    that does nothing, from the clean-up. The worker that runs it stays (and any the pool is using).
    """
    loop = server_loop()
    if loop is None or loop.is_closed():  # no request yet, or the server is stopping
        return 0
    before = [thread for thread in threading.enumerate() if thread.name == WORKER_THREAD_NAME]
    try:
        asyncio.run_coroutine_threadsafe(anyio.to_thread.run_sync(_nothing), loop).result(wait)
    except (concurrent.futures.TimeoutError, RuntimeError):  # a busy or stopping server: the next clean-up
        return 0
    deadline = time.monotonic() + wait
    for thread in before:  # the ended ones are told to stop (anyio marks them); the others are not waited for
        if getattr(thread, "stopping", True):
            thread.join(max(0.0, deadline - time.monotonic()))
    return sum(not thread.is_alive() for thread in before)


def _nothing() -> None:
    """What the worker that ``end_idle_workers`` asks for runs."""


def give_back_memory() -> None:
    """End idle worker threads, collect unreachable objects (closed sessions' models and widgets), return memory."""
    end_idle_workers()
    gc.collect()
    _malloc_trim()
    if os.environ.get(STATUS_VARIABLE) == "1":  # benchmarks/bench_page_sessions.py reads these lines
        print(f"ontschot-page: memory given back; {status()}", flush=True)


def schedule_trim(delay: float = TRIM_DELAY_SECONDS) -> None:
    """``give_back_memory`` once, ``delay`` seconds after the last session closed (closes in a burst: once)."""
    global _trim_timer
    with _seats_lock:
        if _trim_timer is not None:
            _trim_timer.cancel()
        _trim_timer = threading.Timer(delay, give_back_memory)
        _trim_timer.daemon = True
        free_of_session(_trim_timer)
        _trim_timer.start()


def free_of_session(thread: threading.Thread) -> threading.Thread:
    """``thread`` (not started yet) runs in no session: it does not keep the one it was made in alive.

    Solara's server gives each new thread the session (kernel context) it is made in, and the thread holds
    it while it waits and runs. The clean-up is scheduled while a session closes: its timer held that
    closed session, with its widgets and the event handlers' closures, and so its workshop (three models),
    until the next session closed; the clean-up itself ran inside it and could not free it.
    """
    if getattr(thread, "current_context", None) is not None:  # set by Solara's patch of threading.Thread
        thread.current_context = None
    return thread


@solara.component
def Full():
    """What the session over the limit sees."""
    with solara.Card(_("Ontschot workshop"), classes=["page-full"]):
        solara.Error(
            _(
                "The page is full: {limit} sessions are open on this server. Close a tab you no longer "
                "use, or try again in a few minutes."
            ).format(limit=session_limit()),
            classes=["page-full-message"],
        )


def use_seat() -> Seat | None:
    """This session's seat (taken at its first render, given back when it closes); None when full."""
    seat = solara.use_memo(take_seat, [])
    solara.use_effect(lambda: seat.release if seat is not None else None, [])
    return seat


def seated(page):
    """Wrap the page component: a session over ``MAX_SESSIONS`` sees ``Full`` instead of building models."""

    @solara.component
    def Seated():
        seat = use_seat()
        if seat is None:
            Full()
        else:
            page()

    Seated.__doc__ = page.__doc__
    return Seated
