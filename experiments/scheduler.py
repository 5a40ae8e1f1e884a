"""A ``--scheduler`` address checked before anything is written: its form, that it answers, that it is Dask.

The form is ``tcp://HOST:PORT`` or ``HOST:PORT`` (no TLS: this command takes no certificates). Then,
within ``CONNECT_TIMEOUT`` seconds in all (the name looked up, the connection made, the greeting read):
a Dask server greets every new connection with its handshake (a small msgpack message in Dask's
frames), so the first bytes tell a Dask scheduler from a server that says nothing or something
else. Dask's own reader trusts the length a peer announces (garbage asks it for exabytes); this one
reads at most ``GREETING_BYTES``. Last, the server is asked who it is: a Dask worker or nanny
address is not a scheduler.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

from model.parameters import InputError, show_path

CONNECT_TIMEOUT = 5.0  # seconds to reach a --scheduler and hear its greeting before giving up
GREETING_BYTES = 1 << 16  # a Dask handshake is a few hundred bytes; more is not a Dask greeting
FORM = "expected tcp://HOST:PORT or HOST:PORT of a Dask scheduler (e.g. tcp://127.0.0.1:8786)"
HANDSHAKE_KEYS = ("compression", "python", "pickle-protocol")  # what every Dask handshake holds


class NotDask(Exception):
    """The other end answered, but not as a Dask server does."""


def scheduler_address(address: str) -> tuple[str, str, int]:
    """``tcp://HOST:PORT``, the host and the port of a ``--scheduler`` value; its form only, no network.

    Raises:
        InputError: empty, blank, another scheme (tls://, http://), no host or port, a path, or a port out of range.
    """
    if not isinstance(address, str) or not address.strip():
        raise InputError(f"--scheduler {show_path(address)} is not allowed: the address is empty; {FORM}")
    if address != address.strip() or any(ord(c) < 32 or c == "\x7f" for c in address):
        raise InputError(f"--scheduler {show_path(address)} is not allowed: it holds spaces or control characters; "
                         f"{FORM}")
    text = address if "://" in address else f"tcp://{address}"
    try:
        parts = urlsplit(text)
        scheme, host, port, rest = parts.scheme, parts.hostname, parts.port, parts.path
        extra = parts.query or parts.fragment or parts.username or parts.password
    except ValueError:
        scheme = host = port = rest = extra = None
    if scheme == "tls":
        raise InputError(f"--scheduler {show_path(address)} is not allowed: TLS needs certificates this command "
                         f"cannot take; {FORM}")
    if scheme != "tcp" or not host or not port or rest not in ("", "/") or extra:
        raise InputError(f"--scheduler {show_path(address)} is not allowed: {FORM}")
    return f"tcp://{parts.netloc}", host, port


def _resolve(host: str, port: int, seconds: float) -> list[tuple]:
    """Look the host up (getaddrinfo) within ``seconds`` (a name server that does not answer cannot hold the command)."""
    box: dict = {}

    def look_up() -> None:
        try:
            box["found"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc

    worker = threading.Thread(target=look_up, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["found"]


def _read(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise NotDask("it closed the connection without a greeting")
        data += chunk
    return bytes(data)


def _greeting(host: str, port: int, deadline: float) -> dict:
    """Connect and read the server's first message, at most ``GREETING_BYTES``; a Dask handshake or NotDask."""
    found = _resolve(host, port, max(0.0, deadline - time.monotonic()))
    error: OSError | None = None
    for family, kind, proto, _, where in found:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(left)
            sock.connect(where)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        with sock:
            return _handshake(sock, deadline)
    raise error or OSError("no address")


def _handshake(sock: socket.socket, deadline: float) -> dict:
    (size,) = struct.unpack("Q", _read(sock, 8, deadline))
    if not 16 <= size <= GREETING_BYTES:
        raise NotDask(f"its first message announces {size:,} bytes")
    blob = _read(sock, size, deadline)
    (n_frames,) = struct.unpack_from("Q", blob)
    if not 1 <= n_frames <= 64 or 8 * (1 + n_frames) > len(blob):
        raise NotDask("its first message is not in Dask's frames")
    lengths = struct.unpack_from(f"{n_frames}Q", blob, 8)
    if sum(lengths) > GREETING_BYTES:
        raise NotDask("its first message is not in Dask's frames")
    from distributed.protocol import loads
    from distributed.protocol.utils import unpack_frames

    try:
        frames, missing = unpack_frames(blob, partial=True)
        for n in missing:
            frames.append(_read(sock, n, deadline))
        message = loads(frames, deserialize=False)
    except (TimeoutError, NotDask):
        raise
    except Exception:  # anything Dask's decoder refuses: not a Dask greeting
        raise NotDask("its first message is not a Dask handshake") from None
    if not isinstance(message, dict) or not all(k in message for k in HANDSHAKE_KEYS):
        raise NotDask("its first message is not a Dask handshake")
    return message


def _identity(address: str, seconds: float) -> dict:
    """The server's own answer to 'identity' (type Scheduler, Worker or Nanny), within ``seconds``."""
    from distributed.core import rpc

    async def ask() -> dict:
        async with rpc(address, timeout=seconds) as server:
            return await server.identity()

    return asyncio.run(asyncio.wait_for(ask(), seconds))


def check_scheduler(address: str, timeout: float = CONNECT_TIMEOUT) -> str:
    """``tcp://HOST:PORT`` of a Dask scheduler that answers, checked within ``timeout`` seconds in all.

    Raises:
        InputError: the form (``scheduler_address``), a name that does not resolve, nothing listening,
            no greeting in time, a server that is not Dask, or a Dask worker rather than a scheduler.
    """
    text, host, port = scheduler_address(address)
    shown = f"--scheduler {show_path(address)}"
    deadline = time.monotonic() + timeout
    try:
        _greeting(host, port, deadline)
    except (TimeoutError, asyncio.TimeoutError):
        raise InputError(f"{shown} cannot be reached: no Dask greeting within {timeout:g} s (is the Dask scheduler "
                         "running there?); nothing was written") from None
    except socket.gaierror as exc:
        raise InputError(f"{shown} cannot be reached: the host {show_path(host)} is not known ({exc.strerror}); "
                         "nothing was written") from None
    except NotDask as exc:
        raise InputError(f"{shown} answers but is not a Dask scheduler: {exc}; nothing was written") from None
    except OSError as exc:
        raise InputError(f"{shown} cannot be reached: {exc.strerror or ' '.join(str(exc).split())} (is the Dask "
                         "scheduler running there?); nothing was written") from None
    try:
        kind = _identity(text, max(0.5, deadline - time.monotonic())).get("type")
    except (TimeoutError, asyncio.TimeoutError):
        raise InputError(f"{shown} greets like Dask but did not answer who it is within {timeout:g} s; nothing was "
                         "written") from None
    except Exception as exc:  # a server that spoke Dask's greeting but not its identity call
        raise InputError(f"{shown} answers but is not a Dask scheduler: it did not answer Dask's identity call "
                         f"({type(exc).__name__}); nothing was written") from None
    if kind != "Scheduler":
        raise InputError(f"{shown} is a Dask {str(kind).lower()}, not a scheduler: give the scheduler's address; "
                         "nothing was written")
    return text
