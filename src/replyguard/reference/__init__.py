"""The reference server: the embedded default target and the oracle.

Written from the vendor documents alone. It imports only the standard library, starlette,
uvicorn and its own modules, never other replyguard modules and never ``openapi/``.
"""

from __future__ import annotations

from .app import create_app, reply_text
from .config import ServerConfig, default_db_path
from .server import serve

__all__ = ["ServerConfig", "create_app", "default_db_path", "reply_text", "serve"]
