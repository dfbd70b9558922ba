"""The gate's command-line surface: the ``check`` options and the ``diff`` command.

Kept apart from ``replyguard.cli`` so the check command only gains one decorator and one
parameter (``gate``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from replyguard.exit_codes import ExitCode
from replyguard.gate.baseline import ReportError
from replyguard.gate.diff import diff_files
from replyguard.gate.run import GateOptions

__all__ = ["check_options", "diff"]

_FILE = click.Path(dir_okay=False, path_type=Path)

_OPTIONS = [
    click.option("--baseline", type=_FILE, envvar="REPLYGUARD_BASELINE", show_envvar=True,
                 help="An earlier --report-json to compare with: new failures and rules no "
                      "longer tested fail the run (profile: baseline)."),
    click.option("--known-deviations", type=_FILE, envvar="REPLYGUARD_KNOWN_DEVIATIONS",
                 show_envvar=True,
                 help="TOML list of accepted failures, each with a reason and an optional "
                      "until date (profile: known_deviations)."),
    click.option("--fail-on-drift", is_flag=True, default=False,
                 envvar="REPLYGUARD_FAIL_ON_DRIFT", show_envvar=True,
                 help="Fail when an observation in the documents' silent zones changed "
                      "since the baseline."),
    click.option("--last-failed", metavar="[REPORT]", is_flag=False, flag_value="",
                 default=None,
                 help="Run only the tests of the rules that failed or erred in REPORT "
                      "(default: the last report written in this directory)."),
    click.option("--report-html", type=_FILE, envvar="REPLYGUARD_REPORT_HTML",
                 show_envvar=True, help="Write a self-contained HTML report here."),
    click.option("--report-md", type=_FILE, envvar="REPLYGUARD_REPORT_MD", show_envvar=True,
                 help="Write a Markdown summary here (and append it to $GITHUB_STEP_SUMMARY "
                      "when set)."),
]


def check_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the gate's options to ``check``; they reach it as one ``gate: GateOptions``."""

    @functools.wraps(command)
    def wrapper(*args: Any, baseline: Path | None, known_deviations: Path | None,
                fail_on_drift: bool, last_failed: str | None, report_html: Path | None,
                report_md: Path | None, **kwargs: Any) -> Any:
        gate = GateOptions(baseline=baseline, known_deviations=known_deviations,
                           fail_on_drift=fail_on_drift, last_failed=last_failed,
                           report_html=report_html, report_md=report_md)
        return command(*args, gate=gate, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated


@click.command()
@click.argument("a", type=_FILE)
@click.argument("b", type=_FILE)
@click.option("--fail-on-drift", is_flag=True, default=False,
              envvar="REPLYGUARD_FAIL_ON_DRIFT", show_envvar=True,
              help="Also exit 1 when an observation in the silent zones differs.")
def diff(a: Path, b: Path, fail_on_drift: bool) -> None:
    """Compare two --report-json files rule by rule; exit 1 when B regresses against A."""
    try:
        result = diff_files(a, b, fail_on_drift=fail_on_drift)
    except ReportError as exc:
        sys.stderr.write(f"replyguard: {exc}\n")
        sys.exit(ExitCode.COULD_NOT_JUDGE)
    click.echo("\n".join(result.lines))
    sys.exit(result.exit_code)
