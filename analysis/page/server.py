"""Serve the workshop page: ``solara run`` on the app module, offline, in production mode."""

from __future__ import annotations

import ipaddress
import os
import sys

APP = "analysis.page.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ENVIRONMENT = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # otherwise the server tries to reach the internet
    # On plain http at an address other than "localhost" Solara warns for every page load that it sets a
    # lax session cookie instead of a cross-site one; that is what a page that is not embedded needs.
    "PYTHONWARNINGS": "ignore:Cookies with samesite=none require https:UserWarning",
    # Queue a session's widget messages and let the event loop send them (every 50 ms) instead of each
    # message waiting for the loop: with 20 sessions stepping at once, 20/20 completed instead of 1-10/20,
    # the server's time per step fell from 15-29 s to 2.9 s (median; benchmarks/bench_page.py, same machine).
    "SOLARA_EXPERIMENTAL_PERFORMANCE": "True",
}


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address(host: str, port: int) -> str:
    """The page's address as a browser takes it."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line that serves the page."""
    return [sys.executable, "-m", "solara", "run", APP, "--host", host, "--port", str(port), "--production",
            "--no-check-version", "--no-open"]


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Replace this process with the page's server (so its pid is the server's; Ctrl-C stops it)."""
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, **ENVIRONMENT}
    os.execve(sys.executable, command(host, port), env)
