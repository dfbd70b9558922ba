"""The contract suite: every documented rule of the AI Assistant API, against one target.

Run it with ``replyguard check`` (which registers the suite's plugin itself) or with
``pytest contract_tests --target PROFILE``: then this thin adaptor resolves the same run
configuration (flag > ``REPLYGUARD_*`` variable > profile > default), starts the embedded
reference when no profile is given, and registers the same plugin.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, settings

from replyguard.engine import pytest_plugin as adaptor

# No example database: a failure found against one target must not be replayed against the
# next, and the suite must not write into the user's working directory.
settings.register_profile(
    "contract",
    database=None,
    deadline=None,
    derandomize=False,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.load_profile("contract")

_RUN = pytest.StashKey[ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    adaptor.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUN] = adaptor.register_plugin(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_RUN, None)
    if stack is not None:
        adaptor.finish(config)
        stack.close()
