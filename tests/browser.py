"""A real browser for the tests: Debian's Chromium driven by Playwright, and the page's server on loopback.

Playwright's own browser download cannot work on this project's machines, so Playwright is pointed at
Debian's ``chromium`` package (``make test`` installs it when missing). Debian puts a wrapper script on
PATH and the real binary in ``/usr/lib/chromium/``: Playwright needs the real one. Headless Chromium runs
as root here, so it needs ``--no-sandbox``, and it must not look anything up on the network.

Use from a test module::

    from tests.browser import chromium, page_server   # fixtures: a Browser, a served page's base URL

or, outside pytest, ``launch(playwright)`` (``launch_options()`` for the async API) and ``PageServer``. Import the fixtures into the module that
uses them (pytest finds fixtures by name in the module's namespace).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")
INSTALL_HINT = "install Debian's Chromium with: apt-get install chromium (make test does it when missing)"
FLAGS = (
    "--no-sandbox",  # root in a container: Chromium's sandbox cannot start
    "--disable-background-networking",  # no update, safe-browsing or component look-ups (they hang offline)
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # small /dev/shm in containers
    "--disable-gpu",
)
SERVER_START_SECONDS = 120  # a cold start imports Solara, the model and matplotlib on a busy 2-core machine


def chromium_path() -> str | None:
    """The real Chromium binary: $CHROMIUM_PATH, Debian's lib folder, or one on PATH; None if none exists."""
    env = os.environ.get("CHROMIUM_PATH")
    if env:
        return env if Path(env).is_file() else None
    for path in CANDIDATES:
        if Path(path).is_file():
            return path
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def launch_options() -> dict:
    """Keyword arguments for ``playwright.chromium.launch`` (sync or async API); a clear error without Chromium."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(f"no Chromium binary found: {INSTALL_HINT}")
    return {"executable_path": path, "headless": True, "args": list(FLAGS)}


def launch(playwright, **kwargs):
    """A headless Chromium Browser from Debian's binary with the flags above (sync API)."""
    return playwright.chromium.launch(**launch_options(), **kwargs)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PageServer:
    """``ontschot page`` as its own process on 127.0.0.1 and a free port; its output goes to ``log``."""

    def __init__(self, log: Path, port: int | None = None, cwd: Path = ROOT, env: dict | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(log)
        self._fh = open(self.log, "w")
        env = {**os.environ, "PYTHONPATH": str(cwd) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
        # the process is the server itself (no shell in between), so its pid is what we stop
        self.proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "page", "--port", str(self.port)],
                                     cwd=cwd, env=env, stdout=self._fh, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the page server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the page server did not answer within {SERVER_START_SECONDS} s:\n{self.log_text()}")

    def log_text(self) -> str:
        """Everything the server printed so far."""
        self._fh.flush()
        return self.log.read_text()

    def stop(self) -> None:
        """Stop the server (its own pid) and close the log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._fh.close()


def server_errors(log: str) -> list[str]:
    """Lines of a server log that report an error (tracebacks, exceptions, error-level messages)."""
    words = ("Traceback", "Error", "ERROR", "Exception", "CRITICAL")
    return [line for line in log.splitlines() if any(w in line for w in words)]


@pytest.fixture(scope="module")
def chromium():
    """A headless Debian Chromium for the module; skipped with the install hint where Playwright is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    if chromium_path() is None:
        pytest.fail(f"no Chromium binary: {INSTALL_HINT}")
    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    """The workshop page served on loopback for the module; the server log must hold no error at the end."""
    server = PageServer(tmp_path_factory.mktemp("page-server") / "server.log")
    yield server
    server.stop()
    errors = server_errors(server.log.read_text())
    assert not errors, "errors in the page server's log:\n" + "\n".join(errors)
