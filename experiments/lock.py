"""A lock file for a sweep folder: one live sweep per folder; a lock left by a dead process is taken over.

``DIR/sweep.lock`` holds the holder's pid, host, start time and command (JSON). The holder also
keeps an exclusive ``flock`` on it, which the operating system releases when the process dies
however it dies (``kill -9`` included): a lock nobody holds is stale, whatever its file says. On a
file system without ``flock`` the file's own pid and host decide: a lock of this host whose pid is
gone is stale; one of another host is refused (its owner must remove it).

The same lock guards the ``--out`` folder of every command that computes a new result folder into it
(``RUN_LOCK``: ``run``, ``explain``, ``validate``, ``calibrate``, ``cases``, ``sensitivity --until-stable``;
``experiments/cli.py`` ``out_lock``), so a second such command into a busy ``--out`` is refused before it
computes anything, naming the holder's pid and command. ``sweep``, ``sensitivity`` and ``discover`` (and
``discover --analyse``) hold a sweep folder's own ``sweep.lock`` from before their runs until what they draw
from them (``points.csv``, the analysis files) is written (``experiments/cli.py`` ``sweep_lock``), so two of
them on one folder never race. A lock file is opened with ``O_NOFOLLOW`` (and
created with ``O_EXCL``): a symbolic link in its place is refused, never written through
(``experiments/stored.py``).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

from experiments import stored
from model.parameters import InputError, show_path

LOCK_NAME = "sweep.lock"
WAIT_POLL_SECONDS = 0.1  # how often a waiting acquire looks again (a lock held for milliseconds is seen soon)
RUN_LOCK = ".ontschot-run.lock"  # held in --out by every command that computes a result folder into it


class LockedError(InputError):
    """Another live sweep holds the folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(folder: Path, name: str = LOCK_NAME) -> dict | None:
    """What a folder's lock file says about its holder (None: no lock file, or an empty one).

    Raises:
        StoredError: the lock file is a link, a pipe or a device, too large, or holds fields of the wrong type.
    """
    path = Path(folder) / name
    return stored.parse_holder(stored.read_state(path), path)


def holder_alive(folder: Path, name: str = LOCK_NAME) -> bool | None:
    """Whether the lock file's holder still holds it (None: no lock file). Read-only: creates nothing, never blocks."""
    import fcntl

    try:
        fd = os.open(Path(folder) / name, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False  # nobody holds it: a lock left by a process that is gone
    except BlockingIOError:
        return True
    except OSError:
        holder = read_holder(folder, name) or {}
        return holder.get("host") == socket.gethostname() and _alive(int(holder.get("pid") or 0))
    finally:
        os.close(fd)


def describe(holder: dict | None, command: bool = False) -> str:
    """'pid 123 on host h since 2026-...' for messages (with ``command``: and ", running `ontschot run`")."""
    if not holder:
        return "an unknown process"
    text = f"pid {holder.get('pid')} on host {holder.get('host')!r} since {holder.get('started')}"
    name = subcommand(holder) if command else None
    return f"{text}, running `ontschot {name}`" if name else text


SUBCOMMAND_CHARS = 20  # longer than any ontschot subcommand: a record's second word longer than this is not shown


def subcommand(holder: dict | None) -> str | None:
    """The ontschot subcommand a lock's holder runs (its record's second word), if the record names one plainly."""
    command = (holder or {}).get("command")
    if not isinstance(command, list) or len(command) < 2 or not isinstance(command[1], str):
        return None
    name = command[1]
    return name if name.isascii() and name.isalpha() and name.islower() and len(name) <= SUBCOMMAND_CHARS else None


class FolderLock:
    """The lock of one sweep (or run) folder; ``acquire`` then ``release`` (or use it as a context manager)."""

    def __init__(self, folder: Path, name: str = LOCK_NAME, what: str = "sweep folder",
                 advice: str = "wait for it to finish, or stop it", command: list[str] | None = None):
        self.path = Path(folder) / name
        self.what = what
        self.advice = advice
        self.command = command  # recorded as the holder's command (default: this process's own arguments)
        self.fd: int | None = None
        self.stale: dict | None = None  # the holder whose stale lock was taken over, if any

    def acquire(self, wait: float = 0.0) -> FolderLock:
        """Take the lock, waiting up to ``wait`` seconds for a live holder; else raise LockedError naming it.

        Raises:
            LockedError: a live holder still holds the folder after ``wait`` seconds.
            StoredError: a symbolic link, a pipe or a device where the lock file should be.
            OSError: the lock file cannot be created (the caller reports it as an output error).
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                return self._acquire_once()
            except LockedError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(WAIT_POLL_SECONDS)

    def _acquire_once(self) -> FolderLock:
        for _ in range(100):  # retried only when the file was replaced between open and lock
            fd = stored.open_state(self.path, create=True)  # O_NOFOLLOW, O_EXCL when new: never through a link
            try:
                previous = _read_fd(fd)
                if not self._lock(fd, previous):
                    holder = describe(previous, command=self.command is not None)
                    raise LockedError(f"{self.what} {show_path(self.path.parent)} is in use by {holder} "
                                      f"(lock file {self.path.name}): {self.advice}")
                if os.fstat(fd).st_ino != _inode(self.path):
                    os.close(fd)
                    continue  # the previous holder removed the file as we opened it: lock the new one
                self.stale = previous if previous else None
                _write_fd(fd, {"pid": os.getpid(), "host": socket.gethostname(),
                               "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "command": sys.argv[:8] if self.command is None else self.command})
                self.fd = fd
                return self
            except BaseException:
                if self.fd != fd:
                    os.close(fd)
                raise
        raise LockedError(f"{self.what} {show_path(self.path.parent)}: its lock file keeps being replaced")

    def _lock(self, fd: int, previous: dict | None) -> bool:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
        # No flock on this file system: the file's pid and host decide.
        if not previous:
            return True
        if previous.get("host") == socket.gethostname():
            pid = previous.get("pid")
            return not (isinstance(pid, int) and not isinstance(pid, bool) and _alive(pid))
        return False

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and let go of the lock."""
        if self.fd is None:
            return
        try:
            if _inode(self.path) == os.fstat(self.fd).st_ino:
                self.path.unlink()
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


UNREADABLE = {"pid": "?", "host": "?", "started": "? (unreadable lock file)"}


def _read_fd(fd: int) -> dict | None:
    """The holder a lock file records, for the messages of one who takes it; whatever the file holds, no error."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, stored.LIMITS["lock"]).decode(errors="replace")
        return stored.check_holder(json.loads(text), "lock") if text.strip() else None
    except (OSError, ValueError, RecursionError, InputError):
        return dict(UNREADABLE)


def _write_fd(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(holder).encode())
    os.fsync(fd)
