"""The ``replyguard`` command: thin, it parses options and calls library functions.

Every option is also a ``REPLYGUARD_*`` environment variable, and the target-related ones are
keys of the target profile. Precedence, once for all: flag > environment variable > profile
key > documented default.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from replyguard import checking

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replyguard")
def main() -> None:
    """Contract and load tests for the Intellixent / Autocalls / Famulor AI Assistant API."""


@main.command()
@click.option("--target", "target", type=click.Path(dir_okay=False, path_type=Path),
              envvar="REPLYGUARD_TARGET", show_envvar=True,
              help="Target profile (TOML or JSON). Default: start the embedded reference server.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path),
              envvar="REPLYGUARD_REPORT_JSON", show_envvar=True,
              help="Write every rule's verdict as JSON here.")
@click.option("--junit-xml", type=click.Path(dir_okay=False, path_type=Path),
              envvar="REPLYGUARD_JUNIT_XML", show_envvar=True,
              help="Write one JUnit test case per rule here.")
@click.option("--max-requests", type=click.IntRange(min=0), envvar="REPLYGUARD_MAX_REQUESTS",
              show_envvar=True, help="Cap on the run's requests (profile: safety.max_requests).")
@click.option("--allow-writes/--no-allow-writes", default=None,
              envvar="REPLYGUARD_ALLOW_WRITES", show_envvar=True,
              help="May the run create assistants (profile: safety.allow_writes).")
@click.option("-k", "keyword", metavar="EXPR", envvar="REPLYGUARD_KEYWORD",
              help="Only run tests matching this pytest -k expression.")
@click.option("--rules", metavar="GLOBS", envvar="REPLYGUARD_RULES", show_envvar=True,
              help="Only rules matching these comma-separated globs, e.g. 'ratelimit.*'.")
@click.option("--show-passed/--hide-passed", default=True, envvar="REPLYGUARD_SHOW_PASSED",
              help="List passing rules in the table.")
def check(target: Path | None, report_json: Path | None, junit_xml: Path | None,
          max_requests: int | None, allow_writes: bool | None, keyword: str | None,
          rules: str | None, show_passed: bool) -> None:
    """Run the contract suite against a target and print one verdict per rule."""
    options = checking.CheckOptions(
        target=target, report_json=report_json, junit_xml=junit_xml,
        max_requests=max_requests, allow_writes=allow_writes, keyword=keyword,
        rules=rules, show_passed=show_passed)
    sys.exit(checking.run_check(options))


@main.command(add_help_option=False,
              context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Start the reference server, the embedded default target (see `replyguard serve -h`)."""
    # The reference server owns its flags (it must not import harness code), so they are
    # forwarded untouched, --help included.
    from replyguard.reference.__main__ import main as serve_main

    serve_main(ctx.args)


@main.command()
@click.option("--faults", metavar="GLOBS", envvar="REPLYGUARD_SELFTEST_FAULTS", show_envvar=True,
              help="Only these faults (comma-separated globs, e.g. 'ratelimit.*'). "
                   "Default: every fault, unless --variants is given.")
@click.option("--variants", metavar="GLOBS", envvar="REPLYGUARD_SELFTEST_VARIANTS",
              show_envvar=True,
              help="Only these correct variants. Default: every variant, unless --faults is "
                   "given.")
@click.option("--sample", is_flag=True, envvar="REPLYGUARD_SELFTEST_SAMPLE", show_envvar=True,
              help="The fixed CI sample of faults, and every variant.")
@click.option("--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              envvar="REPLYGUARD_SELFTEST_JOBS", show_envvar=True,
              help="Fault runs at a time; variant runs (mostly waiting on the rate-limit "
                   "pacing) run beside them, as many at a time.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path),
              envvar="REPLYGUARD_SELFTEST_REPORT_JSON", show_envvar=True,
              help="Write every case's verdict and the figures as JSON here.")
def selftest(faults: str | None, variants: str | None, sample: bool, jobs: int,
             report_json: Path | None) -> None:
    """Score the suite: run it against every fault and correct variant of the reference."""
    from replyguard.selftest import SelftestOptions, run_selftest

    options = SelftestOptions(faults=faults, variants=variants, sample=sample, jobs=jobs,
                              report_json=report_json)
    sys.exit(run_selftest(options))


if __name__ == "__main__":
    main()
