"""``python -m replyguard.reference``: run the reference server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import DEFAULT_LIMIT, DEFAULT_WINDOW, ServerConfig, default_db_path
from .registry import UnknownBehaviour, behaviour_for, fault_lines, variant_lines
from .server import serve

USAGE_ERROR = 2

__all__ = ["main", "parse_args"]


def _env(name: str, default: object) -> object:
    # Every flag is also REPLYGUARD_<FLAG>; argparse converts string defaults with `type`.
    return os.environ.get(f"REPLYGUARD_{name}", default)


def parse_args(argv: Sequence[str] | None = None) -> ServerConfig:
    """Parse command-line flags into a :class:`ServerConfig`."""
    parser = argparse.ArgumentParser(
        prog="python -m replyguard.reference",
        description="Serve the replyguard reference implementation of the AI Assistant API.",
    )
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=_env("PORT", 8000),
                        help="0 picks a free port")
    parser.add_argument("--limit", type=int, default=_env("LIMIT", DEFAULT_LIMIT),
                        help="requests per window")
    parser.add_argument("--window", type=int, default=_env("WINDOW", DEFAULT_WINDOW),
                        help="window in seconds")
    parser.add_argument("--db", type=Path, default=_env("DB", None),
                        help=f"default: {default_db_path()}")
    parser.add_argument("--workers", type=int, default=_env("WORKERS", 1))
    parser.add_argument("--profile-out", type=Path, default=_env("PROFILE_OUT", None))
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--fault", metavar="NAME", default=None,
                        help="inject a deliberate bug (see --list-faults)")
    chosen.add_argument("--variant", metavar="NAME", default=None,
                        help="serve a correct variant (see --list-variants)")
    parser.epilog = ("Each flag is also an environment variable: REPLYGUARD_HOST, _PORT, _LIMIT, "
                     "_WINDOW, _DB, _WORKERS, _PROFILE_OUT (flags win).")
    parser.add_argument("--list-faults", action="store_true", help="list the faults and exit")
    parser.add_argument("--list-variants", action="store_true",
                        help="list the correct variants and exit")
    args = parser.parse_args(argv)
    if args.list_faults or args.list_variants:
        lines = fault_lines() if args.list_faults else variant_lines()
        print("\n".join(lines))
        raise SystemExit(0)
    try:
        behaviour_for(args.fault, args.variant)
    except UnknownBehaviour as exc:
        # One line, no usage block: scripts grep for it.
        sys.stderr.write(f"{parser.prog}: {exc}\n")
        raise SystemExit(USAGE_ERROR) from None
    try:
        return ServerConfig(
            host=args.host,
            port=args.port,
            limit=args.limit,
            window=args.window,
            db_path=args.db if args.db is not None else default_db_path(),
            workers=args.workers,
            profile_out=args.profile_out,
            fault=args.fault,
            variant=args.variant,
        )
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point."""
    serve(parse_args(argv))


if __name__ == "__main__":
    main()
