"""``pytest contract_tests`` without ``replyguard check``: the same config, the same plugin."""

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

__all__ = ["add_options", "finish", "register_plugin"]


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
