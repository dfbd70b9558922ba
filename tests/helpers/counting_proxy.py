"""A loopback HTTP proxy that counts (and records) the requests it forwards to one upstream.

It sits in front of a reference server so a test can count, on the server's side of the
wire, every request a run sends, independently of replyguard's own accounting.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["CountingProxy", "counting_proxy"]

_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "proxy-connection",
    "te",
    "upgrade",
}


class CountingProxy:
    """Counts ``(method, path)`` of every forwarded request; thread-safe."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.counts: Counter[tuple[str, str]] = Counter()
        #: ``(path, body)`` of every forwarded request, in the order they came.
        self.bodies: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api``, the proxy's equivalent of the upstream base URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def reset(self) -> None:
        """Forget the counts so far."""
        with self.lock:
            self.counts.clear()
            self.bodies.clear()

    def total(self) -> int:
        """Requests forwarded since the last reset."""
        with self.lock:
            return sum(self.counts.values())

    def by_path(self) -> dict[str, int]:
        """Requests per path since the last reset."""
        with self.lock:
            result: Counter[str] = Counter()
            for (_, path), n in self.counts.items():
                result[path] += n
            return dict(result)


@contextmanager
def counting_proxy(upstream_base_url: str) -> Iterator[CountingProxy]:
    """Run a proxy to ``upstream_base_url``'s host until the block ends."""
    upstream = urlsplit(upstream_base_url)
    host, port = upstream.hostname or "127.0.0.1", upstream.port or 80

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with proxy.lock:
                proxy.counts[(self.command, self.path.split("?", 1)[0])] += 1
                proxy.bodies.append((self.path.split("?", 1)[0], body or b""))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn = http.client.HTTPConnection(host, port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy = CountingProxy(server)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
