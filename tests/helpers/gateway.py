"""nginx ``limit_req`` in front of a reference server on loopback: a real limiter we did not write.

Gateways enforce "5 requests per minute per API token" with a leaky bucket: nginx's
``limit_req`` keyed per token (``$http_authorization``), ``rate`` = limit per window and
``burst = limit - 1 nodelay``, so a fresh token is served ``limit`` calls at once and then one
more every ``window / limit`` seconds. Two configurations:

- ``stock``: over the limit nginx answers its default 503 with an HTML page;
- ``tuned``: ``limit_req_status 429`` and an ``error_page`` that returns the documented JSON body
  with a constant ``retry_after`` (the window) and the same ``Retry-After`` header.

The reference behind it runs with a limit no test reaches (the gateway is the only limiter) and
its own rate-limit headers are hidden, as a gateway that owns the limit would. nginx runs as a
foreground process with every path (pid, temp folders, logs) inside the test's folder, on a
free 127.0.0.1 port. Tests that need it skip when nginx is not installed; ``.ci/run`` installs
Debian's ``nginx-light``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # at run time the fixtures come in as plugins, never imported before them
    from tests.helpers.servers import Reference

__all__ = [
    "GATEWAY_MODES",
    "UPSTREAM_LIMIT",
    "Gateway",
    "GatewayFailedToStart",
    "make_gateway",
    "nginx_binary",
    "nginx_config",
    "requires_nginx",
    "start_gateway",
]

#: The reference's own limit behind the gateway: never reached, so nginx alone limits.
UPSTREAM_LIMIT = 1_000_000
#: ``stock``: 503 with nginx's HTML page; ``tuned``: the documented 429 and JSON body.
GATEWAY_MODES = ("stock", "tuned")
#: The generate-reply routes (both brands); only they are limited, like the documents say.
_LIMITED = r"/generate-reply$"
#: Rate-limit headers of the application behind: hidden, the gateway owns the limit.
_UPSTREAM_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
_START_ATTEMPTS = 3


def nginx_binary() -> str | None:
    """The nginx executable (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


requires_nginx = pytest.mark.skipif(
    nginx_binary() is None,
    reason="nginx is not installed (Debian: apt-get install nginx-light; .ci/run installs it)",
)


class GatewayFailedToStart(RuntimeError):
    """nginx did not come up; the message carries its last output."""


def nginx_rate(limit: int, window: int) -> str:
    """``limit`` per ``window`` seconds as nginx writes a rate: whole requests per s or m.

    nginx knows no other unit, so the window must make one of them whole: 5 per 60 s is
    ``5r/m``, 5 per 2 s is ``150r/m`` (one slot every 0.4 s).
    """
    if (limit * 60) % window == 0:
        return f"{limit * 60 // window}r/m"
    if limit % window == 0:
        return f"{limit // window}r/s"
    raise ValueError(f"nginx cannot express {limit} per {window} s as whole r/m or r/s")


def nginx_config(
    folder: Path, *, port: int, upstream: str, limit: int, window: int, mode: str
) -> str:
    """The nginx.conf of a gateway on ``port`` proxying to ``upstream`` (host:port)."""
    if mode not in GATEWAY_MODES:
        raise ValueError(f"unknown gateway mode {mode!r}")
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    hidden = "\n".join(f"        proxy_hide_header {name};" for name in _UPSTREAM_HEADERS)
    # The request is read whole before it goes upstream: streamed, an answer the application
    # sends before reading the body (a 401, a 422) leaves nginx still reading it, and nginx then
    # closes the client's keep-alive connection after an answer that said keep-alive, so the
    # client's next request on it is dropped unanswered. Bodies stay in memory (the buffer
    # holds the suite's largest) and no size limit of nginx's own stands in front of the
    # application's; answers are streamed.
    proxy = f"""        proxy_pass http://{upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;"""
    tuned = (
        """        limit_req_status 429;
        error_page 429 = @too_many_attempts;"""
        if mode == "tuned"
        else ""
    )
    # What a gateway can say: a constant retry_after (it does not know the wait).
    too_many = (
        f"""    location @too_many_attempts {{
        default_type application/json;
        add_header Retry-After {window} always;
        return 429 '{{"message":"Too Many Attempts.","retry_after":{window}}}';
    }}"""
        if mode == "tuned"
        else ""
    )
    return f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log stderr notice;
events {{
    worker_connections 256;
}}
http {{
    access_log {folder / "access.log"};
{temp}
    client_max_body_size 0;
    client_body_buffer_size 16m;
    limit_req_zone $http_authorization zone=per_token:1m rate={nginx_rate(limit, window)};
    server {{
        listen 127.0.0.1:{port};
        location ~ {_LIMITED} {{
        limit_req zone=per_token burst={limit - 1} nodelay;
{tuned}
{proxy}
{hidden}
        }}
        location / {{
{proxy}
{hidden}
        }}
{too_many}
    }}
}}
"""


@dataclass(slots=True)
class Gateway:
    """A running nginx in front of a reference server."""

    process: subprocess.Popen[bytes]
    mode: str
    base_url: str
    #: The target profile for the gateway: the reference's fixtures, the gateway's URL and the
    #: documented limit (tokens included: never print it).
    profile_path: Path
    folder: Path
    upstream: Reference

    def headers(self, name: str = "primary") -> dict[str, str]:
        """Authorization headers for a profile token (the gateway keys its buckets on them)."""
        return self.upstream.headers(name)

    def stop(self, timeout: float = 10.0) -> int:
        """Stop nginx (master and worker: its process group) and return its exit status."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        return int(self.process.wait())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _gateway_profile(upstream: Reference, base_url: str, limit: int, window: int) -> str:
    text = upstream.profile_path.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{base_url}"', text)
    text = re.sub(r"(?m)^limit = \d+$", f"limit = {limit}", text)
    return re.sub(r"(?m)^window_seconds = [\d.]+$", f"window_seconds = {window}", text)


def start_gateway(
    folder: Path, upstream: Reference, *, limit: int, window: int, mode: str, timeout: float = 10.0
) -> Gateway:
    """Start nginx in ``folder`` in front of ``upstream``; wait until it accepts connections.

    ``upstream`` should run with :data:`UPSTREAM_LIMIT`. A free port can be taken by another
    process between the probe and nginx's bind: then a new port is tried.
    """
    binary = nginx_binary()
    if binary is None:
        raise GatewayFailedToStart("nginx is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    up = upstream.base_url.split("://", 1)[1].split("/", 1)[0]
    last = "no output"
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        conf = folder / "nginx.conf"
        conf.write_text(
            nginx_config(folder, port=port, upstream=up, limit=limit, window=window, mode=mode),
            encoding="utf-8",
        )
        stderr = folder / "nginx.stderr"
        with stderr.open("wb") as err:
            process = subprocess.Popen(
                [binary, "-p", str(folder), "-c", str(conf), "-e", "stderr"],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                start_new_session=True,
            )
        base_url = f"http://127.0.0.1:{port}/api"
        profile = folder / "target.toml"
        profile.write_text(_gateway_profile(upstream, base_url, limit, window), encoding="utf-8")
        gateway = Gateway(process, mode, base_url, profile, folder, upstream)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            if _accepts(port):
                return gateway
            time.sleep(0.02)
        gateway.stop()
        tail = stderr.read_text(errors="replace").strip().splitlines()[-3:]
        last = " | ".join(tail) or "no output"
        if "Address already in use" not in last:
            break
    raise GatewayFailedToStart(f"nginx did not start: {last}")


@contextmanager
def running_gateway(folder: Path, upstream: Reference, **kwargs: Any) -> Iterator[Gateway]:
    """Context manager around :func:`start_gateway` that always stops nginx."""
    gateway = start_gateway(folder, upstream, **kwargs)
    try:
        yield gateway
    finally:
        gateway.stop()


# --- pytest fixture: load with ``pytest_plugins = ["tests.helpers.servers",
# "tests.helpers.gateway"]``; a test module imports names of this module only inside functions
# or under TYPE_CHECKING (a plugin imported before pytest loads it is not assert-rewritten).


@pytest.fixture
def make_gateway(
    tmp_path: Path, make_reference: Callable[..., Reference]
) -> Iterator[Callable[..., Gateway]]:
    """Factory: a fresh reference (unlimited behind the gateway) and nginx in front, stopped at
    teardown. Call with ``mode=``, ``limit=`` and ``window=``; other keywords go to the
    reference."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light; .ci/run does)")
    started: list[Gateway] = []

    def make(*, mode: str, limit: int, window: int, **reference: Any) -> Gateway:
        upstream = make_reference(limit=UPSTREAM_LIMIT, window=window, **reference)
        gateway = start_gateway(
            tmp_path / f"gateway{len(started)}", upstream, limit=limit, window=window, mode=mode
        )
        started.append(gateway)
        return gateway

    yield make
    for gateway in started:
        gateway.stop()
