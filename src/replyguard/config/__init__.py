"""The run configuration: every option defined once and resolved once.

Precedence, for every option: flag > ``REPLYGUARD_*`` variable > profile key > default.
"""

from replyguard.config.gate_options import GateOptions
from replyguard.config.options import FORMATS, OPTIONS, REFERENCE_WINDOW, ConfigError, OptionSpec
from replyguard.config.resolve import (
    Choices,
    RunConfig,
    load_run_config,
    read_choices,
    run_config,
)

__all__ = [
    "FORMATS",
    "OPTIONS",
    "REFERENCE_WINDOW",
    "Choices",
    "ConfigError",
    "GateOptions",
    "OptionSpec",
    "RunConfig",
    "load_run_config",
    "read_choices",
    "run_config",
]
