"""Around every ``ontschot`` command: options checked first, a full stdout and Ctrl-C each one line on stderr.

- ``check_options``: every path option (``--out``, a results folder, a design or scenario file...) through
  ``experiments.paths`` and a ``--scheduler`` through ``experiments.scheduler.scheduler_address``, before
  the command does anything.
- ``guarded_stdout``: a standard output that cannot be written (``> /dev/full``, a closed pipe's cousins)
  becomes ``StdoutError``, one line, exit 2, instead of a traceback or Python's "Exception ignored" at exit.
- ``interruptible``: the first Ctrl-C raises KeyboardInterrupt in the command (its ``finally`` clauses tidy
  up, the caller prints one line, exit 130); a second one while it tidies up exits at once with status 130,
  saying nothing more. Worker processes ignore Ctrl-C (``deferred_interrupts``): the terminal sends it to
  every process in the foreground group, and each worker would print its own traceback; the parent stops
  them instead. What worker processes write to stderr goes to a log file (``workers_stderr_logged``), which
  the one-line error of a cluster that cannot start names.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import experiments
from experiments.paths import check_path
from experiments.store import OutputError, os_reason

# attribute of the parsed options -> (how the message names it, whether results are written below it)
PATH_OPTIONS = {
    "out": ("--out", True), "results": ("results folder", False), "folder": ("folder", False),
    "design": ("design file", False), "scenario": ("--scenario", False), "practices": ("--practices", False),
    "ensemble": ("--ensemble", False), "csv": ("--csv", True), "doc": ("--doc", True),
    "analyse": ("--analyse", False), "source": ("--from", False),
}
LEFT_TO_THEIR_READER = {"scenario"}  # an empty --scenario is refused by the scenario reader in its own words
INTERRUPTED = experiments.INTERRUPTED  # one wording, also before the command has started


def check_options(args: argparse.Namespace) -> None:
    """Every path option and the scheduler address, checked before the command starts.

    Raises:
        InputError: naming the option, its value and why it cannot be used.
    """
    for attr, (option, output) in PATH_OPTIONS.items():
        value = getattr(args, attr, None)
        if value is None or (value == "" and attr in LEFT_TO_THEIR_READER):
            continue
        if attr == "practices" and value.strip().lower() == "none":
            continue
        check_path(value, option, output=output)
    if getattr(args, "scheduler", None) is not None:
        from experiments.scheduler import scheduler_address

        scheduler_address(args.scheduler)


class StdoutError(OutputError):
    """Standard output cannot be written (full, or an I/O error): one line on stderr, exit 2."""


class _Guarded:
    """A text stream whose write errors (other than a closed pipe) become ``StdoutError``."""

    def __init__(self, inner):
        self._inner = inner

    def _call(self, name: str, *args):
        try:
            return getattr(self._inner, name)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(f"standard output cannot be written ({os_reason(exc)}); what the command saved "
                              "stays, its printed answer is lost: send it to a file or a disk with room") from None

    def write(self, text: str) -> int:
        """Write to the stream; an OSError becomes StdoutError."""
        return self._call("write", text)

    def flush(self) -> None:
        """Flush the stream; an OSError becomes StdoutError."""
        return self._call("flush")

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so Python's own flush at exit cannot fail again and print."""
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


@contextlib.contextmanager
def guarded_stdout():
    """``sys.stdout`` guarded for the command's duration, flushed at its end (so a late error is still caught)."""
    inner = sys.stdout
    sys.stdout = _Guarded(inner)
    try:
        yield
        sys.stdout.flush()
    finally:
        sys.stdout = inner


_said = {"interrupted": False}  # whether the one line about Ctrl-C has been printed


def say_interrupted() -> None:
    """Print the one line about Ctrl-C, once."""
    if not _said["interrupted"]:
        _said["interrupted"] = True
        print(INTERRUPTED, file=sys.stderr, flush=True)


def _stop_now(signum, frame) -> None:  # a second Ctrl-C while the first one is being tidied up
    say_interrupted()
    os._exit(130)


def _first_interrupt(signum, frame) -> None:
    signal.signal(signal.SIGINT, _stop_now)
    raise KeyboardInterrupt


@contextlib.contextmanager
def interruptible():
    """Ctrl-C once: KeyboardInterrupt; twice: exit 130 at once. Only in the main thread (else nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _said["interrupted"] = False
    before = signal.signal(signal.SIGINT, _first_interrupt)
    try:
        yield
    finally:
        # The command has answered (or said it was interrupted): a Ctrl-C while Python shuts down ends it quietly.
        starting = before is experiments._stopped_while_starting
        signal.signal(signal.SIGINT, _stop_now if starting else before)


def ignore_interrupt() -> None:
    """In a worker process: Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Deferred:
    """Whether a Ctrl-C came while interrupts were deferred (``deferred_interrupts``)."""

    def __init__(self):
        self.came = False

    def __call__(self, signum, frame) -> None:
        self.came = True


@contextlib.contextmanager
def deferred_interrupts():
    """Ctrl-C waits while worker processes start; the caller stops them and raises KeyboardInterrupt if one came.

    Starting a Dask cluster or a process pool must not be cut halfway (a half-started cluster prints
    tracebacks when Python exits). A process forked meanwhile inherits the quiet handler; one spawned
    ignores Ctrl-C from its first import (``experiments/__init__.py``). Outside the main thread nothing changes.
    """
    later = Deferred()
    if threading.current_thread() is not threading.main_thread():
        yield later
        return
    before = signal.signal(signal.SIGINT, later)
    try:
        yield later
    finally:
        signal.signal(signal.SIGINT, before)

def check_listen_address(host: str, port: int) -> None:
    """The page server's ``--host`` and ``--port``: a name or address of this machine, and a port free there.

    Checked by binding a socket the way the server will (and closing it at once), before the server starts.

    Raises:
        InputError: an empty host, one that does not resolve or is not this machine's, a port in use or
            one that needs privileges.
    """
    import socket

    from model.parameters import InputError, show_path

    shown = f"--host {show_path(host)}"
    if not host.strip() or any(ord(c) < 32 or c == "\x7f" for c in host):
        raise InputError(f"{shown} is not allowed: expected a name or address of this machine (e.g. 127.0.0.1)")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise InputError(f"{shown} is not allowed: the name does not resolve ({reason}); give a name or address of "
                         "this machine (e.g. 127.0.0.1)") from None
    family, kind, proto, _, where = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(where)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"--port {port} is not allowed: another program already listens on port {port} "
                                 f"of {host}; choose another --port") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise InputError(f"{shown} is not allowed: it is not an address of this machine; give one of its "
                                 "own (e.g. 127.0.0.1, or its address on the room's network)") from None
            if exc.errno == errno.EACCES:
                raise InputError(f"--port {port} is not allowed: a port below 1024 needs administrator rights; "
                                 "choose one from 1024 up (default 8765)") from None
            raise InputError(f"{shown} --port {port} cannot be served: {os_reason(exc)}") from None


WORKERS_LOG_PREFIX = "ontschot-dask-workers-"  # the worker processes' log: a temporary file (tempfile's folder)


@contextlib.contextmanager
def workers_stderr_logged():
    """File descriptor 2 points at a new log file while worker processes start (they inherit it), then back.

    Yields the log's path (None: no real stderr to redirect, or no log could be made: then ``/dev/null``, as
    before logs were kept).

    The terminal stays free of the workers' noise (a Ctrl-C traceback, a shutdown warning), and a worker that
    fails to start leaves its words in the log, which the one-line error names. The log is a temporary file,
    not a file in the output folder: the cluster is started before a folder is opened, serves several folders
    (``sensitivity --until-stable``), and a sweep folder holds only the files its checks know. The caller
    removes it once the cluster has started (the workers keep writing into the removed file, which the system
    frees when they end), so logs do not pile up. Python's ``sys.stderr`` is flushed first, so nothing of
    this process's own is lost.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (e.g. captured in-process): nothing to do
        yield None
        return
    path = None
    try:
        fd, path = tempfile.mkstemp(prefix=WORKERS_LOG_PREFIX, suffix=".log")
    except OSError:  # no temporary folder to write in: the workers' words go nowhere, as before
        fd = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(fd, 2)
        yield None if path is None else Path(path)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)
