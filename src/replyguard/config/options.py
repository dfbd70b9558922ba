"""Every option of a run, defined once: its flag, its ``REPLYGUARD_*`` variable, its profile key.

The click command, the pytest adaptor and the resolver all read this table, so an option has one
name, one parser and one default everywhere. Flags and variables are parsed by the same function,
so a bad value gets the same one-line error whichever way it came.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replyguard.profile.model import DEFAULT_MAX_BILLED_CALLS, DEFAULT_MAX_REQUESTS

__all__ = ["FORMATS", "OPTIONS", "ConfigError", "OptionSpec", "option"]

#: How ``replyguard check`` prints its verdicts (``auto``: a table on a terminal, else plain).
FORMATS = ("auto", "table", "plain", "json")
#: The embedded reference's rate-limit window: short, so the rate-limit rules are proven in
#: seconds; every launcher of the reference for a check reads it from here.
REFERENCE_WINDOW = 1.0


class ConfigError(ValueError):
    """A bad option value; the message is one line and names the flag or the variable."""


def _path(text: str) -> Path:
    if not text.strip():
        raise ValueError("expected a file path, got an empty value")
    return Path(text)


def _count(text: str) -> int:
    value = text.strip()
    if not value.isdigit():
        raise ValueError(f"expected a whole number ≥ 0, got {text!r}")
    return int(value)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not 0.5 <= value <= 3600:
        raise ValueError(f"expected between 0.5 and 3600 seconds, got {text!r}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("expected a value, got an empty one")
    return text.strip()


def _report_or_last(text: str) -> str:
    # "" (the flag alone): the last report written in this directory.
    return text.strip()


def _format(text: str) -> str:
    value = text.strip().lower()
    if value not in FORMATS:
        raise ValueError(f"expected one of {', '.join(FORMATS)}, got {text!r}")
    return value


@dataclass(slots=True, frozen=True)
class OptionSpec:
    """One option of ``replyguard check`` (and of ``pytest contract_tests``)."""

    name: str
    flag: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    profile: str | None = None
    """Dotted key of the target profile that may set it (``safety.max_requests``)."""
    boolean: bool = False
    """A ``--flag/--no-flag`` pair rather than a flag with a value."""
    metavar: str = ""
    short: str | None = None
    optional_value: bool = False
    """A flag whose value may be left out (``--last-failed [REPORT]``): then the text is ""."""
    negative: str | None = None
    """The ``off`` flag of a pair when it is not ``--no-<flag>`` (``--hide-passed``)."""

    @property
    def env(self) -> str:
        """The environment variable: ``REPLYGUARD_`` and the name in capitals."""
        return "REPLYGUARD_" + self.name.upper()

    @property
    def negative_flag(self) -> str:
        """``--no-allow-writes`` for ``--allow-writes``."""
        return self.negative or "--no-" + self.flag.removeprefix("--")

    def from_text(self, text: str, origin: str) -> Any:
        """Parse a flag's or a variable's text; ``origin`` names it in the error."""
        try:
            return self.parse(text)
        except ValueError as exc:
            raise ConfigError(f"{origin}: {exc}") from None


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "target",
        "--target",
        _path,
        None,
        metavar="FILE",
        help="Target profile (TOML or JSON). Default: ./replyguard.toml or one in a "
        "parent folder up to the repository root, else the embedded reference.",
    ),
    OptionSpec(
        "allow_writes",
        "--allow-writes",
        _bool,
        False,
        profile="safety.allow_writes",
        boolean=True,
        help="May the run create assistants. With --no-allow-writes, create-assistant "
        "only gets payloads that must be rejected, whatever the profile says.",
    ),
    OptionSpec(
        "max_requests",
        "--max-requests",
        _count,
        None,
        profile="safety.max_requests",
        metavar="N",
        help="Cap on the run's requests, 0 = none (default: the "
        f"profile's, else {DEFAULT_MAX_REQUESTS}).",
    ),
    OptionSpec(
        "max_billed_calls",
        "--max-billed-calls",
        _count,
        None,
        profile="safety.max_billed_calls",
        metavar="N",
        help="Cap on generate-reply calls that can be billed (can answer 200); default "
        f"{DEFAULT_MAX_BILLED_CALLS} on a non-exhaustive target, none on an exhaustive one.",
    ),
    OptionSpec(
        "strict",
        "--strict",
        _bool,
        False,
        profile="strict",
        boolean=True,
        help="Enforce the contract's own decisions where the documents are silent: "
        "an observation that disagrees fails its silent.* rule.",
    ),
    OptionSpec(
        "rules",
        "--rules",
        _text,
        None,
        metavar="GLOBS",
        help="Only rules matching these comma-separated globs, e.g. 'ratelimit.*'.",
    ),
    OptionSpec(
        "keyword",
        "-k",
        _text,
        None,
        metavar="EXPR",
        help="Only tests matching this pytest -k expression.",
    ),
    OptionSpec(
        "report_json",
        "--report-json",
        _path,
        None,
        metavar="FILE",
        help="Write the report (every rule's verdict, the observations) as JSON here.",
    ),
    OptionSpec(
        "junit_xml",
        "--junit-xml",
        _path,
        None,
        metavar="FILE",
        help="Write one JUnit test case per rule here.",
    ),
    OptionSpec(
        "format",
        "--format",
        _format,
        "auto",
        metavar="|".join(FORMATS),
        help="auto: a table on a terminal, one line per rule that did not pass when "
        "piped; json: the report on stdout.",
    ),
    OptionSpec(
        "show_passed",
        "--show-passed",
        _bool,
        True,
        boolean=True,
        negative="--hide-passed",
        help="List passing rules in the table.",
    ),
    OptionSpec(
        "plan",
        "--plan",
        _bool,
        None,
        boolean=True,
        help="--plan prints what the run will send (rehearsed against an embedded "
        "reference shaped like the target) and sends nothing; --no-plan skips the "
        "rehearsal a non-exhaustive target gets before its first request.",
    ),
    OptionSpec(
        "reference_window",
        "--reference-window",
        _seconds,
        REFERENCE_WINDOW,
        metavar="SECONDS",
        help="Rate-limit window of the embedded reference (it proves the rate-limit "
        "rules in seconds).",
    ),
    # The regression gate (replyguard.gate): read before the run, applied to its report.
    OptionSpec(
        "baseline",
        "--baseline",
        _path,
        None,
        profile="baseline",
        metavar="FILE",
        help="An earlier --report-json to compare with: a new failure, or a rule no "
        "longer tested, fails the run (a profile path is read beside the profile).",
    ),
    OptionSpec(
        "known_deviations",
        "--known-deviations",
        _path,
        None,
        profile="known_deviations",
        metavar="FILE",
        help="TOML list of accepted failures, each with a reason and an optional "
        "until date; an unknown rule id is a usage error.",
    ),
    OptionSpec(
        "fail_on_drift",
        "--fail-on-drift",
        _bool,
        False,
        boolean=True,
        help="Fail when an observation in the documents' silent zones changed since the baseline.",
    ),
    OptionSpec(
        "last_failed",
        "--last-failed",
        _report_or_last,
        None,
        metavar="[REPORT]",
        optional_value=True,
        help="Run only the tests of the rules that failed or erred in REPORT (default: "
        "the last report written in this directory, .replyguard/last-report.json).",
    ),
    OptionSpec(
        "report_html",
        "--report-html",
        _path,
        None,
        metavar="FILE",
        help="Write a self-contained HTML report here.",
    ),
    OptionSpec(
        "report_md",
        "--report-md",
        _path,
        None,
        metavar="FILE",
        help="Write a Markdown summary here; also appended to $GITHUB_STEP_SUMMARY "
        "when that is set.",
    ),
    # -- generated cases (issue 19) ---------------------------------------------------------
    OptionSpec(
        "seed",
        "--seed",
        _count,
        None,
        profile="seed",
        metavar="N",
        help="Seed of the generated cases (hypothesis, schemathesis); every report shows "
        "the run's. The same seed replays a run's generated cases exactly (default: a "
        "fresh one per run).",
    ),
)


def _fault_limit(text: str) -> str:
    # "12" (faults) or "10%" (of the requests sent); replyguard.config.bounds reads it.
    value = text.strip()
    number = value.removesuffix("%")
    try:
        parsed = float(number)
    except ValueError:
        raise ValueError(f"expected a count or a percentage like 10%, got {text!r}") from None
    if not math.isfinite(parsed) or parsed < 0 or (value.endswith("%") and parsed > 100):
        raise ValueError(f"expected a count or a percentage between 0% and 100%, got {text!r}")
    if not value.endswith("%") and not number.isdigit():
        raise ValueError(f"expected a whole number of faults or a percentage, got {text!r}")
    return value


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not 0.05 <= value <= 3600:
        raise ValueError(f"expected between 0.05 and 3600 seconds, got {text!r}")
    return value


def _run_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"expected a number of seconds ≥ 0 (0: no limit), got {text!r}")
    return value


#: Transport faults and bounds (issue 20): the network's share of a run, read by
#: ``replyguard.config.bounds``.
TRANSPORT_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "connect_timeout",
        "--connect-timeout",
        _timeout,
        5.0,
        profile="transport.connect_timeout",
        metavar="SECONDS",
        help="Give up connecting after this long (the request is then retried: it cannot "
        "have reached the API).",
    ),
    OptionSpec(
        "read_timeout",
        "--read-timeout",
        _timeout,
        30.0,
        profile="transport.read_timeout",
        metavar="SECONDS",
        help="Give up waiting for an answer after this long: a transport fault, and the "
        "rule it was judging is not tested.",
    ),
    OptionSpec(
        "max_transport_faults",
        "--max-transport-faults",
        _fault_limit,
        "10%",
        profile="transport.max_faults",
        metavar="N|P%",
        help="Stop the run (exit 2) after more transport faults than this: a count, or a "
        "share of the requests sent; never before 5.",
    ),
    OptionSpec(
        "max_seconds",
        "--max-seconds",
        _run_seconds,
        3600.0,
        profile="safety.max_seconds",
        metavar="SECONDS",
        help="Stop the run after this long and write the report so far, marked partial "
        "(0: no limit).",
    ),
)
OPTIONS = OPTIONS + TRANSPORT_OPTIONS

_BY_NAME = {spec.name: spec for spec in OPTIONS}


def option(name: str) -> OptionSpec:
    """The spec of one option by name."""
    return _BY_NAME[name]
