"""``replyguard diff A.json B.json``, registered on the ``replyguard`` group.

``check``'s gate options (``--baseline`` and the rest) live in the one option table,
``replyguard.config.options``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from replyguard.exit_codes import ExitCode
from replyguard.gate.baseline import ReportError
from replyguard.gate.diff import diff_files

__all__ = ["diff"]

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("a", type=_FILE)
@click.argument("b", type=_FILE)
@click.option(
    "--fail-on-drift",
    is_flag=True,
    default=False,
    envvar="REPLYGUARD_FAIL_ON_DRIFT",
    show_envvar=True,
    help="Also exit 1 when an observation in the silent zones differs.",
)
def diff(a: Path, b: Path, fail_on_drift: bool) -> None:
    """Compare two --report-json files rule by rule; exit 1 when B regresses against A."""
    try:
        result = diff_files(a, b, fail_on_drift=fail_on_drift)
    except ReportError as exc:
        sys.stderr.write(f"replyguard: {exc}\n")
        sys.exit(ExitCode.COULD_NOT_JUDGE)
    click.echo("\n".join(result.lines))
    sys.exit(result.exit_code)
