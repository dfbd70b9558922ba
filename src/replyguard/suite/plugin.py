"""The contract suite's pytest plugin, as an object built from one :class:`RunConfig`.

``replyguard check`` builds the config, registers a :class:`SuitePlugin` in-process
(``pytest.main(..., plugins=[plugin])``) and reads :attr:`SuitePlugin.report` afterwards;
``pytest contract_tests`` gets the same plugin from the thin adaptor in ``conftest.py``.
Every test carries ``@pytest.mark.rule(<id>, ...)`` with ids from ``openapi/rules.yaml``; at
the end of the session the outcomes become one verdict per rule (``verdicts.aggregate``).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Generator
from typing import Any

import pytest

from replyguard.config import RunConfig
from replyguard.spec import Rule, load_rules
from replyguard.suite.budget import Budget
from replyguard.suite.fault_report import server_error_outcomes, transport_section
from replyguard.suite.observations import ObservationLog
from replyguard.suite.outcomes import outcome_of
from replyguard.suite.session import ApiSession
from replyguard.suite.verdicts import Outcome, aggregate, untested_reason
from replyguard.target import Target

__all__ = ["PLUGIN_NAME", "SuitePlugin", "rule_ids"]

PLUGIN_NAME = "replyguard-suite"


def rule_ids(item: pytest.Item) -> tuple[str, ...]:
    """The rule ids a test is marked with."""
    return tuple(rule for mark in item.iter_markers("rule") for rule in mark.args)


def _phase(item: pytest.Item) -> int:
    mark = item.get_closest_marker("phase")
    if mark is not None:
        return int(mark.args[0])
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("operation") == "create_assistant":
        return 1
    if all(rule.startswith("assistant.") for rule in rule_ids(item)):
        return 1
    return 3


class SuitePlugin:
    """One run of the contract suite against one target: hooks, fixtures and the outcomes."""

    def __init__(self, config: RunConfig, *, api: ApiSession | None = None) -> None:
        self.config = config
        self.rules: dict[str, Rule] = load_rules()
        self.outcomes: list[Outcome] = []
        self.deselected: dict[str, str] = {}
        self.log = ObservationLog(secrets=config.target.secrets())
        self.session = api or ApiSession(
            config.target, Budget.for_target(config.target.safety), bounds=config.bounds
        )
        self.started = time.monotonic()
        self.session.guard.start()
        self.report: dict[str, Any] | None = None
        #: Requests each test sent (fixtures it set up included), by operation.
        self.spent_by_test: dict[str, dict[str, int]] = {}

    # -- hooks ---------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers", "rule(*ids): the rules of openapi/rules.yaml this test proves"
        )
        config.addinivalue_line(
            "markers",
            "phase(n): when the test runs (0 the burst, 1 create-assistant while "
            "the window resets, 2 recovery, 3 the rest, 4 fresh windows)",
        )
        if self.config.keyword:
            config.option.keyword = self.config.keyword

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        for item in items:
            ids = rule_ids(item)
            if not ids:
                raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.rule")
            unknown = [rule for rule in ids if rule not in self.rules]
            if unknown:
                raise pytest.UsageError(
                    f"{item.nodeid} names rules not in openapi/rules.yaml: {', '.join(unknown)}"
                )
        # Waits for the rate limit overlap with work the documents do not rate-limit: the
        # burst first, create-assistant while its window resets, then recovery, the other
        # generate-reply calls, and last the tests that need a fresh window of their own.
        items.sort(key=_phase)
        globs = self.config.rules
        if not globs:
            return
        keep = [
            item
            for item in items
            if any(fnmatch.fnmatchcase(r, g) for r in rule_ids(item) for g in globs)
        ]
        drop = [item for item in items if item not in keep]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            for rule in rule_ids(item):
                self.deselected.setdefault(rule, "deselected for this run")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        before = dict(self.session.budget.spent)
        try:
            return (yield)
        finally:
            after = self.session.budget.spent
            delta = {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}
            if delta:
                self.spent_by_test[item.nodeid] = delta

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.session.begin_test(item.nodeid)
        self.log.current_test = item.nodeid

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            exc = call.excinfo.value if call.excinfo else None
            self.outcomes.append(
                outcome_of(
                    item.nodeid,
                    rule_ids(item),
                    report,
                    exc,
                    self.session.last,
                    self.config.target.secrets(),
                    self.session.guard.test_faults,
                )
            )
            stopped = self.session.guard.stopped
            if stopped is not None and not item.session.shouldstop:
                # The breaker or the time limit: no further test runs; the report is partial.
                item.session.shouldstop = str(stopped)
        return report

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from replyguard.report import build_report

        try:
            untested = {rid: untested_reason(rule) for rid, rule in self.rules.items()}
            untested.update(self.deselected)
            stopped = self.session.guard.stopped
            if stopped is not None:
                ran = {rule for outcome in self.outcomes for rule in outcome.rules}
                for item in session.items:
                    for rule in rule_ids(item):
                        if rule not in ran:
                            untested[rule] = f"not run: the run stopped ({stopped})"
            outcomes = [
                *self.outcomes,
                *server_error_outcomes(self.session.guard.log.faults, self.config.target.secrets()),
            ]
            verdicts = aggregate(
                self.rules, outcomes, untested, self.log, strict=self.config.strict
            )
            self.report = build_report(
                verdicts,
                self.rules,
                self.log,
                config=self.config,
                requests=dict(self.session.budget.spent),
                created=self.session.created,
                spent_by_test=self.spent_by_test,
                roles=self.session.roles_used,
                waited=self.session.pacer.waited,
                pacing=self.session.pacer.trace,
                duration=time.monotonic() - self.started,
            )
            self.report["transport"] = transport_section(
                self.session.guard, self.session.budget.total, self.config.target.secrets()
            )
            if stopped is not None:
                # The report so far; --last-failed and the gate read it as cut short.
                self.report["partial"] = {"kind": stopped.kind, "reason": str(stopped)}
        finally:
            self.session.close()

    # -- fixtures ------------------------------------------------------------------------

    @pytest.fixture(scope="session")
    def run_config(self) -> RunConfig:
        """The resolved run configuration."""
        return self.config

    @pytest.fixture(scope="session")
    def target(self) -> Target:
        """The target under test."""
        return self.config.target

    @pytest.fixture(scope="session")
    def api(self) -> ApiSession:
        """The paced, budgeted session every test sends through."""
        return self.session

    @pytest.fixture(scope="session")
    def observations(self) -> ObservationLog:
        """Where tests record what the target does in the documents' silent zones."""
        return self.log

    @pytest.fixture(scope="session")
    def st_schema(self) -> Any:
        """The schemathesis schema of the contract narrowed to the target."""
        from replyguard.suite.schemas import schemathesis_schema

        return schemathesis_schema(self.config.target)
