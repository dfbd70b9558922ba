"""Servers on 127.0.0.1 that are not the API: the suite must not pass a rule against them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["IMPOSTORS", "impostor"]

#: name -> (status, content type, body) answered to every request.
IMPOSTORS = {
    "all-501": (501, "text/plain", b"Not Implemented"),
    "all-200-html": (200, "text/html", b"<html><body><h1>Welcome</h1></body></html>"),
    "all-404": (404, "text/html", b"<html><body>Not Found</body></html>"),
}


@contextmanager
def impostor(name: str) -> Iterator[str]:
    """Serve one impostor until the block ends; yields its base URL."""
    status, content_type, body = IMPOSTORS[name]

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
