"""``python -m replyguard.reference``: run the reference server."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from .config import DEFAULT_LIMIT, DEFAULT_WINDOW, ServerConfig, default_db_path
from .server import serve

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> ServerConfig:
    """Parse command-line flags into a :class:`ServerConfig`."""
    parser = argparse.ArgumentParser(
        prog="python -m replyguard.reference",
        description="Serve the replyguard reference implementation of the AI Assistant API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="requests per window")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="window in seconds")
    parser.add_argument("--db", type=Path, default=None, help=f"default: {default_db_path()}")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile-out", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        return ServerConfig(
            host=args.host,
            port=args.port,
            limit=args.limit,
            window=args.window,
            db_path=args.db if args.db is not None else default_db_path(),
            workers=args.workers,
            profile_out=args.profile_out,
        )
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point."""
    serve(parse_args(argv))


if __name__ == "__main__":
    main()
