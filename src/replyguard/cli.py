"""The ``replyguard`` command: thin, it parses options, builds a config and calls the library.

``check``'s options come from one table (``replyguard.config.options``): every one is a flag,
a ``REPLYGUARD_*`` variable and, where it concerns the target, a profile key. Precedence, once
for all: flag > variable > profile key > default. Heavy imports (pytest, the server) wait until
a command runs, so ``replyguard serve`` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from replyguard.config.options import OPTIONS, OptionSpec
from replyguard.exit_codes import ExitCode
from replyguard.gate.cli import diff as gate_diff
from replyguard.reference.config import DEFAULT_LIMIT, DEFAULT_WINDOW
from replyguard.reference.seed import POOL_TOKENS

__all__ = ["main"]

_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _fail(message: str) -> None:
    # One unwrapped line on stderr, whatever the terminal width.
    click.echo(f"replyguard: {message}", err=True)
    sys.exit(ExitCode.COULD_NOT_JUDGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="replyguard")
def main() -> None:
    """Contract and load tests for the Intellixent / Autocalls / Famulor AI Assistant API."""


def _run_option(spec: OptionSpec) -> _Decorator:
    # click reads the text only; the resolver parses flag and variable with one function, so
    # both get the same error, and applies the profile and the default.
    default = "" if spec.default is None else f" [default: {spec.default}]"
    if spec.profile:
        default += f" [profile: {spec.profile}]"
    help_text = f"{spec.help}{default} [env: {spec.env}]"
    if spec.boolean:
        return click.option(
            f"{spec.flag}/{spec.negative_flag}", spec.name, default=None, help=help_text
        )
    names = [spec.flag] if spec.short is None else [spec.short, spec.flag]
    if spec.optional_value:
        return click.option(
            *names,
            spec.name,
            type=str,
            default=None,
            is_flag=False,
            flag_value="",
            metavar=spec.metavar,
            help=help_text,
        )
    return click.option(
        *names, spec.name, type=str, default=None, metavar=spec.metavar, help=help_text
    )


def _run_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for spec in reversed(OPTIONS):
        function = _run_option(spec)(function)
    return function


@main.command()
@_run_options
def check(**flags: Any) -> None:
    """Run the contract suite against a target and print one verdict per rule.

    Exit codes: 0 every tested rule passed; 1 a documented rule failed; 2 usage, profile or
    target error, or replyguard could not judge (its own errors only).
    """
    from replyguard.config import ConfigError, read_choices
    from replyguard.engine.check import run_check

    try:
        choices = read_choices(flags)
    except ConfigError as exc:
        _fail(str(exc))
    sys.exit(run_check(choices))


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="REPLYGUARD_HOST",
    show_envvar=True,
    help="Address to bind (keep it on loopback for load tests).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    envvar="REPLYGUARD_PORT",
    show_envvar=True,
    help="Port; 0 picks a free one.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    envvar="REPLYGUARD_LIMIT",
    show_envvar=True,
    help="generate-reply calls per window and token (the default is the documented limit).",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=DEFAULT_WINDOW,
    show_default=True,
    envvar="REPLYGUARD_WINDOW",
    show_envvar=True,
    help="Rate-limit window in seconds (the default is the documented window).",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="REPLYGUARD_DB",
    show_envvar=True,
    help="SQLite file of the server's state. Default: reference.sqlite3 in "
    "$REPLYGUARD_STATE_DIR, else ~/.local/state/replyguard.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="REPLYGUARD_WORKERS",
    show_envvar=True,
    help="uvicorn worker processes (the rate limit stays exact across them).",
)
@click.option(
    "--profile-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="REPLYGUARD_PROFILE_OUT",
    show_envvar=True,
    help="Write the target profile for this server here once it is ready.",
)
@click.option(
    "--fault",
    metavar="NAME",
    default=None,
    envvar="REPLYGUARD_FAULT",
    show_envvar=True,
    help="Inject a deliberate bug (see --list-faults).",
)
@click.option(
    "--variant",
    metavar="NAME",
    default=None,
    envvar="REPLYGUARD_VARIANT",
    show_envvar=True,
    help="Serve a correct variant (see --list-variants).",
)
@click.option(
    "--pool",
    type=click.IntRange(0, POOL_TOKENS),
    default=0,
    show_default=True,
    envvar="REPLYGUARD_POOL",
    show_envvar=True,
    help="List this many more tokens of the primary's account as tokens.pool in the profile.",
)
@click.option("--list-faults", is_flag=True, help="List the faults and exit.")
@click.option("--list-variants", is_flag=True, help="List the correct variants and exit.")
def serve(
    host: str,
    port: int,
    limit: int,
    window: int,
    db: Path | None,
    workers: int,
    profile_out: Path | None,
    fault: str | None,
    variant: str | None,
    pool: int,
    list_faults: bool,
    list_variants: bool,
) -> None:
    """Start the reference server: the documented API on /api, the embedded default target."""
    from replyguard.reference.config import ServerConfig, default_db_path
    from replyguard.reference.registry import (
        UnknownBehaviour,
        behaviour_for,
        fault_lines,
        variant_lines,
    )
    from replyguard.reference.server import serve as serve_forever

    if list_faults or list_variants:
        click.echo("\n".join(fault_lines() if list_faults else variant_lines()))
        return
    try:
        behaviour_for(fault, variant)
    except UnknownBehaviour as exc:
        _fail(str(exc))
    serve_forever(
        ServerConfig(
            host=host,
            port=port,
            limit=limit,
            window=window,
            db_path=db if db is not None else default_db_path(),
            workers=workers,
            profile_out=profile_out,
            fault=fault,
            variant=variant,
            pool=pool,
        )
    )


@main.command()
@click.option(
    "--faults",
    metavar="GLOBS",
    envvar="REPLYGUARD_SELFTEST_FAULTS",
    show_envvar=True,
    help="Only these faults (comma-separated globs, e.g. 'ratelimit.*'). "
    "Default: every fault, unless --variants is given.",
)
@click.option(
    "--variants",
    metavar="GLOBS",
    envvar="REPLYGUARD_SELFTEST_VARIANTS",
    show_envvar=True,
    help="Only these correct variants. Default: every variant, unless --faults is given.",
)
@click.option(
    "--sample",
    is_flag=True,
    envvar="REPLYGUARD_SELFTEST_SAMPLE",
    show_envvar=True,
    help="The fixed CI sample of faults, and every variant.",
)
@click.option(
    "--mode",
    type=click.Choice(["both", "exhaustive", "paid"]),
    default="both",
    show_default=True,
    envvar="REPLYGUARD_SELFTEST_MODE",
    show_envvar=True,
    help="Judge each case as a free target (exhaustive), as a billed one (paid: "
    "exhaustive = false, allow_writes = true, the default caps), or both.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    envvar="REPLYGUARD_SELFTEST_JOBS",
    show_envvar=True,
    help="Fault runs at a time; variant runs (mostly waiting on the rate-limit "
    "pacing) run beside them, as many at a time.",
)
@click.option(
    "--report-json",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REPLYGUARD_SELFTEST_REPORT_JSON",
    show_envvar=True,
    help="Write every case's verdict and the figures as JSON here.",
)
def selftest(
    faults: str | None,
    variants: str | None,
    sample: bool,
    mode: str,
    jobs: int,
    report_json: Path | None,
) -> None:
    """Score the suite: run it against every fault and correct variant of the reference."""
    from replyguard.selftest import SelftestOptions, run_selftest

    options = SelftestOptions(
        faults=faults,
        variants=variants,
        sample=sample,
        jobs=jobs,
        report_json=report_json,
        mode=mode,
    )
    sys.exit(run_selftest(options))


# replyguard diff A.json B.json (the regression gate's, issue 12)
main.add_command(gate_diff)


if __name__ == "__main__":
    main()
