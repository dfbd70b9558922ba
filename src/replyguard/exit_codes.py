"""The exit codes of every replyguard command, defined once.

``check``, ``diff``, ``selftest`` and the headless load run all mean the same by them.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    OK = 0
    """Every rule that was tested passed (observations never change this)."""
    FAILED = 1
    """The target broke a documented rule (or regressed against a baseline)."""
    COULD_NOT_JUDGE = 2
    """Usage or profile error, an unreachable target, or replyguard's own errors only."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (128 + SIGINT, as a shell reports it); the report so far is written."""
