"""The workshop page under a workshop's load: many browser sessions stepping at once, on loopback.

Starts the real server (``ontschot page`` on 127.0.0.1 and a free port), opens one headless Debian
Chromium, and drives ``--sessions`` browser contexts at once (one context = one participant's own
session). All of them open the page first; then each steps ``--years`` years with the Step button, all at
once. A step's time runs from the click until the page shows the next year with its views redrawn. First,
one session alone steps the same years: a simulated year of the default municipality as a single
trainer sees it. With ``ONTSCHOT_PAGE_TIMING=1`` the server logs each step's own time (the model's year
and the views' render, without the network and the browser's drawing) and that thread's CPU time; those
figures are reported too, with the server process's CPU time per step while the sessions step (read from
``/proc``: all its threads, the websocket traffic included).
The browsers run on the same cores as the server here, unlike a workshop's laptops, so they run at a
lower CPU priority (``nice``): the server's figures are then what it needs, and the end-to-end figures
include browsers that wait for the CPU.

Prints page-load times, the median and worst time per step (alone and under load), and checks that
every session reached its last year and that the server's log holds no error. A benchmark, not a test:
it prints figures and exits 1 only when a session failed or the log shows an error. Traffic goes only
to 127.0.0.1; every wait is bounded.

    python benchmarks/bench_page.py [--sessions 20] [--years 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright, expect  # noqa: E402

from model.parameters import PARAMETERS  # noqa: E402
from tests.browser import PageServer, launch_options, server_errors  # noqa: E402

HORIZON = PARAMETERS.get("scenario.years").value  # the page's first run uses the defaults
INHABITANTS = PARAMETERS.get("scenario.inhabitants").value

TIMEOUT_MS = 300_000  # one wait of one session: 20 Chromium tabs and the server share 2 cores
VIEWPORT = {"width": 1600, "height": 1000}
YEAR_TEXT = "Jaar {year} van {horizon}"  # the page's year line: the page is Dutch unless asked otherwise
VIEW_YEAR_TEXT = "(jaar {year})"  # the spending view's table, redrawn for the year ("dit jaar (jaar 3)")
BROWSER_NICENESS = 15  # the browsers yield the CPU to the server (see niced)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux ``/proc/<pid>/stat``), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def session(browser, url: str, years: int, ready: asyncio.Barrier | None = None, on_ready=None) -> dict:
    """One participant: open the page, wait for the others (``ready``), step ``years`` times; times in seconds.

    ``on_ready`` is called once the page is loaded (with ``ready``: by one session, once all have loaded it).
    """
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    result = {"load": None, "steps": [], "error": None}
    try:
        page = await context.new_page()
        year = page.locator(".ontschot-year")
        start = time.perf_counter()
        await page.goto(url)
        await expect(year).to_have_text(YEAR_TEXT.format(year=0, horizon=HORIZON), timeout=TIMEOUT_MS)
        result["load"] = time.perf_counter() - start
    except Exception as exc:  # a failed session is reported, and the others go on
        result["error"] = f"loading: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    if ready is not None:
        if await ready.wait() == 0 and on_ready is not None:  # the room opens the page, then the trainer says "step"
            on_ready()
    elif on_ready is not None:
        on_ready()
    try:
        for k in range(1, years + 1):
            if result["error"]:
                break
            start = time.perf_counter()
            await page.locator(".button-step").click()
            await expect(year).to_have_text(YEAR_TEXT.format(year=k, horizon=HORIZON), timeout=TIMEOUT_MS)
            await expect(page.locator(".view-spending")).to_contain_text(VIEW_YEAR_TEXT.format(year=k),
                                                                         timeout=TIMEOUT_MS)
            result["steps"].append(time.perf_counter() - start)
    except Exception as exc:
        result["error"] = f"stepping: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        await context.close()
    return result


def niced(options: dict, folder: Path) -> dict:
    """Launch options whose Chromium runs at a lower CPU priority (``nice``), through a small wrapper script.

    In a workshop every participant's browser runs on their own laptop; here all 20 share the server's two
    cores. Niced, they would take what the server leaves. That holds only where the kernel does not group
    processes by session: with ``/proc/sys/kernel/sched_autogroup_enabled`` = 1 it shares the CPU between
    session groups first, Playwright starts Chromium in a session of its own, and Chromium resets its
    threads' nice (root may). Then the browsers, as one group, get a share equal to the server's group.
    Nicing that group instead starves the browsers, so fewer steps reach the server at once, which
    flatters its figures; so it is left as it is, and the server's CPU time per step is reported too.
    """
    wrapper = folder / "chromium-niced"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {BROWSER_NICENESS} {options["executable_path"]} "$@"\n')
    wrapper.chmod(0o755)
    return {**options, "executable_path": str(wrapper)}


async def drive(url: str, sessions: int, years: int, folder: Path, server_pid: int) -> tuple[dict, list[dict], dict]:
    """The warm-up, one session alone, then the crowd; also the server's CPU seconds at each phase's start and end."""
    cpu = {}

    def mark(name):
        cpu[name] = cpu_seconds(server_pid)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**niced(launch_options(), folder))
        try:
            await session(browser, url, 1)  # warm-up: the server's first render imports and compiles
            alone = await session(browser, url, years, on_ready=lambda: mark("alone"))
            mark("alone done")
            ready = asyncio.Barrier(sessions)
            crowd = await asyncio.gather(*(session(browser, url, years, ready, lambda: mark("crowd stepping"))
                                           for _ in range(sessions)))
            mark("crowd done")
        finally:
            await browser.close()
    return alone, list(crowd), cpu


def summary(name: str, runs: list[dict]) -> str:
    steps = [s for r in runs for s in r["steps"]]
    loads = [r["load"] for r in runs if r["load"] is not None]
    if not steps:
        return f"{name}: no step completed"
    return (f"{name}: page load median {statistics.median(loads):.2f} s, worst {max(loads):.2f} s; "
            f"per step median {statistics.median(steps):.2f} s, worst {max(steps):.2f} s ({len(steps)} steps)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions (default 20)")
    parser.add_argument("--years", type=int, default=5, help="years each session steps (default 5)")
    args = parser.parse_args(argv)
    if not (1 <= args.sessions <= 50 and 1 <= args.years <= HORIZON):
        parser.error(f"--sessions must be 1 to 50 and --years 1 to {HORIZON}")
    with tempfile.TemporaryDirectory() as folder:
        server = PageServer(Path(folder) / "server.log", env={"ONTSCHOT_PAGE_TIMING": "1"})
        try:
            started = time.perf_counter()
            alone, crowd, cpu = asyncio.run(drive(server.url, args.sessions, args.years, Path(folder), server.proc.pid))
            wall = time.perf_counter() - started
        finally:
            server.stop()
        log = server.log.read_text()
    failed = [r["error"] for r in [alone, *crowd] if r["error"] or len(r["steps"]) != args.years]
    errors = server_errors(log)
    print(f"Workshop page, default municipality ({INHABITANTS:,} inhabitants), {args.years} years per session")
    print(summary("1 session alone", [alone]))
    print(summary(f"{args.sessions} sessions at once", crowd))
    served = [float(m) for m in re.findall(r"stepped and rendered in ([0-9.]+) s", log)]
    if served:
        print(f"server side, every step of every session: median {statistics.median(served):.3f} s, "
              f"worst {max(served):.3f} s ({len(served)} steps; the model's year and the views' render, "
              "without the browser's drawing)")
    own = [(float(a), float(b)) for a, b in re.findall(r"\(thread CPU ([0-9.]+) s, of which the models ([0-9.]+) s\)", log)]
    if own:
        print(f"  of which the stepping thread's own CPU: median {statistics.median(a for a, _ in own):.3f} s, "
              f"worst {max(a for a, _ in own):.3f} s (the rest of a step's server time it waited for the CPU or "
              f"Python's GIL); the models' years median {statistics.median(b for _, b in own):.3f} s, "
              f"the rest (views) median {statistics.median(a - b for a, b in own):.3f} s")
    crowd_steps = sum(len(r["steps"]) for r in crowd)
    if crowd_steps and "crowd done" in cpu:
        print(f"server process CPU per step: alone {(cpu['alone done'] - cpu['alone']) / max(len(alone['steps']), 1):.3f} s, "
              f"{args.sessions} at once {(cpu['crowd done'] - cpu['crowd stepping']) / crowd_steps:.3f} s "
              f"(all threads; the crowd's page loads: {(cpu['crowd stepping'] - cpu['alone done']) / args.sessions:.2f} s each)")
    print(f"load average of this machine (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores (other work on the machine slows every figure)")
    print(f"wall time {wall:.1f} s; sessions completed {sum(len(r['steps']) == args.years for r in crowd)}"
          f"/{args.sessions}; server log errors: {len(errors)}")
    for line in failed[:5]:
        print(f"  failed session: {line}")
    for line in errors[:10]:
        print(f"  server log: {line}")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
