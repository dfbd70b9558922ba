"""pytest hooks and fixtures of the contract suite; ``contract_tests/conftest.py`` imports them.

Every test carries ``@pytest.mark.rule(<id>, ...)`` with ids from ``openapi/rules.yaml``.
At the end of the session the outcomes become one verdict per rule (``verdicts.aggregate``)
and, with ``--report-json``, a JSON report that ``replyguard check`` renders.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from replyguard.embedded import running_reference
from replyguard.reporting import build_report, write_json
from replyguard.spec import load_rules
from replyguard.suite.budget import Budget
from replyguard.suite.observations import ObservationLog
from replyguard.suite.session import ApiSession, TargetUnreachable
from replyguard.suite.verdicts import Outcome, aggregate, iter_violations
from replyguard.target import ProfileError, Target, load_target

__all__ = [
    "api",
    "observations",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_deselected",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "st_schema",
    "suite",
    "target",
]

STATE = pytest.StashKey["SuiteState"]()
# The embedded reference runs with a short window so the rate-limit rules are proven in seconds.
REFERENCE_WINDOW = 2.0


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value and value.strip().isdigit() else None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replyguard", "replyguard contract suite")
    group.addoption("--target", default=os.environ.get("REPLYGUARD_TARGET"),
                    help="target profile (TOML/JSON); default: start the embedded reference "
                         "[env REPLYGUARD_TARGET]")
    group.addoption("--report-json", default=os.environ.get("REPLYGUARD_REPORT_JSON"),
                    help="write the per-rule verdicts here [env REPLYGUARD_REPORT_JSON]")
    group.addoption("--max-requests", type=int, default=_env_int("REPLYGUARD_MAX_REQUESTS"),
                    help="cap on requests of the run, overrides safety.max_requests "
                         "[env REPLYGUARD_MAX_REQUESTS]")
    group.addoption("--rules", default=os.environ.get("REPLYGUARD_RULES"),
                    help="only tests proving rules matching these comma-separated globs, "
                         "e.g. 'ratelimit.*,auth.*' [env REPLYGUARD_RULES]")
    group.addoption("--allow-writes", action="store_true",
                    default=os.environ.get("REPLYGUARD_ALLOW_WRITES", "") in ("1", "true"),
                    help="allow creating assistants, overrides safety.allow_writes "
                         "[env REPLYGUARD_ALLOW_WRITES]")


class SuiteState:
    """What one run of the suite shares: the target, its session and the outcomes."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rules = load_rules()
        self.outcomes: list[Outcome] = []
        self.deselected: dict[str, str] = {}
        self.started = time.monotonic()
        self._stack = ExitStack()
        self._target: Target | None = None
        self._api: ApiSession | None = None
        self.embedded = False
        self.observations = ObservationLog()

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = self._load_target()
        return self._target

    def _load_target(self) -> Target:
        path = self.config.getoption("--target")
        if not path:
            reference = self._stack.enter_context(running_reference(window=REFERENCE_WINDOW))
            self.embedded = True
            path = str(reference.profile_path)
        target = load_target(path)
        overrides: dict[str, Any] = {}
        max_requests = self.config.getoption("--max-requests")
        if max_requests is not None:
            overrides["max_requests"] = max_requests
        if self.config.getoption("--allow-writes"):
            overrides["allow_writes"] = True
        if overrides:
            from dataclasses import replace

            target = replace(target, safety=replace(target.safety, **overrides))
        return target

    @property
    def api(self) -> ApiSession:
        if self._api is None:
            target = self.target
            budget = Budget.for_target(target.safety.max_requests, target.safety.exhaustive)
            self._api = ApiSession(target, budget)
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
        self._stack.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rule(*ids): the rules of openapi/rules.yaml this test proves")
    config.stash[STATE] = SuiteState(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rules = config.stash[STATE].rules
    _select_by_rule(config, items)
    for item in items:
        ids = rule_ids(item)
        if not ids:
            raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.rule")
        unknown = [rule for rule in ids if rule not in rules]
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid} names rules not in openapi/rules.yaml: {', '.join(unknown)}")


def _select_by_rule(config: pytest.Config, items: list[pytest.Item]) -> None:
    option = config.getoption("--rules")
    if not option:
        return
    globs = [g.strip() for g in option.split(",") if g.strip()]
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        wanted = any(fnmatch.fnmatchcase(r, g) for r in rule_ids(item) for g in globs)
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        state = item.config.stash[STATE]
        for rule in rule_ids(item):
            state.deselected.setdefault(rule, "deselected for this run")


def rule_ids(item: pytest.Item) -> tuple[str, ...]:
    """The rule ids a test is marked with."""
    return tuple(rule for mark in item.iter_markers("rule") for rule in mark.args)


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[STATE]
    if state._api is not None:
        state._api.begin_test()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    state = item.config.stash[STATE]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        state.outcomes.append(outcome_of(item, call, report, state))
    return report


def outcome_of(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport,
               state: SuiteState) -> Outcome:
    """Turn a pytest report into an Outcome with masked violations."""
    rules = rule_ids(item)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(
            report.longrepr)
        return Outcome(item.nodeid, rules, "skipped", reason.removeprefix("Skipped: "))
    if report.passed:
        return Outcome(item.nodeid, rules, "passed")
    secrets = state.target.secrets() if state._target else ()
    exc = call.excinfo.value if call.excinfo else None
    violations = []
    for violation in iter_violations(exc):
        exchange = violation.exchange or (state._api.last if state._api else None)
        violations.append(_violation_dict(item.nodeid, violation.rule, violation.expected,
                                          violation.observed, exchange, secrets))
    if not violations:
        exchange = state._api.last if state._api else None
        message = str(exc).strip().splitlines()[0] if exc and str(exc).strip() else (
            type(exc).__name__ if exc else "failed")
        for rule in rules:
            violations.append(_violation_dict(item.nodeid, rule, "the test's assertion to hold",
                                              message, exchange, secrets))
    return Outcome(item.nodeid, rules, "failed", violations[0]["observed"], violations)


def _violation_dict(test: str, rule: str, expected: str, observed: str, exchange: Any,
                    secrets: tuple[str, ...]) -> dict[str, Any]:
    from replyguard.masking import mask_secrets

    return {
        "rule": rule,
        "test": test,
        "expected": mask_secrets(expected, secrets),
        "observed": mask_secrets(observed, secrets),
        "curl": exchange.curl(secrets) if exchange else "",
        "response": exchange.summary(secrets) if exchange else "",
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    try:
        path = session.config.getoption("--report-json")
        if path:
            untested = {rid: _untested_reason(rule.observable)
                        for rid, rule in state.rules.items()}
            untested.update(state.deselected)
            verdicts = aggregate(state.rules, state.outcomes, untested)
            spent = dict(state._api.budget.spent) if state._api else {}
            report = build_report(
                verdicts, state.rules,
                target=state._target, embedded=state.embedded, requests=spent,
                duration=time.monotonic() - state.started)
            write_json(report, Path(path))
    finally:
        state.close()


def _untested_reason(observable: str) -> str:
    text = str(observable)
    if text.lower().startswith("no"):
        return f"not observable through the API ({text})"
    return "no test of this suite covers it"


# -- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def suite(request: pytest.FixtureRequest) -> SuiteState:
    """The run's shared state; fails the whole run in one line if the target is unusable."""
    state: SuiteState = request.config.stash[STATE]
    try:
        state.target  # noqa: B018 - loading it is the point
    except ProfileError as exc:
        pytest.exit(str(exc), returncode=2)
    return state


@pytest.fixture(scope="session")
def target(suite: SuiteState) -> Target:
    """The target under test."""
    return suite.target


@pytest.fixture(scope="session")
def api(suite: SuiteState) -> ApiSession:
    """The paced, budgeted session every test sends through."""
    session = suite.api
    try:
        session.send("generate_reply", {}, token=None, paced=False)
    except TargetUnreachable as exc:
        pytest.exit(f"target unreachable: {exc}", returncode=2)
    return session


@pytest.fixture(scope="session")
def st_schema(target: Target) -> Any:
    """The schemathesis schema of the contract narrowed to the target."""
    from replyguard.suite.schemas import schemathesis_schema

    return schemathesis_schema(target)


@pytest.fixture(scope="session")
def observations(suite: SuiteState) -> ObservationLog:
    """Where tests record what the target does in the documents' silent zones."""
    log = suite.observations
    log.secrets = suite.target.secrets()
    return log
