"""The page server's memory over abruptly closed sessions: does it come back once their lifetime has passed?

Starts the real server (``ontschot page`` on 127.0.0.1 and a free port) and reads its resident memory
(``VmRSS`` in ``/proc``) at the start, after a warm-up (a few sessions opened, stepped and closed
normally), right after ``--closes`` abrupt closes, and again once the session lifetime
(``analysis.page.server.SESSION_LIFETIME_SECONDS``) and the clean-up delay have passed.

An abrupt close is a browser that dies with the page open: each round launches a headless Chromium,
opens ``--per-browser`` sessions in it (each loads the page and steps a year, so its models exist), then
crashes the whole browser (DevTools ``Browser.crash``): no tab says goodbye and no websocket is closed
properly, as when a laptop is shut or a browser is killed. The server only sees connections drop, and
keeps each session for its lifetime in case it reconnects. The cap on sessions (``MAX_SESSIONS``) is
lifted for the run, so that all of them are held at once: the most memory the closes can take.

Prints the four figures and the change against the warm-up; exits 1 when the memory after the
lifetime is more than ``TARGET`` (10%) above the warm-up figure, or the server's log shows an error.
Traffic goes only to 127.0.0.1; every wait is bounded.

    python benchmarks/bench_page_sessions.py [--closes 100] [--per-browser 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from analysis.page.guard import STATUS_VARIABLE, TRIM_DELAY_SECONDS  # noqa: E402
from analysis.page.server import SESSION_LIFETIME_SECONDS, SESSIONS_VARIABLE  # noqa: E402
from model.parameters import PARAMETERS  # noqa: E402
from tests.browser import PageServer, launch, server_errors  # noqa: E402

HORIZON = PARAMETERS.get("scenario.years").value
TARGET = 0.10  # the target: the server's memory back within 10% of the warm-up figure
WARM_UP_SESSIONS = 3
SETTLE_SECONDS = 60  # the longest wait for a clean-up after the lifetime (the cull, then TRIM_DELAY_SECONDS later)
STATUS_LINE = "ontschot-page: memory given back"  # the server's line after each clean-up (STATUS_VARIABLE)
TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1400, "height": 900}
STACK_KB = 8192  # glibc's default thread stack (ulimit -s), the size of each thread's stack mapping


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def memory_map(pid: int) -> dict[str, float]:
    """Resident memory by kind of mapping in MB (``/proc/<pid>/smaps``).

    The kinds: the heap, thread stacks (the anonymous mappings of ``STACK_KB``, glibc's default 8 MB stack),
    other anonymous memory (glibc's other arenas, large blocks, Python's arenas), files (code and data).
    """
    kinds: dict[str, float] = {}
    name, size = "", 0
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else ""
        elif head[0] == "Size:":
            size = int(head[1])
        elif head[0] == "Rss:":
            if name.startswith("["):
                kind = name.strip("[]").split(":")[0]
            elif name:
                kind = "files"
            else:
                kind = "thread stacks" if size == STACK_KB else "anonymous"
            kinds[kind] = kinds.get(kind, 0.0) + int(head[1]) / 1024
    return {k: round(v, 1) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]) if v >= 0.1}


def wait_for_clean_up(log: Path, seen: int, timeout: float) -> int:
    """Wait (at most ``timeout`` s) for a clean-up after the first ``seen`` that left no session; the count of them.

    The server prints a status line after each clean-up (``STATUS_VARIABLE``); one with 0 sessions means the
    closed sessions are gone and their memory given back.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log.read_text().splitlines() if line.startswith(STATUS_LINE)]
        if any("'sessions': 0," in line for line in lines[seen:]) or time.monotonic() > deadline:
            return len(lines)
        time.sleep(1)


def threads(pid: int) -> int:
    """The process's threads (``/proc/<pid>/task``)."""
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def open_and_step(browser, url: str):
    """A new session: load the page and step one year; returns its context."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(url + "/?lang=en")  # the English texts (Dutch is the page's default), read below
    year = page.locator(".ontschot-year")
    expect(year).to_have_text(f"Year 0 of {HORIZON}", timeout=TIMEOUT_MS)
    page.locator(".button-step").click()
    expect(year).to_have_text(f"Year 1 of {HORIZON}", timeout=TIMEOUT_MS)
    return context, page


def warm_up(pw, url: str) -> None:
    """A few sessions opened, stepped and closed the ordinary way (the tab says goodbye)."""
    browser = launch(pw)
    try:
        for _ in range(WARM_UP_SESSIONS):
            context, page = open_and_step(browser, url)
            page.close(run_before_unload=True)
            context.close()
    finally:
        browser.close()


def abrupt_round(pw, url: str, sessions: int) -> int:
    """``sessions`` sessions in one Chromium, then the browser crashes; returns the sessions opened."""
    browser = launch(pw)
    opened = 0
    try:
        for _ in range(sessions):
            open_and_step(browser, url)
            opened += 1
        cdp = browser.new_browser_cdp_session()
        try:
            cdp.send("Browser.crash")
        except Exception:  # the browser is gone before it answers: that is the point
            pass
    finally:
        try:
            browser.close()
        except Exception:  # already dead
            pass
    return opened


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closes", type=int, default=100, help="abrupt closes (default 100)")
    parser.add_argument("--per-browser", type=int, default=10, help="sessions per crashed browser (default 10)")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the server process (e.g. MALLOC_ARENA_MAX=2); repeatable",
    )
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.server_env if "=" in item)
    if len(extra) != len(args.server_env):
        parser.error("--server-env takes KEY=VALUE")
    if not (1 <= args.closes <= 1000 and 1 <= args.per_browser <= 30):
        parser.error("--closes must be 1 to 1000 and --per-browser 1 to 30")
    figures, maps = {}, {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        # the cap on sessions would turn the later ones away while the earlier ones live out their lifetime;
        # lifted here, so that all the abruptly closed sessions are held at once (the worst case for memory)
        server = PageServer(
            Path(folder) / "server.log",
            env={SESSIONS_VARIABLE: str(args.closes + WARM_UP_SESSIONS), STATUS_VARIABLE: "1", **extra},
        )
        pid = server.proc.pid
        try:
            figures["start"] = rss_mb(pid)
            maps["start"] = (memory_map(pid), threads(pid))
            with sync_playwright() as pw:
                warm_up(pw, server.url)
                seen = wait_for_clean_up(server.log, 0, TRIM_DELAY_SECONDS + SETTLE_SECONDS)
                figures["after warm-up"] = rss_mb(pid)
                maps["after warm-up"] = (memory_map(pid), threads(pid))
                closed = 0
                while closed < args.closes:
                    closed += abrupt_round(pw, server.url, min(args.per_browser, args.closes - closed))
                    print(f"  {closed} abrupt closes, server {rss_mb(pid):.0f} MB", flush=True)
            figures[f"right after {closed} abrupt closes"] = rss_mb(pid)
            maps[f"right after {closed} abrupt closes"] = (memory_map(pid), threads(pid))
            closes_done = time.perf_counter()
            print(
                f"  waiting for the session lifetime ({SESSION_LIFETIME_SECONDS} s) and the clean-up after it",
                flush=True,
            )
            time.sleep(SESSION_LIFETIME_SECONDS)
            wait_for_clean_up(server.log, seen, TRIM_DELAY_SECONDS + SETTLE_SECONDS)
            figures[f"{time.perf_counter() - closes_done:.0f} s later (lifetime passed)"] = rss_mb(pid)
            maps[list(figures)[-1]] = (memory_map(pid), threads(pid))
        finally:
            server.stop()
        log = server.log.read_text()
        errors = server_errors(log)
    held = [line for line in log.splitlines() if line.startswith(STATUS_LINE)]
    base = figures["after warm-up"]
    final = list(figures.values())[-1]
    print(
        f"Page server memory (RSS), {args.closes} abrupt closes, {args.per_browser} sessions per crashed browser, "
        f"session lifetime {SESSION_LIFETIME_SECONDS} s{'; server env ' + str(extra) if extra else ''}; wall time {time.perf_counter() - started:.0f} s"
    )
    for name, mb in figures.items():
        print(f"  {name}: {mb:.0f} MB ({(mb - base) / base:+.1%} against the warm-up)")
        print(f"      {maps[name][1]} threads; resident MB by mapping: {maps[name][0]}")
    ok = final <= base * (1 + TARGET)
    print(
        f"target: back within {TARGET:.0%} of the warm-up figure: {'met' if ok else 'NOT met'}; "
        f"server log errors: {len(errors)}"
    )
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for line in held:  # the server's own account after each clean-up
        print(f"  server, {line.split('ontschot-page: ', 1)[1]}")
    for line in errors[:10]:
        print(f"  server log: {line}")
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
