"""The sessions' models in worker processes, so that a model year does not hold the page server's GIL.

The page server is one Python process: every session's thread steps its models and renders its views
under one interpreter lock, so twenty sessions stepping at once share one core, whatever the machine
has. A model year of the default municipality is about two thirds of a step's CPU time (three models,
``Workshop.step``), so here the models live in worker processes (one per core), each holding the
``Workshop`` of the sessions given to it. The server keeps a ``RemoteWorkshop`` per session: the same
views (``TrackCopy``, with ``session.Track``'s fields), filled with what the worker's ``Workshop``
recorded after each year. A session's thread waits for its worker without holding the GIL, so the
server renders other sessions' views meanwhile, and the workers step on the other cores.

The models, their random numbers and their results are those of ``session.Workshop``; only where they
run differs (``tests/test_page_session.py`` compares the two). ``ONTSCHOT_PAGE_WORKERS`` sets the
number of worker processes (default: the machine's cores; 0 keeps the models in the server, as before).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from itertools import count
from multiprocessing.connection import Connection
from typing import Any

from analysis.page.session import DEFAULT_SEED, PAIR, Track, Workshop, check_seed, default_settings
from model.parameters import PARAMETERS

# Track fields that grow by one entry a year; the worker sends each entry once.
GROWING = ("status_counts", "step_counts", "ladder_moves", "status_moves", "spend", "own_result", "firms",
           "regime_in_force")


def worker_count() -> int:
    """Worker processes for the page: ``ONTSCHOT_PAGE_WORKERS``, or the machine's cores (0 or 1 core: none)."""
    setting = os.environ.get("ONTSCHOT_PAGE_WORKERS")
    if setting is not None:
        return max(int(setting), 0)
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def new_workshop(settings: Mapping[str, Any] | None = None, seed: int = DEFAULT_SEED) -> Workshop:
    """A session's workshop: its models in a worker process when the page has workers, else in this process."""
    pool = Pool.shared()
    return RemoteWorkshop(pool, settings, seed) if pool is not None else Workshop(settings, seed)


class TrackCopy:
    """What the views read of one model, as ``session.Track`` has it, copied from the worker year by year."""

    def __init__(self):
        for name in GROWING:
            setattr(self, name, [])
        self.year = 0
        self.regime = ""
        self.pooled_share = 0.0
        self.indicators: dict[str, list[float]] = {}
        self.persona_paths: list[dict] = []

    def update(self, news: dict) -> None:
        """Append what the worker recorded since the last update (``_Served.news``)."""
        for name in GROWING:
            getattr(self, name).extend(news[name])
        for name, values in news["indicators"].items():
            self.indicators.setdefault(name, []).extend(values)
        self.persona_paths.extend(news["persona_paths"])
        self.year, self.regime, self.pooled_share = news["year"], news["regime"], news["pooled_share"]

    def indicator(self, name: str) -> list[float]:
        """One yearly indicator over the years simulated (as ``Track.indicator``)."""
        return list(self.indicators.get(name, []))

    def persona(self, name: str) -> list[dict]:
        """The persona's yearly records, oldest first (as ``Track.persona``)."""
        return [r for r in self.persona_paths if r["persona"] == name]


class RemoteWorkshop(Workshop):
    """A session's ``Workshop`` whose models live in a worker process; the views read copies (``TrackCopy``).

    Settings and seed are checked here, so a bad value is the same one-line ``InputError`` at once.
    """

    def __init__(self, pool: Pool, settings: Mapping[str, Any] | None = None, seed: int = DEFAULT_SEED):
        self.seed = check_seed(seed)
        self.settings = {**default_settings(), **dict(settings or {})}
        self.values = PARAMETERS.resolve(self.settings, origin="the page's controls")
        self.lock = threading.Lock()
        self.switches: list[tuple[int, str, float | None]] = []
        self.main, self.pair = TrackCopy(), {r: TrackCopy() for r in PAIR}
        self._pool, self._worker = pool, pool.assign()
        self._id = next(pool.ids)
        first = self._call("build", self.settings, self.seed)
        self._horizon, self._arms = first["horizon"], first["arms"]
        self._update(first["news"])

    def _call(self, op: str, *args):
        return self._pool.call(self._worker, op, self._id, *args)

    def _update(self, news: dict) -> None:
        for name, track in self.tracks().items():
            track.update(news[name])

    @property
    def horizon(self) -> int:
        return self._horizon

    def pair_arms(self) -> dict[str, dict[str, Any]]:
        return self._arms

    def step(self) -> int:
        """One more year in all three models, in the worker; returns the year reached."""
        with self.lock:
            if not self.running:
                return self.year
            self._update(self._call("step"))
            return self.year

    def switch_regime(self, regime: str, pooled_share: float | None = None) -> int:
        regime = PARAMETERS.get("scenario.regime").coerce(regime, "switch regime now")
        if pooled_share is not None:
            pooled_share = PARAMETERS.get("scenario.pooled_share").coerce(pooled_share, "switch regime now")
        with self.lock:
            self._update(self._call("switch", regime, pooled_share))
            self.switches.append((self.year + 1, regime, pooled_share))
            return self.year + 1

    def release(self) -> None:
        """Drop the models in the worker (a reset or a closed browser tab); once."""
        with self.lock:
            if self._worker is None:
                return
            worker, self._worker = self._worker, None
        self._pool.call(worker, "release", self._id)
        self._pool.unassign(worker)


class _Served:
    """A worker's ``Workshop`` of one session, and how much of each track it has sent to the server."""

    def __init__(self, workshop: Workshop):
        self.workshop = workshop
        self.sent: dict[tuple[str, str], int] = {}

    def news(self) -> dict[str, dict]:
        """Per track, the entries recorded since the last call, and its year and regime now."""
        return {name: self._track_news(name, track) for name, track in self.workshop.tracks().items()}

    def _track_news(self, name: str, track: Track) -> dict:
        out: dict[str, Any] = {}
        for field in GROWING:
            out[field] = self._since(name, field, getattr(track, field))
        columns = track.model.datacollector.model_vars
        out["indicators"] = {k: [float(v) for v in self._since(name, f"indicator {k}", values)]
                             for k, values in columns.items()}
        out["persona_paths"] = self._since(name, "persona_paths", track.model.persona_paths)
        out.update(year=track.year, regime=track.regime, pooled_share=track.pooled_share)
        return out

    def _since(self, track: str, field: str, values: list) -> list:
        done = self.sent.get((track, field), 0)
        self.sent[(track, field)] = len(values)
        return values[done:]


def _serve(conn) -> None:
    """A worker process: build, step, switch and release sessions' workshops on request, one at a time."""
    served: dict[int, _Served] = {}
    while True:
        try:
            op, session, *args = conn.recv()
        except (EOFError, OSError):  # the server has gone
            return
        try:
            if op == "build":
                s = served[session] = _Served(Workshop(*args))
                result = {"horizon": s.workshop.horizon, "arms": s.workshop.pair_arms(), "news": s.news()}
            elif op == "step":
                served[session].workshop.step()
                result = served[session].news()
            elif op == "switch":
                served[session].workshop.switch_regime(*args)
                result = served[session].news()
            elif op == "release":
                s = served.pop(session, None)
                if s is not None:
                    s.workshop.release()
                result = None
            else:
                raise ValueError(f"unknown request {op!r}")
        except Exception as exc:  # handed to the session's thread, which raises it
            result = exc
        conn.send(result)


class Pool:
    """The page's worker processes (started when the first session opens), each serving its sessions in turn.

    A worker is ``python -m analysis.page.workers`` with one end of a socket pair: a fresh interpreter
    (not a fork of the server, which runs threads), independent of how the server was started
    (``multiprocessing``'s spawn would import the server's main module again). A worker ends when the
    server's end of its socket closes, the server's exit included.
    """

    _shared: Pool | None = None
    _shared_lock = threading.Lock()

    def __init__(self, workers: int):
        self.ids = count()
        self._conns, self._locks, self._load, self.processes = [], [], [], []
        for _ in range(workers):
            ours, theirs = socket.socketpair()
            self.processes.append(subprocess.Popen([sys.executable, "-m", "analysis.page.workers", str(theirs.fileno())],
                                                   pass_fds=[theirs.fileno()]))
            theirs.close()
            self._conns.append(Connection(ours.detach()))
            self._locks.append(threading.Lock())
            self._load.append(0)
        self._assign_lock = threading.Lock()

    @classmethod
    def shared(cls) -> Pool | None:
        """The process's pool (None when the page runs without workers)."""
        with cls._shared_lock:
            if cls._shared is None and worker_count() > 0:
                cls._shared = cls(worker_count())
            return cls._shared

    def assign(self) -> int:
        """The worker with the fewest sessions."""
        with self._assign_lock:
            k = min(range(len(self._load)), key=self._load.__getitem__)
            self._load[k] += 1
            return k

    def unassign(self, worker: int) -> None:
        with self._assign_lock:
            self._load[worker] -= 1

    def call(self, worker: int, op: str, *args):
        """Send one request to a worker and wait for its answer (other sessions of that worker wait their turn)."""
        with self._locks[worker]:
            self._conns[worker].send((op, *args))
            result = self._conns[worker].recv()
        if isinstance(result, Exception):
            raise result
        return result


if __name__ == "__main__":  # a worker process: its socket's file descriptor is the argument (``Pool``)
    _serve(Connection(int(sys.argv[1])))
