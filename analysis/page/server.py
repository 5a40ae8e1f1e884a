"""Serve the workshop page: ``solara run`` on the app module, offline, in production mode.

The server process starts here (``python -m analysis.page.server run ...``) rather than at ``python -m
solara``, so that Solara's gzip middleware keeps what it compressed of the static assets (``CachedGzip``)
before Solara's command line takes over.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
from collections.abc import Mapping

APP = "analysis.page.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# How long a session whose browser went away without saying so (a closed laptop, a killed browser, a dropped
# network) is kept for it to reconnect; Solara's default is 24 hours, which kept every such session's models:
# 50 abrupt closes took the server from 242 to 647 MB. Two minutes covers a network hiccup or a laptop lid;
# a tab closed normally is freed at once (the browser says goodbye). benchmarks/bench_page_sessions.py.
SESSION_LIFETIME_SECONDS = 120
# A workshop room is 10-25 participants and a trainer or two; benchmarks/bench_page.py measured 20 sessions
# stepping at once on 2 cores (about 3 s a step on the server), so 30 leaves room for spare tabs while a
# 31st participant is told the page is full rather than slowing every other session down.
MAX_SESSIONS = 30
SESSIONS_VARIABLE = "ONTSCHOT_PAGE_MAX_SESSIONS"  # a smaller cap for a smaller machine (and the tests)
ENVIRONMENT = {
    "SOLARA_KERNEL_CULL_TIMEOUT": f"{SESSION_LIFETIME_SECONDS}s",
    # Memory a closed session freed goes back to the system: Python's small-object allocator keeps a 1 MB
    # arena while one object in it lives (the page's many small widget objects leave most arenas so), glibc
    # then returns what malloc_trim finds free, and fewer glibc arenas (one per thread by default) scatter
    # less. 20 abruptly closed sessions, after their lifetime: 305 MB -> 262 MB against 234 MB after the
    # warm-up (benchmarks/bench_page_sessions.py, same machine).
    "PYTHONMALLOC": "malloc",
    # One glibc arena: with two, the threads serving sessions are given one or the other by turns, and the second
    # kept 5-30 MB of free pages resident after its sessions had gone, more or less from run to run (benchmarks/
    # bench_page_sessions.py prints each arena). With one, the free memory is in the heap malloc_trim trims fully.
    "MALLOC_ARENA_MAX": "1",
    # Blocks of 128 kB and more are mapped on their own and unmapped when freed (glibc otherwise raises this
    # threshold as large blocks are freed and then keeps such blocks in its heap), and the stacks of finished
    # threads are not kept for reuse. 100 abrupt closes, after their lifetime: 261 MB -> 253 MB against
    # 221/222 MB after the warm-up (one run each, same machine; the spread between runs is not measured).
    "MALLOC_MMAP_THRESHOLD_": str(128 * 1024),
    # No per-thread cache of freed blocks (glibc's tcache, up to 7 blocks of each of 64 sizes per thread): the
    # server's idle worker threads (one per session that stepped at once, kept by anyio's pool) each held the
    # last blocks they freed, scattered over the heap, and every such block kept its whole page resident.
    # 20 abrupt closes, after their lifetime: +10.6% -> +3.3% against the warm-up; heap 132 -> 129 MB and
    # other anonymous memory 36 -> 22 MB (benchmarks/bench_page_sessions.py, which prints the breakdown).
    "GLIBC_TUNABLES": "glibc.pthread.stack_cache_size=0:glibc.malloc.tcache_count=0",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # otherwise the server tries to reach the internet
    # On plain http at an address other than "localhost" Solara warns for every page load that it sets a
    # lax session cookie instead of a cross-site one; that is what a page that is not embedded needs.
    "PYTHONWARNINGS": "ignore:Cookies with samesite=none require https:UserWarning",
    # Queue a session's widget messages and let the event loop send them (every 50 ms) instead of each
    # message waiting for the loop: with 20 sessions stepping at once, 20/20 completed instead of 1-10/20,
    # the server's time per step fell from 15-29 s to 2.9 s (median; benchmarks/bench_page.py, same machine).
    "SOLARA_EXPERIMENTAL_PERFORMANCE": "True",
}
# The allocator's settings above: one already set in the environment the page is started from is kept.
ALLOCATOR_KEYS = frozenset({"PYTHONMALLOC", "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"})


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session_limit(environ: Mapping[str, str] | None = None) -> int:
    """The cap on sessions: ``MAX_SESSIONS``, or a whole number of at least 1 in $ONTSCHOT_PAGE_MAX_SESSIONS.

    Raises:
        InputError: anything else in the variable (one line).
    """
    from model.parameters import InputError

    text = (os.environ if environ is None else environ).get(SESSIONS_VARIABLE, "").strip()
    if not text:
        return MAX_SESSIONS
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{SESSIONS_VARIABLE} = {text!r} is not allowed: expected a whole number from 1")
    return int(text)


def address(host: str, port: int) -> str:
    """The page's address as a browser takes it."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def command(host: str, port: int) -> list[str]:
    """The command line that serves the page: ``solara run`` with its options, through ``main`` here."""
    return [sys.executable, "-m", "analysis.page.server", "run", APP, "--host", host, "--port", str(port),
            "--production", "--no-check-version", "--no-open"]


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Replace this process with the page's server (so its pid is the server's; Ctrl-C stops it).

    Raises:
        InputError: a bad $ONTSCHOT_PAGE_MAX_SESSIONS (one line), before the server starts.
    """
    session_limit()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command(host, port), server_environment(os.environ))


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ``environ`` with ``ENVIRONMENT`` over it, except the allocator's settings it has.

    An allocator setting (``ALLOCATOR_KEYS``) already in the caller's environment is kept, so that an operator
    or a benchmark (``bench_page_sessions.py --server-env``) can try another; the page's others always apply.
    """
    ours = {key: value for key, value in ENVIRONMENT.items() if key not in ALLOCATOR_KEYS or key not in environ}
    return {**environ, **ours}


# Static assets: the same bytes for every session (JavaScript, CSS, fonts), so their compressed form is
# kept. Not the page itself ("/"), nor Solara's API.
ASSET_PREFIXES = ("/_solara/cdn/", "/static/", "/jupyter/nbextensions/")
ASSET_CACHE_BYTES = 64 * 2**20  # at most this much compressed output is kept (the assets take about 3 MB)


_server_loop: asyncio.AbstractEventLoop | None = None


def record_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Record the server's event loop (the gzip middleware does, on every request)."""
    global _server_loop
    _server_loop = loop


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop, as the gzip middleware saw it on the last request; None before the first."""
    return _server_loop


def cached_gzip_class():
    """Starlette's gzip middleware, keeping the responses it sent for static assets and sending them again.

    Solara compresses every response at gzip's highest level, in the server's event loop. A browser
    opening the page fetches about 7 MB of JavaScript and CSS, and 3 MB more (ECharts) for the first
    chart: compressing that took about a second of the server's CPU per browser, paid again by every
    participant (a browser's cache is its own). Twenty participants opening the page at once thus
    took the server tens of seconds, during which it also served their steps. With the compressed
    responses kept, each asset is compressed once per server process.
    """
    from starlette.middleware.gzip import GZipMiddleware

    # The server process runs this file as ``__main__``; the page's modules import it by its name, a second copy
    # of its globals: the event loop is recorded there, where ``server_loop`` (called by the guard) reads it.
    from analysis.page import server as named

    class CachedGzip(GZipMiddleware):
        kept: dict[tuple, list[dict]] = {}
        kept_bytes = 0

        async def __call__(self, scope, receive, send):
            named.record_loop(asyncio.get_running_loop())  # every request passes here: the server's event loop
            key = self._key(scope)
            if key is None:
                await super().__call__(scope, receive, send)
                return
            messages = CachedGzip.kept.get(key)
            if messages is not None:
                for message in messages:
                    await send(message)
                return
            sent: list[dict] = []

            async def keep(message):
                sent.append(message)
                await send(message)

            await super().__call__(scope, receive, keep)
            self._keep(key, sent)

        @staticmethod
        def _key(scope) -> tuple | None:
            """What decides the response: path, query and whether the browser takes gzip; None: not kept."""
            if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(ASSET_PREFIXES):
                return None
            headers = dict(scope["headers"])
            if b"range" in headers:
                return None
            return scope["path"], scope["query_string"], b"gzip" in headers.get(b"accept-encoding", b"")

        @staticmethod
        def _keep(key: tuple, sent: list[dict]) -> None:
            """Keep a complete 200 response, within ``ASSET_CACHE_BYTES``."""
            if not sent or sent[0].get("type") != "http.response.start" or sent[0].get("status") != 200:
                return
            if sent[-1].get("type") != "http.response.body" or sent[-1].get("more_body", False):
                return
            size = sum(len(m.get("body", b"")) for m in sent)
            if CachedGzip.kept_bytes + size <= ASSET_CACHE_BYTES:
                CachedGzip.kept[key] = sent
                CachedGzip.kept_bytes += size

    return CachedGzip


def main() -> None:
    """The server process: Solara's command line (``run APP ...``), with its gzip middleware keeping the assets.

    Starlette's gzip middleware is replaced before Solara's server module imports it.
    """
    import starlette.middleware.gzip

    starlette.middleware.gzip.GZipMiddleware = cached_gzip_class()
    from solara.__main__ import main as solara_main

    solara_main()


if __name__ == "__main__":
    main()
