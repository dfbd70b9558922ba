"""replyguard's pytest plugin: ``pytest contract_tests`` without ``replyguard check``, with the
same config and the same suite plugin.

Registered through the ``pytest11`` entry point (as schemathesis and pytest-httpserver register
theirs), so ``pytest --pyargs contract_tests --target T.toml`` works from a package install. It
adds the run options to every pytest run in an environment that has replyguard installed, and
stays inert unless ``--target`` is given or the contract suite's ``conftest.py`` activates it:
nobody else's tests change.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from replyguard.config import ConfigError, read_choices
from replyguard.config.open import open_run
from replyguard.engine.preflight import preflight
from replyguard.engine.pytest_options import add_options, flags_from
from replyguard.engine.suite_plugin import PLUGIN_NAME, SuitePlugin
from replyguard.exit_codes import ExitCode
from replyguard.profile import ProfileError
from replyguard.reference.launch import ReferenceStartError

__all__ = [
    "activate",
    "add_options",
    "deactivate",
    "finish",
    "pytest_addoption",
    "pytest_configure",
    "pytest_unconfigure",
    "register_plugin",
]

_RUN = pytest.StashKey[ExitStack]()


def _registered(config: pytest.Config) -> SuitePlugin | None:
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, SuitePlugin):
            return plugin
    return None


def register_plugin(config: pytest.Config) -> ExitStack:
    """Resolve the run and register its plugin, unless ``replyguard check`` already did."""
    stack = ExitStack()
    if _registered(config) is not None:
        return stack
    try:
        run = stack.enter_context(open_run(read_choices(flags_from(config))))
        problem = preflight(run.target)
    except (ProfileError, ConfigError, ReferenceStartError) as exc:
        stack.close()
        raise pytest.UsageError(str(exc)) from None
    if problem:
        stack.close()
        pytest.exit(problem, returncode=int(ExitCode.COULD_NOT_JUDGE))
    plugin = SuitePlugin(run)
    config.pluginmanager.register(plugin, PLUGIN_NAME)
    return stack


def finish(config: pytest.Config) -> None:
    """Write the reports the run asked for (``replyguard check`` writes its own)."""
    from replyguard.engine.check import write_reports

    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if isinstance(plugin, SuitePlugin) and plugin.report is not None:
        write_reports(plugin.report, plugin.config)


def activate(config: pytest.Config) -> None:
    """Resolve the run and register the suite's plugin, once per pytest run."""
    if _RUN not in config.stash:
        config.stash[_RUN] = register_plugin(config)


def deactivate(config: pytest.Config) -> None:
    """Write the run's reports and stop what it started (the embedded reference), once."""
    stack = config.stash.get(_RUN, None)
    if stack is not None:
        del config.stash[_RUN]
        try:
            finish(config)
        finally:
            stack.close()


# -- the hooks of the entry point ----------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    # Inert without --target: the contract suite's conftest.py activates it for a
    # `pytest contract_tests` with a variable, a replyguard.toml or the embedded reference.
    if config.getoption("target", None) is not None:
        activate(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    deactivate(config)
