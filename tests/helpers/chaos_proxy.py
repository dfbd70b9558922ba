"""A loopback proxy that spoils some answers the way real networks do, in front of one server.

Every request is forwarded to the upstream (so the server acts on it: it bills, it creates);
then one request in ``every`` gets a fault instead of its answer, the kinds taken in turn:

- ``hang``: no answer at all (the connection stays open until the client gives up);
- ``reset``: the connection is reset (TCP RST) instead of answering;
- ``truncate``: the headers with the full ``Content-Length``, half the body, then close;
- ``502``: a gateway's HTML ``502 Bad Gateway`` page.

``latency`` delays every answer. Each connection carries one request (``Connection: close``),
so a fault never leaks into the next request. The proxy counts what it did, so a test can
compare the run's account of its transport faults with the faults really injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

__all__ = ["FAULTS", "ChaosProxy", "chaos_proxy"]

FAULTS = ("hang", "reset", "truncate", "502")
_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_DROP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length"}


class ChaosProxy:
    """The proxy's address and what it did; its counters are thread-safe."""

    def __init__(self, every: int, faults: Sequence[str], latency: float) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown or not faults or every < 1:
            raise ValueError(f"faults must be some of {FAULTS}, every ≥ 1")
        self.every = every
        self.faults = tuple(faults)
        self.latency = latency
        self.port = 0
        self.requests = 0
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api``."""
        return f"http://127.0.0.1:{self.port}/api"

    def next_fault(self) -> str | None:
        """Count a request; the fault it gets, or None."""
        with self.lock:
            self.requests += 1
            if self.requests % self.every:
                return None
            kind = self.faults[(self.requests // self.every - 1) % len(self.faults)]
            self.injected[kind] += 1
            return kind


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    body = await reader.readexactly(length) if length else b""
    return head + body


def _with_close(request: bytes) -> bytes:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [
        line
        for line in head.split(b"\r\n")
        if line.partition(b":")[0].strip().lower() not in (b"connection", b"keep-alive")
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _answer(raw: bytes) -> tuple[bytes, bytes]:
    """The upstream's answer as (head without hop-by-hop headers, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept = [lines[0]] + [
        line for line in lines[1:] if line.partition(b":")[0].strip().lower() not in _DROP
    ]
    return b"\r\n".join(kept), body


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER 0: close() sends a RST, as a crashed proxy or a firewall does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _forward(host: str, port: int, request: bytes) -> bytes:
    """The upstream's whole answer to ``request`` (one request per connection)."""
    up_reader, up_writer = await asyncio.open_connection(host, port)

    async def send() -> None:
        up_writer.write(_with_close(request))
        with contextlib.suppress(ConnectionError):
            await up_writer.drain()

    # Read while sending: a server may answer (a 413) and close before it read the whole
    # body, and an unread answer is lost when the connection is then reset.
    sending = asyncio.create_task(send())
    chunks = []
    with contextlib.suppress(ConnectionError):
        while chunk := await up_reader.read(65536):
            chunks.append(chunk)
    sending.cancel()
    up_writer.close()
    return b"".join(chunks)


async def _serve(
    proxy: ChaosProxy,
    host: str,
    port: int,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    try:
        request = await _read_request(reader)
        if request is None:
            return
        fault = proxy.next_fault()
        raw = await _forward(host, port, request)
        if proxy.latency:
            await asyncio.sleep(proxy.latency)
        head, body = _answer(raw)
        if fault == "hang":
            # Until the client gives up (its read timeout), or a minute at most.
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(reader.read(), timeout=60)
            return
        if fault == "reset":
            _reset(writer)
            return
        if fault == "502":
            head = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nServer: nginx"
            body = _GATEWAY_PAGE
        full = head + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        if fault == "truncate":
            writer.write(full + body[: len(body) // 2])
            await writer.drain()
            _reset(writer)
            return
        writer.write(full + body)
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextmanager
def chaos_proxy(
    upstream_base_url: str,
    *,
    every: int = 8,
    faults: Sequence[str] = FAULTS,
    latency: float = 0.0,
) -> Iterator[ChaosProxy]:
    """Run a chaos proxy to ``upstream_base_url``'s host until the block ends."""
    upstream = urlsplit(upstream_base_url)
    host, port = upstream.hostname or "127.0.0.1", upstream.port or 80
    proxy = ChaosProxy(every, faults, latency)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    server: list[asyncio.Server] = []

    async def start() -> None:
        started = await asyncio.start_server(
            lambda r, w: _serve(proxy, host, port, r, w), "127.0.0.1", 0
        )
        proxy.port = started.sockets[0].getsockname()[1]
        server.append(started)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the chaos proxy did not start")
    try:
        yield proxy
    finally:

        async def stop() -> None:
            server[0].close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
