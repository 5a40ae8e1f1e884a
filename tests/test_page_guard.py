"""The workshop page's guards (analysis/page/guard.py): unit tests, the page rendered in-process, and Chromium.

In Chromium a hostile participant's value is pushed the way a browser can: through the widget models
Solara's front end keeps (``solara.debug.widgetManager()``), past what the controls offer.
"""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import os
import re
import threading
import time
from pathlib import Path

import pytest

from analysis.page import guard, server
from model.parameters import PARAMETERS, InputError
from tests.browser import ROOT, PageServer, chromium, page_server  # noqa: F401  (fixtures)

SERVER_PATH = re.compile(r"(/[\w.-]+){2,}\.py|Traceback|File \"")


@pytest.fixture(autouse=True)
def clean_session_state():
    """The per-session values live in the module (one default session outside a server): reset around a test."""
    guard.NOTICE.set("")
    guard.FIELD_PROBLEMS.set({})
    guard.LANGUAGE.set(None)
    yield
    guard.NOTICE.set("")
    guard.FIELD_PROBLEMS.set({})
    guard.LANGUAGE.set(None)


# ------------------------------------------------------------------------------------------------ units


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("30000", 30000),
        (" 8000 ", 8000),
        ("30.000", 30000),
        ("30,000", 30000),
        ("1.250.000", 1250000),
        ("30 000", 30000),
        ("-5", -5),
        ("+7", 7),
        ("0", 0),
    ],
)
def test_whole_numbers_are_read_as_typed_in_dutch_or_english(typed, number):
    assert guard.parse_whole(typed, "Inhabitants") == number


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("abc", "is not a number"),
        ("30k", "is not a number"),
        ("1.2.3", "is not a number"),
        ("30.00", "is not a whole"),
        ("2.5", "is not a whole number"),
        ("1e5", "is not a whole number"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("9" * 400, "too long"),
        ("nan", "is not a number"),
        ("1,2", "is not a whole number"),
        (None, "is empty"),
    ],
)
def test_what_is_not_a_whole_number_is_refused_in_one_line(typed, says):
    with pytest.raises(InputError) as info:
        guard.parse_whole(typed, "Inhabitants")
    message = str(info.value)
    assert says in message and message.startswith("Inhabitants: ") and "\n" not in message
    assert len(message) < 140  # a long text is cut in the message


def test_messages_are_dutch_for_a_dutch_page():
    with pytest.raises(InputError, match="'abc' is geen getal; typ een geheel getal"):
        guard.parse_whole("abc", "Inwoners", "nl")
    with pytest.raises(InputError, match=r"300\.000 is meer dan deze pagina toestaat \(250\.000 inwoners\)"):
        guard.check_page_bounds({"scenario.inhabitants": 300_000}, "nl")
    guard.LANGUAGE.set("nl")  # the session's language is followed when none is given
    assert guard.refused(InputError("x")) == "Niet aangenomen: x"
    assert guard.failed(KeyError("x")).startswith("Er ging iets mis op de server (KeyError)")


def test_every_guard_text_has_a_dutch_translation():
    """Every msgid guard.py passes to the page catalogue is in page.po's 'page guard' block, with {placeholders} kept."""
    tree = ast.parse(Path(guard.__file__).read_text())
    msgids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                msgids.add(first.value)
    assert len(msgids) >= 10
    po = (ROOT / "analysis/locale/nl/LC_MESSAGES/page.po").read_text()
    assert "# page guard" in po
    for msgid in msgids:
        dutch = guard._(msgid, "nl")
        assert dutch != msgid, f"no Dutch text for {msgid!r}"
        assert set(re.findall(r"{\w+}", dutch)) == set(re.findall(r"{\w+}", msgid)), msgid


def test_the_page_bound_on_inhabitants():
    limit = guard.PAGE_MAX_INHABITANTS
    assert PARAMETERS.get("scenario.inhabitants").range[0] < limit < PARAMETERS.get("scenario.inhabitants").range[1]
    guard.check_page_bounds({"scenario.inhabitants": limit})
    with pytest.raises(InputError, match=r"'scenario.inhabitants' = 250,001 is more than this page allows \(250,000"):
        guard.check_page_bounds({"scenario.inhabitants": limit + 1})
    with pytest.raises(InputError, match="20,000,000"):
        guard.page_settings({"scenario.inhabitants": 20_000_000})
    assert guard.page_settings({"scenario.inhabitants": 8000}) == {"scenario.inhabitants": 8000}
    with pytest.raises(InputError, match=r"= 1e\+308 is more than this page allows"):  # found by the campaign
        guard.page_settings({"scenario.inhabitants": 1e308})
    guard.check_page_bounds({"scenario.inhabitants": float("nan")})  # not the page's to refuse: the parameter set does
    assert "250,000 on this page" in guard.allowed("scenario.inhabitants")


def test_reset_is_refused_while_a_field_holds_text_that_is_not_a_number():
    guard.FIELD_PROBLEMS.set({"seed": "Seed: 'x' is not a number; type a whole number, e.g. 30000"})
    with pytest.raises(InputError, match="Fix the field first: Seed: 'x' is not a number"):
        guard.page_settings({})


def test_a_refused_value_becomes_one_line_and_the_handler_returns():
    @guard.guarded
    def switch(regime):
        return PARAMETERS.get("scenario.regime").coerce(regime, "switch regime now")

    assert switch("bogus") is None
    notice = guard.NOTICE.value
    assert notice.startswith("Not accepted: parameter 'scenario.regime' = 'bogus'") and "\n" not in notice
    assert switch("bogus") is None

    @guard.guarded(clear=False)
    def play():
        return "played"

    assert play() == "played" and guard.NOTICE.value.startswith("Not accepted")  # the play thread leaves it
    assert switch("integrated") == "integrated" and guard.NOTICE.value == ""  # the next action clears it


def test_an_unexpected_exception_is_one_line_on_the_page_and_one_in_the_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    guard.log.addHandler(handler)
    try:

        @guard.guarded
        def broken():
            raise ZeroDivisionError("/secret/server/path/model.py went wrong")

        assert broken() is None
    finally:
        guard.log.removeHandler(handler)
    notice = guard.NOTICE.value
    assert notice.startswith("Something went wrong on the server (ZeroDivisionError)") and "\n" not in notice
    assert "/secret" not in notice and not SERVER_PATH.search(notice)
    logged = stream.getvalue().strip().splitlines()
    assert len(logged) == 1 and "broken failed at" in logged[0] and "ZeroDivisionError" in logged[0]


def test_seats_are_capped_and_given_back_once(monkeypatch):
    monkeypatch.setattr(guard, "_seats", 0)
    seats = [guard.take_seat(limit=3) for _ in range(3)]
    assert all(seats) and guard.take_seat(limit=3) is None and guard.open_sessions() == 3
    seats[0].release()
    seats[0].release()  # twice: given back once
    assert guard.open_sessions() == 2
    again = guard.take_seat(limit=3)
    assert again is not None and guard.take_seat(limit=3) is None
    for seat in (again, *seats[1:]):
        seat.release()
    assert guard.open_sessions() == 0


def test_the_session_limit_comes_from_the_constant_or_the_environment():
    assert server.session_limit({}) == server.MAX_SESSIONS == guard.MAX_SESSIONS == 30
    assert server.session_limit({"ONTSCHOT_PAGE_MAX_SESSIONS": "2"}) == 2
    for bad in ("0", "-1", "x", "2.5"):
        with pytest.raises(InputError, match="ONTSCHOT_PAGE_MAX_SESSIONS = .* expected a whole number from 1"):
            server.session_limit({"ONTSCHOT_PAGE_MAX_SESSIONS": bad})


def test_an_allocator_setting_of_the_caller_is_kept_the_pages_others_apply():
    env = server.server_environment({"MALLOC_ARENA_MAX": "4", "SOLARA_KERNEL_CULL_TIMEOUT": "24h", "HOME": "/h"})
    assert env["MALLOC_ARENA_MAX"] == "4"  # the operator's (or a benchmark's) allocator setting
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == server.ENVIRONMENT["SOLARA_KERNEL_CULL_TIMEOUT"]  # never the caller's
    assert env["HOME"] == "/h" and env["GLIBC_TUNABLES"] == server.ENVIRONMENT["GLIBC_TUNABLES"]
    assert server.ALLOCATOR_KEYS < set(server.ENVIRONMENT)
    assert server.server_environment({}) == server.ENVIRONMENT


def test_closed_sessions_are_kept_minutes_not_a_day():
    assert server.ENVIRONMENT["SOLARA_KERNEL_CULL_TIMEOUT"] == f"{server.SESSION_LIFETIME_SECONDS}s"
    import solara.server.settings  # the setting Solara reads (pydantic BaseSettings, prefix solara_kernel_)

    assert "cull_timeout" in solara.server.settings.Kernel.__fields__
    assert solara.server.settings.Kernel.Config.env_prefix == "solara_kernel_"
    assert server.SESSION_LIFETIME_SECONDS <= 600


HELD_AFTER_FREE = """
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
libc.mallinfo2.restype = type("M", (ctypes.Structure,), {"_fields_": [(n, ctypes.c_size_t) for n in (
    "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]})
before = libc.mallinfo2().uordblks
blocks = [libc.malloc(500) for _ in range(50)]
for block in blocks:
    libc.free(block)
print(libc.mallinfo2().uordblks - before)
"""


def test_the_servers_allocator_keeps_no_freed_block_for_a_thread():
    """glibc's per-thread cache keeps a thread's last freed blocks (counted as in use): the server runs without it."""
    import subprocess
    import sys

    def held(tunables: str | None) -> int:
        env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "PYTHONMALLOC")}
        if tunables is not None:
            env["GLIBC_TUNABLES"] = tunables
        done = subprocess.run([sys.executable, "-c", HELD_AFTER_FREE], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    assert held(None) > 0  # glibc's default: freed blocks stay with the thread (so the check can see it)
    assert held(server.ENVIRONMENT["GLIBC_TUNABLES"]) == 0


def test_the_clean_up_waits_for_anyios_idle_time():
    """anyio ends a pool worker idle for its MAX_IDLE_TIME; the clean-up comes later than that after a close."""
    from anyio._backends._asyncio import WorkerThread

    assert WorkerThread.MAX_IDLE_TIME == guard.WORKER_IDLE_SECONDS
    assert guard.TRIM_DELAY_SECONDS > guard.WORKER_IDLE_SECONDS


def test_idle_worker_threads_of_the_server_end(monkeypatch):
    """Workers of the server's pool idle past anyio's idle time end at the clean-up; one stays for the next job."""
    import asyncio
    import time

    import anyio
    import anyio.to_thread
    from anyio._backends._asyncio import WorkerThread

    monkeypatch.setattr(WorkerThread, "MAX_IDLE_TIME", 0.2)  # anyio's 10 s, shortened for the test
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def server_main():  # the server's long-lived main task, as uvicorn's: the pool's workers belong to it
        await stop.wait()

    serving = threading.Thread(target=loop.run_until_complete, args=(server_main(),), daemon=True)
    serving.start()

    async def sessions(n: int):  # n sessions' websockets at once, each served from a worker thread
        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(anyio.to_thread.run_sync, time.sleep, 0.3)

    def workers() -> int:  # this loop's pool only (another test's may still be ending)
        return sum(thread.name == guard.WORKER_THREAD_NAME and getattr(thread, "loop", None) is loop
                   for thread in threading.enumerate())

    try:
        asyncio.run_coroutine_threadsafe(sessions(4), loop).result(10)
        assert workers() == 4
        monkeypatch.setattr(server, "_server_loop", None)
        assert guard.end_idle_workers() == 0  # no request seen yet: nothing to ask
        monkeypatch.setattr(server, "_server_loop", loop)
        time.sleep(0.5)  # idle past the (shortened) idle time
        assert guard.end_idle_workers() == 3
        assert workers() == 1
    finally:
        loop.call_soon_threadsafe(stop.set)
        serving.join(10)
        loop.close()


def test_memory_is_given_back():
    assert guard._malloc_trim() in (True, False)  # glibc: returns whether memory was released
    guard.give_back_memory()
    figures = guard.heap_figures()  # glibc's own account (mallinfo2): what it holds covers what is in use
    assert figures["heap MB"] >= figures["in use MB"] > 0 and figures["free inside MB"] >= 0


def test_no_page_module_asks_for_a_script_the_offline_assets_lack():
    """solara.Markdown/Math fetch KaTeX (and mermaid) from Solara's CDN path; KaTeX is not in solara-assets (a 404)."""
    for path in (ROOT / "analysis/page").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("Markdown", "MarkdownIt", "Math"):
                raise AssertionError(f"{path.name}:{node.lineno} uses solara.{node.attr}")


# ------------------------------------------------------------------------------ the page, in-process


def _render_page(monkeypatch):
    """The page rendered in this process, in English (the texts below; the page's default is Dutch)."""
    solara = pytest.importorskip("solara")
    from analysis.page.app import Page
    from analysis.page.texts import LANG_ENVIRONMENT

    monkeypatch.setenv(LANG_ENVIRONMENT, "en")

    return solara.render(Page(), handle_error=False)


def _texts(widget, found):
    for attr in ("children",):
        for child in getattr(widget, attr, None) or ():
            if isinstance(child, str):
                found.append(child)
            else:
                _texts(child, found)
    for attr in ("value", "label", "unsafe_innerHTML", "v_model"):
        value = getattr(widget, attr, None)
        if isinstance(value, str):
            found.append(value)
    return found


def test_in_process_a_refused_regime_is_one_line_and_step_still_works(monkeypatch):
    import ipyvuetify as v

    solara = pytest.importorskip("solara")
    monkeypatch.setattr(guard, "_seats", 0)
    box, rc = _render_page(monkeypatch)
    try:
        rc.find(v.Select, label="Funding regime").widget.v_model = "bogus"
        assert guard.NOTICE.value.startswith("Not accepted: parameter 'scenario.regime' = 'bogus'")
        assert any(t.startswith("Not accepted") for t in _texts(box, []))
        rc.find(v.Btn, children=["Switch regime now"]).widget.click()  # the target shown, not the refused value
        assert "From year 1: integrated" in _texts(box, []) and guard.NOTICE.value == ""
        rc.find(v.Select, label="Funding regime").widget.v_model = "gradual"
        rc.find(v.Slider, class_="switch-share-slider").widget.v_model = 5.0
        assert guard.NOTICE.value.startswith("Not accepted: parameter 'scenario.pooled_share' = 5.0")
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert rc.find(solara.widgets.HTML, tag="h2").widget.unsafe_innerHTML == "Year 1 of 15"
        assert guard.NOTICE.value == ""
    finally:
        rc.close()


def test_in_process_a_refusal_inside_switch_regime_now_is_one_line(monkeypatch):
    """The switch's own check (the session API) is the backstop: its refusal is one line too."""
    import ipyvuetify as v

    from analysis.page.session import Workshop

    def refuse(self, regime, pooled_share=None):
        raise InputError("parameter 'scenario.from_year' = 16 (from set_regime) is not allowed: expected 1 to 16")

    monkeypatch.setattr(guard, "_seats", 0)
    monkeypatch.setattr(Workshop, "switch_regime", refuse)
    box, rc = _render_page(monkeypatch)
    try:
        rc.find(v.Btn, children=["Switch regime now"]).widget.click()
        assert guard.NOTICE.value == (
            "Not accepted: parameter 'scenario.from_year' = 16 (from set_regime) is not allowed: expected 1 to 16"
        )
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert any(t == "Year 1 of 15" for t in _texts(box, []))
    finally:
        rc.close()


def test_in_process_number_fields_say_not_a_number_and_reset_refuses(monkeypatch):
    import ipyvuetify as v

    monkeypatch.setattr(guard, "_seats", 0)
    box, rc = _render_page(monkeypatch)
    try:
        field = rc.find(v.TextField, label="Inhabitants (inhabitants)").widget
        field.v_model = "dertigduizend"
        field.fire_event("keyup.enter", None)
        assert any(t.startswith("Inhabitants (inhabitants): 'dertigduizend' is not a number") for t in _texts(box, []))
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert any("Fix the field first" in t for t in _texts(box, []))
        field.v_model = "300.000"
        field.fire_event("keyup.enter", None)
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert any("is more than this page allows" in t for t in _texts(box, []))
    finally:
        rc.close()


def test_in_process_the_session_over_the_limit_sees_the_page_is_full(monkeypatch):
    monkeypatch.setattr(guard, "_seats", guard.MAX_SESSIONS)
    box, rc = _render_page(monkeypatch)
    try:
        texts = _texts(box, [])
        assert any(t.startswith("The page is full: 30 sessions are open") for t in texts)
        assert "Step" not in texts
    finally:
        rc.close()
    assert guard.open_sessions() == guard.MAX_SESSIONS  # a refused session holds no seat


# ------------------------------------------------------------------------------------------ Chromium

TIMEOUT_MS = 60_000
SEAT_FREED_MS = 15_000  # the goodbye reaches the server and the seat is given back (under load too), well within the lifetime
VIEWPORT = {"width": 1600, "height": 1000}
PUSH = """async ([label, value]) => {
  const manager = solara.debug.widgetManager();
  let pushed = 0;
  for (const promise of Object.values(manager._models)) {
    const model = await promise;
    if (model.get('label') === label) { model.set('v_model', value); model.save_changes(); pushed += 1; }
  }
  return pushed;
}"""


class Watched:
    """A page in its own browser context, with every failed request, 4xx/5xx response and console error kept."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed {r.url}"))
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text[:200]}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {str(e)[:200]}"))
        self.page.goto(url if "?" in url else url.rstrip("/") + "/?lang=en")  # these checks read the English page

    def close(self):
        self.context.close()


@pytest.fixture
def watched(chromium, page_server):  # noqa: F811
    opened = []

    def opener(url=None):
        page = Watched(chromium, url or page_server.url)
        opened.append(page)
        return page

    yield opener
    for page in opened:
        page.close()


def _ready(page):
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect(page.locator(".ontschot-year")).to_have_text("Year 0 of 15")
    for name in ("chart-ladder", "chart-flow", "chart-spending", "chart-business-case"):
        sync_api.expect(page.locator(f".{name} canvas").first).to_be_visible()
    return sync_api.expect


def test_browser_a_refused_regime_shows_one_line_and_step_still_works(watched):
    w = watched()
    page = w.page
    expect = _ready(page)
    assert page.evaluate(PUSH, ["Funding regime", "bogus"]) == 1
    notice = page.locator(".page-notice")
    expect(notice).to_contain_text("Not accepted: parameter 'scenario.regime' = 'bogus' (from the page's controls)")
    text = notice.inner_text().strip()
    assert "\n" not in text and not SERVER_PATH.search(page.locator("body").inner_text())
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-year")).to_have_text("Year 1 of 15")
    expect(notice).to_have_count(0)  # the step went through and cleared the message
    page.locator(".button-switch").click()  # the regime shown is switched to, never the refused value
    # the run in force: the run's own regime, then the switch
    expect(page.locator(".switch-message")).to_have_text("From year 1: compartmentalised; From year 2: integrated")
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-regime")).to_contain_text("regime in force this year (year 2): integrated")
    assert not w.problems, w.problems


def test_browser_a_number_field_says_not_a_number(watched):
    w = watched()
    page = w.page
    expect = _ready(page)
    field = page.locator(".control-scenario-inhabitants input")
    field.fill("dertigduizend")
    field.press("Enter")
    expect(page.locator(".control-scenario-inhabitants .number-error")).to_have_text(
        "Inhabitants (inhabitants): 'dertigduizend' is not a number; type a whole number, e.g. 30000"
    )
    page.locator(".button-reset").click()
    expect(page.locator(".settings-error")).to_contain_text("Fix the field first")
    field.fill("12.000")  # Dutch grouping is a number
    field.press("Enter")
    expect(page.locator(".number-error")).to_have_count(0)
    page.locator(".button-reset").click()
    expect(page.locator(".ontschot-regime")).to_contain_text("12,000 inhabitants")
    assert not w.problems, w.problems


def test_browser_too_large_a_municipality_is_refused_with_the_page_bound(watched):
    w = watched()
    page = w.page
    expect = _ready(page)
    expect(page.locator(".view-settings")).to_contain_text("a whole number from 1,000 to 250,000 on this page")
    field = page.locator(".control-scenario-inhabitants input")
    field.fill("20000000")
    field.press("Enter")
    page.locator(".button-reset").click()
    expect(page.locator(".settings-error")).to_contain_text(
        "'scenario.inhabitants' = 20,000,000 is more than this page allows (250,000 inhabitants)"
    )
    expect(page.locator(".ontschot-regime")).to_contain_text("30,000 inhabitants")  # the run goes on unchanged
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-year")).to_have_text("Year 1 of 15")
    assert not w.problems, w.problems


def test_browser_no_console_error_and_no_missing_asset_on_load_and_use(watched):
    w = watched()
    page = w.page
    expect = _ready(page)
    page.locator(".button-step").click()
    expect(page.locator(".ontschot-year")).to_have_text("Year 1 of 15")
    page.locator(".button-switch").click()
    page.get_by_role("button", name="Theo").click()
    page.wait_for_timeout(1500)  # late requests (fonts, chart scripts)
    assert not w.problems, w.problems


@contextlib.contextmanager
def pages_of(served: PageServer):
    """The pages a test opens on ``served`` (it appends them): none may have had a problem; all closed, server too."""
    opened: list[Watched] = []
    try:
        yield opened
        for w in opened:
            assert not w.problems, w.problems
    finally:
        for w in opened:
            w.close()
        served.stop()


def test_browser_the_session_over_the_limit_is_told_the_page_is_full(chromium, tmp_path):  # noqa: F811
    expect = pytest.importorskip("playwright.sync_api").expect
    limited = PageServer(tmp_path / "server.log", env={"ONTSCHOT_PAGE_MAX_SESSIONS": "2"})
    with pages_of(limited) as opened:
        # the running server holds the allocator settings that let closed sessions' memory go back (no glibc
        # tcache: idle worker threads kept pages resident; benchmarks/bench_page_sessions.py)
        # (glibc rewrites GLIBC_TUNABLES in the process's own copy once read: its effect is tested below)
        running = dict(item.split("=", 1) for item in
                       (Path(f"/proc/{limited.proc.pid}/environ").read_bytes().decode().split("\0")) if "=" in item)
        for key, value in server.ENVIRONMENT.items():
            assert running.get(key) == value or key == "GLIBC_TUNABLES" and key in running, key
        for _ in range(2):
            opened.append(Watched(chromium, limited.url))
            expect(opened[-1].page.locator(".ontschot-year")).to_have_text("Year 0 of 15")
        third = Watched(chromium, limited.url)
        opened.append(third)
        expect(third.page.locator(".page-full-message")).to_contain_text(
            "The page is full: 2 sessions are open on this server"
        )
        expect(third.page.locator(".button-step")).to_have_count(0)
        # a tab closed normally (the browser says goodbye) gives its seat back at once, not after the lifetime
        opened[0].page.close(run_before_unload=True)
        third.page.wait_for_timeout(SEAT_FREED_MS)
        again = Watched(chromium, limited.url)
        opened.append(again)
        expect(again.page.locator(".ontschot-year")).to_have_text("Year 0 of 15", timeout=TIMEOUT_MS)


def test_browser_closed_sessions_leave_no_idle_worker_threads_behind(chromium, tmp_path):  # noqa: F811
    """Three sessions at once are served by three worker threads; once all close, the clean-up ends them but one."""
    expect = pytest.importorskip("playwright.sync_api").expect
    served = PageServer(tmp_path / "server.log", env={guard.STATUS_VARIABLE: "1"})
    with pages_of(served) as opened:
        for _ in range(3):
            opened.append(Watched(chromium, served.url))
        for w in opened:
            expect(w.page.locator(".ontschot-year")).to_have_text("Year 0 of 15")
        for w in opened:
            w.page.close(run_before_unload=True)
        deadline = time.monotonic() + guard.TRIM_DELAY_SECONDS + CLEAN_UP_WAIT_SECONDS
        last = None
        while time.monotonic() < deadline:
            lines = [line for line in served.log.read_text().splitlines() if line.startswith(STATUS_LINE)]
            last = ast.literal_eval(lines[-1].removeprefix(STATUS_LINE)) if lines else None
            if last is not None and last["sessions"] == 0:
                break
            time.sleep(0.5)
        assert last is not None and last["sessions"] == 0, last
        assert last["threads"].get(guard.WORKER_THREAD_NAME, 0) <= 1, last["threads"]


STATUS_LINE = "ontschot-page: memory given back; "  # the server's status line after a clean-up (guard.STATUS_VARIABLE)
CLEAN_UP_WAIT_SECONDS = 30  # after the clean-up's delay: the goodbyes reach the server, the clean-up runs


def test_the_clean_up_does_not_keep_the_closing_session_alive(monkeypatch):
    """The clean-up's timer is made while a session closes; it must not hold that session (its models)."""
    pytest.importorskip("solara")
    import solara.server.app  # noqa: F401  (the server's patches: every new thread gets the session it is made in)
    from solara.server import kernel, kernel_context

    context = kernel_context.VirtualKernelContext(id="closing", kernel=kernel.Kernel(), session_id="s")
    monkeypatch.setattr(guard, "_trim_timer", None)
    with context:
        made_here = threading.Thread(target=lambda: None)
        guard.schedule_trim(delay=600)
    timer = guard._trim_timer
    try:
        assert made_here.current_context is context  # Solara's patch is in force here
        assert timer.current_context is None
    finally:
        timer.cancel()
        context.close()
