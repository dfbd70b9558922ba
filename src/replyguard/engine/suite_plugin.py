"""The contract suite's pytest plugin, as an object built from one :class:`RunConfig`.

The engine's check builds the config, registers a :class:`SuitePlugin` in-process
(``pytest.main(..., plugins=[plugin])``) and reads :attr:`SuitePlugin.report` afterwards;
``pytest contract_tests`` gets the same plugin from ``engine.pytest_plugin`` (the ``pytest11``
entry point).
Every test carries ``@pytest.mark.rule(<id>, ...)`` with ids from ``openapi/rules.yaml``; at
the end of the session the outcomes become one verdict per rule (``engine.judge.aggregate``).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Generator
from typing import Any

import pytest

from replyguard.config import RunConfig
from replyguard.engine import suite_fixtures
from replyguard.engine.judge import aggregate, untested_reason
from replyguard.engine.suite_fixtures import SUITE
from replyguard.exchange import Exchange, bodies_dir
from replyguard.spec import Rule, load_rules
from replyguard.suite.budget import Budget
from replyguard.suite.fault_report import server_error_exchanges, transport_section
from replyguard.suite.limiter import ratelimit_section
from replyguard.suite.observations import ObservationLog
from replyguard.suite.outcomes import outcome_of
from replyguard.suite.selection import SelectionError, check_rule_globs
from replyguard.suite.server_errors import server_error_outcome
from replyguard.suite.session import ApiSession
from replyguard.suite.token_state import TokenState
from replyguard.verdicts import DESELECTED, Outcome

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


def _order(item: pytest.Item, *, pool: bool) -> float:
    """When a test runs. With a token pool, "any" calls never take primary or secondary, so
    the other generate-reply calls (phase 3) fill the burst's window on the pool, before the
    recovery (phase 2) that waits for the primary's reset."""
    phase = _phase(item)
    return 1.5 if pool and phase == 3 else phase


class SuitePlugin:
    """One run of the contract suite against one target: hooks, fixtures and the outcomes."""

    def __init__(self, config: RunConfig, *, api: ApiSession | None = None) -> None:
        self.config = config
        self.rules: dict[str, Rule] = load_rules()
        self.outcomes: list[Outcome] = []
        self.deselected: dict[str, str] = {}
        #: Where reproductions keep bodies too long for their line (beside the reports).
        self.bodies = bodies_dir(
            (config.report_json, config.junit_xml, config.gate.report_html, config.gate.report_md),
            config.gate.remember_dir,
        )
        self.log = ObservationLog(secrets=config.target.secrets(), bodies=self.bodies)
        self.session = api or ApiSession(
            config.target,
            Budget.for_target(config.target.safety),
            bounds=config.bounds,
            # A run soon after another one against the target waits out the windows it left.
            state=TokenState(config.gate.remember_dir),
        )
        self.started = time.monotonic()
        self.session.guard.start()
        self.report: dict[str, Any] | None = None
        #: Requests each test sent (fixtures it set up included), by operation.
        self.spent_by_test: dict[str, dict[str, int]] = {}
        #: Every 5xx answer of the run with the test that got it (contract.no-server-error).
        self.server_errors: list[tuple[str, Exchange]] = []

    # -- hooks ---------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        # The fixtures are module functions that find this run's plugin in the config's stash
        # (pytest 10 drops session fixtures defined as methods of a plugin object).
        config.stash[SUITE] = self
        if not config.pluginmanager.is_registered(suite_fixtures):
            config.pluginmanager.register(suite_fixtures, "replyguard-suite-fixtures")
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
        items.sort(key=lambda item: _order(item, pool=bool(self.config.target.tokens.pool)))
        globs = self.config.rules
        if not globs:
            return
        try:
            # `pytest contract_tests --rules`: a typo is a usage error, as in `replyguard check`.
            check_rule_globs(globs, self.rules)
        except SelectionError as exc:
            raise pytest.UsageError(str(exc)) from None
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
                self.deselected.setdefault(rule, DESELECTED)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        before = dict(self.session.budget.spent)
        try:
            return (yield)
        finally:
            self.server_errors += [
                (item.nodeid, e) for e in self.session.exchanges if e.status >= 500
            ]
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
                    self.bodies,
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
            # Every 5xx of the run, a gateway's page among the transport faults too.
            whole_run = server_error_outcome(
                [*self.server_errors, *server_error_exchanges(self.session.guard.log.faults)],
                self.outcomes,
                self.config.target.secrets(),
            )
            if whole_run is not None and self._selected(whole_run.rules[0]):
                self.outcomes.append(whole_run)
            outcomes = self.outcomes
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
                unicode_sent=self.session.unicode_sent,
                negatives_dropped=self.session.negatives_dropped,
                duration=time.monotonic() - self.started,
            )
            # The limiter as the rate-limit model describes it, from the calls the run made.
            limiter = ratelimit_section(self.session)
            if limiter is not None:
                self.report["ratelimit"] = limiter
            self.report["transport"] = transport_section(
                self.session.guard, self.session.budget.total, self.config.target.secrets()
            )
            if stopped is not None:
                # The report so far; --last-failed and the gate read it as cut short.
                self.report["partial"] = {"kind": stopped.kind, "reason": str(stopped)}
        finally:
            self.session.close()

    def _selected(self, rule: str) -> bool:
        return not self.config.rules or any(fnmatch.fnmatchcase(rule, g) for g in self.config.rules)
