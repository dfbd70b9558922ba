"""``replyguard check``: run the contract suite against one target and report per rule."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from replyguard.embedded import ReferenceStartError, running_reference
from replyguard.reporting import exit_code, print_table, write_json, write_junit
from replyguard.suite.plugin import REFERENCE_WINDOW
from replyguard.suite.session import describe_transport_error
from replyguard.target import ProfileError, Target, load_target

__all__ = ["CheckOptions", "contract_tests_dir", "preflight", "run_check"]

USAGE_ERROR = 2


@dataclass(slots=True)
class CheckOptions:
    target: Path | None = None
    report_json: Path | None = None
    junit_xml: Path | None = None
    max_requests: int | None = None
    allow_writes: bool | None = None
    keyword: str | None = None
    rules: str | None = None
    show_passed: bool = True
    reference_window: float = REFERENCE_WINDOW


def contract_tests_dir() -> Path:
    """Where the contract suite lives (in the checkout, or installed beside the package)."""
    import contract_tests

    return Path(contract_tests.__file__).parent


def preflight(target: Target) -> str | None:
    """One line saying why the target cannot be reached, or None when it answers at all."""
    url = target.url("generate_reply")
    try:
        # No token: a 401 proves the server is there without spending anything.
        httpx.post(url, json={}, headers={"Accept": "application/json"}, timeout=10)
    except httpx.TransportError as exc:
        return describe_transport_error(url, exc)
    return None


def _error(message: str) -> None:
    # One unwrapped line on stderr, whatever the terminal width.
    sys.stderr.write(f"replyguard: {message}\n")
    sys.stderr.flush()


def run_check(options: CheckOptions, console: Console | None = None) -> int:
    """Run the suite, print the verdict table, write the reports; return the exit code."""
    console = console or Console(stderr=False)
    with ExitStack() as stack:
        if options.target is None:
            try:
                reference = stack.enter_context(running_reference(window=options.reference_window))
            except ReferenceStartError as exc:
                _error(str(exc))
                return USAGE_ERROR
            profile = reference.profile_path
            console.print(f"replyguard: embedded reference server at {reference.base_url} "
                          f"(window {options.reference_window:g}s)", markup=False, soft_wrap=True)
        else:
            profile = options.target
        try:
            target = load_target(profile)
        except ProfileError as exc:
            _error(str(exc))
            return USAGE_ERROR
        problem = preflight(target)
        if problem:
            _error(f"target unreachable: {problem}")
            return USAGE_ERROR
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="replyguard-")))
        report_path = folder / "report.json"
        code = _run_pytest(options, profile, report_path, console)
        if not report_path.exists():
            _error(f"the suite did not run to the end (pytest exit {code})")
            return USAGE_ERROR
        import json

        report = json.loads(report_path.read_text(encoding="utf-8"))
    print_table(report, console, show_passed=options.show_passed)
    if options.report_json:
        write_json(report, options.report_json)
    if options.junit_xml:
        write_junit(report, options.junit_xml)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED,
                    pytest.ExitCode.NO_TESTS_COLLECTED):
        return USAGE_ERROR
    return exit_code(report)


def _run_pytest(options: CheckOptions, profile: Path, report_path: Path,
                console: Console) -> int:
    args = [str(contract_tests_dir()), "--target", str(profile), "--report-json",
            str(report_path), "-p", "no:cacheprovider", "-p", "no:terminal",
            "--rootdir", str(contract_tests_dir()), "-c", str(contract_tests_dir() / "pytest.ini"),
            # The progress bar replaces pytest's terminal plugin, and with it -ra and --tb.
            "-o", "addopts=--strict-markers"]
    if options.max_requests is not None:
        args += ["--max-requests", str(options.max_requests)]
    if options.allow_writes:
        args.append("--allow-writes")
    if options.keyword:
        args += ["-k", options.keyword]
    if options.rules:
        args += ["--rules", options.rules]
    progress = _ProgressPlugin(console)
    with progress:
        return int(pytest.main(args, plugins=[progress]))


class _ProgressPlugin:
    """A progress bar fed by pytest's hooks, in place of pytest's own terminal output."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                 transient=True)
        self.task = self.progress.add_task("checking", total=None)
        self.failed = 0

    def __enter__(self) -> _ProgressPlugin:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.progress.stop()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.progress.update(self.task, total=len(session.items))

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.progress.update(self.task, description=f"{nodeid.split('::', 1)[-1][:60]}")

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.progress.advance(self.task)
