"""The run options as ``pytest contract_tests`` flags: the same table, the same resolver."""

from __future__ import annotations

from typing import Any

import pytest

from replyguard.config.options import OPTIONS

__all__ = ["PYTEST_OPTIONS", "add_options", "flags_from"]

#: pytest has -k and --junit-xml of its own, and prints its own output; the regression gate
#: (and its --last-failed, which pytest has too) belongs to ``replyguard check``.
PYTEST_OPTIONS = tuple(
    spec
    for spec in OPTIONS
    if spec.name
    not in (
        "keyword",
        "junit_xml",
        "format",
        "show_passed",
        "baseline",
        "known_deviations",
        "fail_on_drift",
        "last_failed",
        "report_html",
        "report_md",
        "plan",
    )
)


#: pytest owns ``--strict`` (an alias of --strict-markers): the suite's is spelled out.
_RENAMED = {"strict": "--replyguard-strict"}


def add_options(parser: pytest.Parser) -> None:
    """Register the run options on pytest's parser (values stay text for the resolver)."""
    group = parser.getgroup("replyguard", "replyguard contract suite")
    for spec in PYTEST_OPTIONS:
        help_text = f"{spec.help} [env {spec.env}]"
        flag = _RENAMED.get(spec.name, spec.flag)
        if spec.boolean:
            negative = "--no-" + flag.removeprefix("--")
            group.addoption(
                flag, action="store_const", const=True, dest=spec.name, default=None, help=help_text
            )
            group.addoption(
                negative,
                action="store_const",
                const=False,
                dest=spec.name,
                default=None,
                help=f"the opposite of {flag}",
            )
        else:
            group.addoption(
                spec.flag, dest=spec.name, default=None, metavar=spec.metavar, help=help_text
            )


def flags_from(config: pytest.Config) -> dict[str, Any]:
    """The run options as given on pytest's command line (None where not given)."""
    flags = {spec.name: config.getoption(spec.name) for spec in PYTEST_OPTIONS}
    keyword = config.getoption("keyword")
    flags["keyword"] = keyword or None
    return flags
