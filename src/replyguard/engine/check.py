"""One run, in order: resolve the configuration, read the gate's inputs, preflight, plan, run
the suite in-process, apply the gate, print, write every report.

``replyguard check`` and the selftest's cases call :func:`run_check`; ``pytest contract_tests``
runs the same plugin and writes its reports with :func:`write_reports`. The suite's plugin is
an object built from the run's config and registered with ``pytest.main(..., plugins=[plugin])``;
its verdicts are read from it afterwards.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from replyguard.config import ConfigError, RunConfig
from replyguard.config.open import open_run
from replyguard.config.resolve import Choices
from replyguard.engine.judge import NO_TEST
from replyguard.engine.plan import PlanError, rehearse
from replyguard.engine.preflight import preflight
from replyguard.engine.suite_plugin import SuitePlugin
from replyguard.exit_codes import ExitCode
from replyguard.gate.rerun import last_report_path, remember
from replyguard.gate.run import GateUsageError, finish_gate, prepare_gate
from replyguard.profile import ProfileError
from replyguard.reference.launch import ReferenceStartError
from replyguard.report import (
    exit_code,
    print_report,
    write_html,
    write_json,
    write_junit,
    write_markdown,
)
from replyguard.spec import load_rules
from replyguard.suite.budget import BILLED
from replyguard.suite.selection import (
    SelectionError,
    SelectionWatch,
    check_outputs,
    check_rule_globs,
    nothing_tested,
)

__all__ = ["contract_tests_dir", "run_check", "run_suite", "write_reports"]


#: An exhaustive target with a window this long (seconds) gets an estimate of its run's time
#: before the first request: the pacing then takes minutes (a 60 s window: about 13).
_ESTIMATE_WINDOW = 10.0


def contract_tests_dir() -> Path:
    """Where the contract suite lives (in the checkout, or installed beside the package)."""
    import contract_tests

    return Path(contract_tests.__file__).parent


def _error(message: str) -> None:
    # One unwrapped line on stderr, whatever the terminal width.
    sys.stderr.write(f"replyguard: {message}\n")
    sys.stderr.flush()


def run_check(choices: Choices) -> int:
    """Run the suite against the chosen target, print and write the report; the exit code."""
    watch = SelectionWatch()
    # --max-seconds bounds the whole command: the preflight and the plan's rehearsal count.
    began = time.monotonic()
    try:
        with open_run(choices) as config:
            # issue 12: the gate's inputs are read, and --last-failed picks the rules, first.
            gate = prepare_gate(config.gate, config.rules)
            if gate.note:
                _error(gate.note)
            if gate.skip_run:
                return ExitCode.OK
            config = replace(config, rules=gate.rules)
            # issue 20: a selection that names no rule, or a file the run cannot write, is
            # one line before the first request.
            check_rule_globs(config.rules, load_rules())
            check_outputs(_outputs(config))
            if config.embedded:
                _error(
                    f"embedded reference server at {config.target.base_url} "
                    f"(window {config.reference_window:g}s)"
                )
            # The preflight first: a target that is not there, or not the API, is one line
            # before anything else happens. --plan sends nothing at all, so it has none.
            latency = 0.0
            if not config.plan:
                # Its answer time is the latency the plan's estimate counts per request.
                started = time.monotonic()
                problem = preflight(config.target)
                latency = time.monotonic() - started
                if problem:
                    _error(problem)
                    return ExitCode.COULD_NOT_JUDGE
            plan = None
            if config.plan or (config.plan is None and not config.target.safety.exhaustive):
                plan = rehearse(config, latency=latency)
                for line in plan.lines():
                    _error(line)
                over = plan.over_cap(config)
                if over:
                    _error(f"refusing to start: {over}")
                    return ExitCode.COULD_NOT_JUDGE
                if config.plan:
                    return ExitCode.OK
            else:
                # An exhaustive target gets no plan: its bounds, before the first request, and
                # when its window makes the run long, the rehearsal's estimate of the time.
                long_window = config.target.rate_limit.window_seconds >= _ESTIMATE_WINDOW
                if long_window and not config.embedded and config.plan is None:
                    estimate = rehearse(config, latency=latency)
                    _error(
                        f"estimate: {estimate.total} requests, about {estimate.seconds:.0f} s "
                        f"(about {estimate.windows} rate-limit windows"
                        + (f", answers of {latency:.2f} s)" if latency >= 0.1 else ")")
                    )
                for line in config.bounds.lines():
                    _error(line.replace("plan: ", "bounds: ", 1))
            report = run_suite(config, watch, began=began)
    except (
        ProfileError,
        ConfigError,
        ReferenceStartError,
        GateUsageError,
        PlanError,
        SelectionError,
    ) as exc:
        _error(str(exc))
        return ExitCode.COULD_NOT_JUDGE
    except KeyboardInterrupt:
        # Ctrl-C before the suite started (preflight, plan): nothing was judged.
        _error("interrupted (Ctrl-C) before the suite ran: nothing was judged")
        return ExitCode.INTERRUPTED
    keyword_problem = watch.keyword_problem(config.keyword)
    if keyword_problem:
        _error(keyword_problem)
        return ExitCode.COULD_NOT_JUDGE
    if report is None:
        return ExitCode.COULD_NOT_JUDGE
    if plan is not None:
        report["plan"] = plan.as_dict()
        report["spent"] = _spent(report)
    for rule in report["rules"]:
        for error in rule.get("errors", [])[:1]:
            _error(
                f"could not judge {rule['rule']}: {error['test']} raised "
                f"{error['exception']}: {error['message']}"
            )
    # issue 12: judged against the baseline and the known deviations.
    gated = finish_gate(report, gate)
    print_report(report, config.format, show_passed=config.show_passed)
    if gated:
        # After the verdicts; stdout stays pure JSON with --format json.
        out = sys.stderr if config.format == "json" else sys.stdout
        out.write("".join(f"{line}\n" for line in gated.lines))
    write_reports(report, config, pages=True)
    if report.get("interrupted"):
        _error("interrupted (Ctrl-C): the reports hold the rules judged before it")
        return ExitCode.INTERRUPTED
    partial = report.get("partial")
    if partial:
        # Stopped by the breaker or the time limit: its reason is the run's one line (exit 2),
        # and says more than "nothing was tested", which the stop explains.
        _error(partial["reason"])
        return exit_code(report)
    nothing = nothing_tested(report, load_rules())
    if nothing:
        _error(nothing)
        return ExitCode.COULD_NOT_JUDGE
    return gated.exit_code if gated else exit_code(report)


def _outputs(config: RunConfig) -> dict[str, Path | None]:
    """Every file the run will write, by the option that names it."""
    return {
        "--report-json": config.report_json,
        "--junit-xml": config.junit_xml,
        "--report-html": config.gate.report_html,
        "--report-md": config.gate.report_md,
        "the last report": last_report_path(config.gate.remember_dir),
    }


def _spent(report: dict[str, Any]) -> dict[str, Any]:
    """What the run spent, in the plan's terms."""
    requests = {op: n for op, n in report["requests"].items() if op != BILLED}
    return {
        "requests": requests,
        "total": sum(requests.values()),
        "billed_calls": report["requests"].get(BILLED, 0),
        "assistants_created": len(report.get("created_assistants", [])),
        # A reply whose answer the network lost may have been billed (issue 20).
        "possibly_billed": (report.get("transport") or {}).get("possibly_billed", 0),
        "assistants_possibly_created": len(
            (report.get("transport") or {}).get("possibly_created", [])
        ),
        "tokens": report.get("tokens_used", []),
        "seconds": report["duration_seconds"],
    }


def write_reports(report: dict[str, Any], config: RunConfig, *, pages: bool = False) -> None:
    """The files the run was asked for: JSON and JUnit; with ``pages`` (``replyguard check``),
    the HTML page and the Markdown summary, and the last report that --last-failed reads."""
    if pages:
        secrets = config.target.secrets()
        if config.gate.report_html:
            write_html(report, config.gate.report_html, secrets)
        if config.gate.report_md:
            write_markdown(report, config.gate.report_md, secrets)
        remember(json.dumps(report, indent=2, ensure_ascii=False), config.gate.remember_dir)
    if config.report_json:
        write_json(report, config.report_json)
    if config.junit_xml:
        write_junit(report, config.junit_xml)


def run_suite(
    config: RunConfig, watch: SelectionWatch | None = None, *, began: float | None = None
) -> dict[str, Any] | None:
    """Run the contract suite in-process; the report, or None when pytest could not run it.

    After Ctrl-C the report so far comes back with ``interrupted: true``. ``began``: when the
    run's time limit started counting (time.monotonic), if before now.
    """
    watch = watch or SelectionWatch()
    folder = contract_tests_dir()
    args = [
        str(folder),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        "--rootdir",
        str(folder),
        "-c",
        str(folder / "pytest.ini"),
        # The progress bar replaces pytest's terminal plugin, and with it -ra and --tb.
        "-o",
        "addopts=--strict-markers",
        # The suite needs no installed pytest plugin (it drives schemathesis and hypothesis
        # as libraries) and judges with expect(), not assert: loading every plugin of the
        # environment and rewriting its modules' asserts was half of a short run's time.
        "--disable-plugin-autoload",
        "--assert=plain",
    ]
    plugin = SuitePlugin(config)
    if began is not None:
        plugin.session.guard.start(began)
    progress = _ProgressPlugin(Console(stderr=True))
    with progress:
        code = pytest.main(args, plugins=[plugin, progress, watch])
    if watch.interrupted and plugin.report is not None:
        plugin.report["interrupted"] = True
        for item in plugin.report["rules"]:
            # Its tests were never reached, which is not what the reason would say.
            if item["verdict"] == "not tested" and item["reason"] == NO_TEST:
                item["reason"] = "not reached: the run was interrupted (Ctrl-C)"
        return plugin.report
    if plugin.report is not None and plugin.session.guard.stopped is not None:
        # The breaker or the time limit (issue 20): the report so far, marked partial; its
        # one line comes after the report (run_check).
        return plugin.report
    if plugin.report is None or code not in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        _error(f"the suite did not run to the end (pytest exit {int(code)})")
        return None
    return plugin.report


class _ProgressPlugin:
    """A progress bar on stderr fed by pytest's hooks, in place of pytest's terminal output."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("checking", total=None)

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
