"""A lock file for a sweep folder: one live sweep per folder; a lock left by a dead process is taken over.

``DIR/sweep.lock`` holds the holder's pid, host, start time and command (JSON). The holder also
keeps an exclusive ``flock`` on it, which the operating system releases when the process dies
however it dies (``kill -9`` included): a lock nobody holds is stale, whatever its file says. On a
file system without ``flock`` the file's own pid and host decide: a lock of this host whose pid is
gone is stale; one of another host is refused (its owner must remove it).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import sys
from pathlib import Path

from model.parameters import InputError

LOCK_NAME = "sweep.lock"


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


def read_holder(folder: Path) -> dict | None:
    """What a folder's lock file says about its holder (None: no lock file, or unreadable)."""
    try:
        return json.loads((Path(folder) / LOCK_NAME).read_text())
    except (OSError, ValueError):
        return None


def holder_alive(folder: Path) -> bool | None:
    """Whether the lock file's holder still holds it (None: no lock file). Read-only: creates nothing."""
    import fcntl

    try:
        fd = os.open(Path(folder) / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False  # nobody holds it: a lock left by a process that is gone
    except BlockingIOError:
        return True
    except OSError:
        holder = read_holder(folder) or {}
        return holder.get("host") == socket.gethostname() and _alive(int(holder.get("pid") or 0))
    finally:
        os.close(fd)


def describe(holder: dict | None) -> str:
    """'pid 123 on host h since 2026-...' for messages."""
    if not holder:
        return "an unknown process"
    return f"pid {holder.get('pid')} on host {holder.get('host')!r} since {holder.get('started')}"


class FolderLock:
    """The lock of one sweep folder; ``acquire`` then ``release`` (or use it as a context manager)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.fd: int | None = None
        self.stale: dict | None = None  # the holder whose stale lock was taken over, if any

    def acquire(self) -> FolderLock:
        """Take the lock, or raise LockedError naming the live holder.

        Raises:
            LockedError: a live sweep holds the folder.
            OSError: the lock file cannot be created (the caller reports it as an output error).
        """
        for _ in range(100):  # retried only when the file was replaced between open and lock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                previous = _read_fd(fd)
                if not self._lock(fd, previous):
                    raise LockedError(f"sweep folder '{self.path.parent}' is in use by {describe(previous)} "
                                      f"(lock file {LOCK_NAME}): wait for it to finish, or stop it")
                if os.fstat(fd).st_ino != _inode(self.path):
                    os.close(fd)
                    continue  # the previous holder removed the file as we opened it: lock the new one
                self.stale = previous if previous else None
                _write_fd(fd, {"pid": os.getpid(), "host": socket.gethostname(),
                               "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "command": sys.argv[:8]})
                self.fd = fd
                return self
            except BaseException:
                if self.fd != fd:
                    os.close(fd)
                raise
        raise LockedError(f"sweep folder '{self.path.parent}': its lock file keeps being replaced")

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
            return not _alive(int(previous.get("pid", 0)))
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


def _read_fd(fd: int) -> dict | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 65536).decode(errors="replace")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return {"pid": "?", "host": "?", "started": "? (unreadable lock file)"}


def _write_fd(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(holder).encode())
    os.fsync(fd)
