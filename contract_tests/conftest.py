"""The contract suite: every documented rule of the AI Assistant API, against one target.

Run it with ``replyguard check`` (which registers the suite's plugin itself) or with
``pytest contract_tests --target PROFILE`` (``pytest --pyargs contract_tests --target PROFILE``
from a package install): replyguard's pytest plugin (the ``pytest11`` entry point) resolves the
same run configuration (flag > ``REPLYGUARD_*`` variable > profile > default) and registers the
same plugin. Without ``--target`` this file activates it, so the embedded reference is started.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from replyguard.engine import pytest_plugin

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


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # The entry point adds the options; without it (plugin autoload disabled), this file does.
    if not pluginmanager.is_registered(pytest_plugin):
        pytest_plugin.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    pytest_plugin.activate(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    pytest_plugin.deactivate(config)
