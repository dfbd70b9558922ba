"""Starting and serving the reference server: one process, or a uvicorn supervisor with workers.

The parent binds the listening socket itself (so ``port=0`` works with several workers and the
real port is known), seeds the database, then hands the socket to uvicorn. A readiness thread
polls the socket over HTTP; once the app answers it writes the target profile (atomically) and
prints ``replyguard reference server listening on http://HOST:PORT/api``.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from .app import create_app
from .config import CONFIG_ENV, ServerConfig
from .profile import render_profile, write_profile
from .store import Store, open_database

__all__ = ["app_from_env", "base_url_for", "bind_socket", "serve"]

READY_TIMEOUT = 30.0


def app_from_env() -> Starlette:
    """uvicorn factory for workers: the config arrives in ``REPLYGUARD_REFERENCE_CONFIG``."""
    return create_app(ServerConfig.from_json(os.environ[CONFIG_ENV]))


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` (``port=0`` picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # is IPPROTO_TCP; with proto 0 every response (headers and body are two writes) waits for
    # the client's delayed ACK, about 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url_for(host: str, port: int) -> str:
    """The base URL clients should use (a wildcard bind is reached over loopback)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/api"


def _answers(host: str, port: int) -> bool:
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    conn = http.client.HTTPConnection(connect_host, port, timeout=1.0)
    try:
        conn.request("GET", "/api/__ready")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def _announce_when_ready(
    config: ServerConfig, port: int, profile: str, stop: threading.Event
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not stop.is_set() and time.monotonic() < deadline:
        if _answers(config.host, port):
            if config.profile_out is not None:
                write_profile(config.profile_out, profile)
            url = base_url_for(config.host, port)
            print(f"replyguard reference server listening on {url}", flush=True)
            return
        time.sleep(0.02)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(config: ServerConfig) -> None:
    """Seed the database, bind, start ``config.workers`` workers and serve until SIGTERM/SIGINT."""
    open_database(config.db_path).close()
    store = Store(config.db_path)
    tokens = store.tokens_by_account()
    store.close()

    sock = bind_socket(config.host, config.port)
    port = sock.getsockname()[1]
    profile = render_profile(base_url_for(config.host, port), tokens, config)
    stop = threading.Event()
    announcer = threading.Thread(
        target=_announce_when_ready, args=(config, port, profile, stop), daemon=True
    )
    # uvicorn re-raises a captured SIGTERM after its graceful shutdown; end with status 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # loop / http "auto": uvloop and httptools (declared dependencies) when importable.
    common = {"log_level": "warning", "access_log": config.access_log, "lifespan": "on"}
    try:
        if config.workers == 1:
            server = uvicorn.Server(uvicorn.Config(create_app(config), **common))  # type: ignore[arg-type]
            announcer.start()
            server.run(sockets=[sock])
        else:
            os.environ[CONFIG_ENV] = config.to_json()
            uv_config = uvicorn.Config(
                "replyguard.reference.server:app_from_env",
                factory=True,
                workers=config.workers,
                **common,  # type: ignore[arg-type]
            )
            supervisor = Multiprocess(uv_config, sockets=[sock])
            announcer.start()
            supervisor.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        sock.close()
    sys.stdout.flush()
