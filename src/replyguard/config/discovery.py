"""Finding the target profile when none is named, as schemathesis finds its config file."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PROFILE_NAME", "discover_profile"]

PROFILE_NAME = "replyguard.toml"


def discover_profile(start: Path) -> Path | None:
    """``replyguard.toml`` in ``start`` or a parent, up to the repository root (a ``.git``)."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / PROFILE_NAME
        if path.is_file():
            return path
        if (candidate / ".git").exists():
            return None
    return None
