"""The load suite's command-line options and the loopback guard.

Each option is a flag, a ``REPLYGUARD_*`` environment variable and a key of a locust config
file (locust reads custom arguments from ``locust.conf`` / ``--config`` like its own). The
precedence is locust's: command line, then environment, then config file, then the default.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from replyguard.spec import rate_limit

__all__ = [
    "DEFAULT_SCENARIOS",
    "SCENARIOS",
    "WEB_HOST",
    "add_options",
    "is_loopback",
    "scenario_classes",
    "web_ui_exposure",
]

#: ``--scenario`` value -> User class name (the class name also works on the command line).
SCENARIOS = {
    "conformance": "RateLimitConformance",
    "isolation": "TokenIsolation",
    "well-behaved": "WellBehavedClient",
    "throughput": "Throughput",
    "fingerprint": "RateLimitFingerprint",
    "soak": "Soak",
}
#: Without a class or --scenario named: the whole documented limit (count, 429 body,
#: retry_after, recovery, per-token isolation) in one run, each scenario on its own token.
DEFAULT_SCENARIOS = "conformance,isolation"
#: The embedded reference's window for a load run: short, so a run of seconds sees many
#: windows; long enough that a loaded 2-core machine keeps the limit exact.
EMBEDDED_WINDOW = 2

#: Where the web UI listens unless --web-host says otherwise: it holds the profile's tokens,
#: and whoever reaches it can start a swarm against a billed API (locust's own default is
#: every interface).
WEB_HOST = "127.0.0.1"


def scenario_classes(value: str) -> list[str]:
    """User class names for a ``--scenario`` value (comma-separated scenario names)."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        named = ", ".join(unknown) if unknown else repr(value)
        raise ValueError(
            f"unknown scenario {named}; choose from "
            f"{', '.join(sorted(SCENARIOS))} (comma-separated)"
        )
    return [SCENARIOS[n] for n in names]


def add_options(parser: Any) -> None:
    """Register the options on locust's parser (``events.init_command_line_parser``)."""
    # A default, so --web-host, LOCUST_WEB_HOST and a config file's web-host still win.
    parser.set_defaults(web_host=WEB_HOST)
    # Locust's own add_argument (argument groups lack include_in_web_ui).
    parser.add_argument(
        "--target",
        default="",
        env_var="REPLYGUARD_TARGET",
        include_in_web_ui=False,
        help="target profile (TOML/JSON); default: start an embedded reference server",
    )
    parser.add_argument(
        "--throughput-target",
        default="",
        env_var="REPLYGUARD_THROUGHPUT_TARGET",
        include_in_web_ui=False,
        help="profile with a raised rate limit for the Throughput scenario (default: --target,"
        " or a second embedded server with a limit of 100000000)",
    )
    parser.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIOS,
        env_var="REPLYGUARD_SCENARIO",
        include_in_web_ui=False,
        help="scenario(s) to run when no User class is named, comma-separated: "
        f"{', '.join(SCENARIOS)} (default: {DEFAULT_SCENARIOS})",
    )
    parser.add_argument(
        "--replyguard-max-requests",
        type=int,
        default=5000,
        env_var="REPLYGUARD_LOAD_MAX_REQUESTS",
        include_in_web_ui=False,
        help="hard bound on requests of the whole load run, split across workers (its own "
        "variable: REPLYGUARD_MAX_REQUESTS is the contract suite's budget)",
    )
    parser.add_argument(
        "--replyguard-allow-remote",
        action="store_true",
        default=False,
        env_var="REPLYGUARD_ALLOW_REMOTE",
        include_in_web_ui=False,
        help="allow a target that is not on loopback (refused by default)",
    )
    parser.add_argument(
        "--replyguard-open-web-ui",
        action="store_true",
        default=False,
        env_var="REPLYGUARD_OPEN_WEB_UI",
        include_in_web_ui=False,
        help="let the web UI listen on a non-loopback --web-host without --web-login "
        "(anyone who reaches it can start a swarm with the profile's tokens)",
    )
    parser.add_argument(
        "--replyguard-window",
        type=int,
        default=EMBEDDED_WINDOW,
        env_var="REPLYGUARD_LOAD_WINDOW",
        include_in_web_ui=False,
        help=f"window in seconds of the embedded reference server (default {EMBEDDED_WINDOW})",
    )
    parser.add_argument(
        "--replyguard-limit",
        type=int,
        default=rate_limit().limit,
        env_var="REPLYGUARD_LOAD_LIMIT",
        include_in_web_ui=False,
        help="limit per window of the embedded reference server (default: the documented "
        f"{rate_limit().limit})",
    )
    parser.add_argument(
        "--replyguard-min-efficiency",
        type=float,
        default=0.6,
        env_var="REPLYGUARD_MIN_EFFICIENCY",
        include_in_web_ui=False,
        help="well-behaved scenario: lowest served/ideal ratio that passes",
    )
    parser.add_argument(
        "--replyguard-report-json",
        default="",
        env_var="REPLYGUARD_LOAD_REPORT_JSON",
        include_in_web_ui=False,
        help="write the verdict and the rate-limit fingerprint to this JSON file",
    )


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine: 127.0.0.0/8, ::1 or localhost."""
    host = urlsplit(url).hostname or ""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def web_ui_exposure(options: Any) -> str | None:
    """Why the web UI may not start as asked (another address, no login, no opt-in), or None."""
    if getattr(options, "headless", False) or getattr(options, "worker", False):
        return None
    host = str(getattr(options, "web_host", WEB_HOST) or "")
    netloc = f"[{host}]" if ":" in host else host
    if host not in ("", "*") and is_loopback(f"http://{netloc}/"):
        return None
    if getattr(options, "web_login", False) or getattr(options, "replyguard_open_web_ui", False):
        return None
    where = "every interface" if host in ("", "*") else host
    return (
        f"the web UI would listen on {where} without a login: it holds the profile's tokens "
        "and starts swarms against the target; add --web-login (locust's login page), or "
        "--replyguard-open-web-ui if every machine that can reach it may (load/README.md)"
    )
