"""The fixtures tests are written against, for the run the engine's SuitePlugin drives.

Module functions (registered by the plugin at configure time) that read the plugin from the
config's stash: pytest deprecates session fixtures defined as methods of a plugin object.
"""

from __future__ import annotations

from typing import Any, Protocol

import pytest

from replyguard.config import RunConfig
from replyguard.profile import Target
from replyguard.suite.observations import ObservationLog
from replyguard.suite.session import ApiSession

__all__ = ["SUITE", "api", "observations", "run_config", "st_schema", "target"]


class _Run(Protocol):
    """What the fixtures read of the run's plugin (``engine.suite_plugin.SuitePlugin``)."""

    config: RunConfig
    session: ApiSession
    log: ObservationLog


#: Where a pytest config keeps its run's plugin (set by the plugin at configure time).
SUITE = pytest.StashKey[_Run]()


def _suite(request: pytest.FixtureRequest) -> _Run:
    return request.config.stash[SUITE]


@pytest.fixture(scope="session")
def run_config(request: pytest.FixtureRequest) -> RunConfig:
    """The resolved run configuration."""
    return _suite(request).config


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The target under test."""
    return _suite(request).config.target


@pytest.fixture(scope="session")
def api(request: pytest.FixtureRequest) -> ApiSession:
    """The paced, budgeted session every test sends through."""
    return _suite(request).session


@pytest.fixture(scope="session")
def observations(request: pytest.FixtureRequest) -> ObservationLog:
    """Where tests record what the target does in the documents' silent zones."""
    return _suite(request).log


@pytest.fixture(scope="session")
def st_schema(request: pytest.FixtureRequest) -> Any:
    """The schemathesis schema of the contract narrowed to the target."""
    from replyguard.suite.schemas import schemathesis_schema

    return schemathesis_schema(_suite(request).config.target)
