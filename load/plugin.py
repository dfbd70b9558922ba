"""Wiring the suite into locust's events: options, targets, judging and the exit code.

On the master or the single local process: resolve the target (``--target``, or embedded
reference servers started here and stopped at quit), judge at ``test_stop`` once every
worker's last batch is in, print the verdict and set the exit code at ``quitting``.
Workers only record and forward (``load.distributed``).
"""

from __future__ import annotations

import atexit
import csv
import logging
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.event import Events
from locust.runners import MasterRunner, WorkerRunner

from load import distributed, webui
from load.judge import Verdict
from load.options import SCENARIOS, add_options
from load.runtime import STATE, THROUGHPUT_LIMIT, TargetInfo, TargetRefused, checked_target
from replyguard.reference.launch import ReferenceStartError, running_reference
from replyguard.target import ProfileError

__all__ = ["install"]

log = logging.getLogger("replyguard.load")
LIVE_INTERVAL = 2.0
MAX_EVENTS_PER_KIND = 1000
_live: list[gevent.Greenlet] = []
_cleanup: list[bool] = []


def _options(environment: Environment) -> Any:
    """locust's parsed options (always set when locust runs a locustfile)."""
    assert environment.parsed_options is not None
    return environment.parsed_options


def install(events: Events) -> None:
    """Register every listener of the suite on locust's module-level events."""
    # httpx logs every request at INFO: thousands of lines that drown the verdict.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    events.init_command_line_parser.add_listener(add_options)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quitting)


def _refuse(message: str) -> None:
    print(STATE.mask(message), file=sys.stderr, flush=True)
    STATE.stack.close()
    sys.exit(2)


def _on_init(environment: Environment, runner: Any, **_: Any) -> None:
    if isinstance(runner, WorkerRunner):
        distributed.install_worker(environment, runner)
        return
    options = _options(environment)
    _select_scenario(environment)
    STATE.budget.limit = max(1, int(options.replyguard_max_requests))
    STATE.min_efficiency = float(options.replyguard_min_efficiency)
    try:
        STATE.targets = _resolve_targets(environment)
    except (ProfileError, TargetRefused, ReferenceStartError) as exc:
        _refuse(str(exc) if isinstance(exc, TargetRefused) else f"replyguard: {exc}")
    # Custom attributes of parsed_options travel to workers with every spawn message.
    options.replyguard_targets = STATE.targets_as_data()
    for name, info in STATE.targets.items():
        log.info("replyguard: %s target %s (limit %d per %gs)", name, info.base_url,
                 info.limit, info.window)
    if isinstance(runner, MasterRunner):
        distributed.install_master(environment, runner)
    webui.install(environment)


def _select_scenario(environment: Environment) -> None:
    """Without User classes named, run only ``--scenario`` (mixing them muddles the verdict)."""
    options = _options(environment)
    if options.user_classes or options.class_picker:
        return
    wanted = SCENARIOS[options.scenario]
    chosen = [c for c in environment.user_classes if c.__name__ == wanted]
    if chosen:
        environment.user_classes = chosen


def _may_run(environment: Environment) -> set[str]:
    options = _options(environment)
    classes = (environment.available_user_classes or {}).values() if options.class_picker \
        else environment.user_classes
    return {getattr(c, "scenario", "") for c in classes}


def _resolve_targets(environment: Environment) -> dict[str, TargetInfo]:
    options = _options(environment)
    allow = bool(options.replyguard_allow_remote)
    scenarios = _may_run(environment)
    targets: dict[str, TargetInfo] = {}
    if options.target:
        targets["rate-limit"] = checked_target(options.target, allow)
    elif scenarios - {"throughput"}:
        targets["rate-limit"] = _embedded(int(options.replyguard_limit),
                                          int(options.replyguard_window))
    if "throughput" in scenarios:
        if options.throughput_target:
            targets["throughput"] = checked_target(options.throughput_target, allow)
        elif options.target:
            targets["throughput"] = targets["rate-limit"]
        else:
            targets["throughput"] = _embedded(THROUGHPUT_LIMIT, 60)
    return targets


def _embedded(limit: int, window: int) -> TargetInfo:
    if not _cleanup:  # first server: make sure it dies with us
        _cleanup.append(True)
        atexit.register(STATE.stack.close)
    started = time.monotonic()
    ref = STATE.stack.enter_context(running_reference(limit=limit, window=max(1, window)))
    log.info("replyguard: embedded reference server at %s started in %.1fs", ref.base_url,
             time.monotonic() - started)
    return checked_target(str(ref.profile_path), allow_remote=False)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    STATE.start_run()
    STATE.scenarios = {getattr(c, "scenario", "") for c in environment.user_classes} - {""}
    if len(STATE.scenarios - {"throughput"}) > 1:
        log.warning("replyguard: scenarios %s share tokens; each token is judged over all of "
                    "them, the efficiency ratio is skipped", ", ".join(sorted(STATE.scenarios)))
    _live.append(gevent.spawn(_live_loop, environment))


def _live_loop(environment: Environment) -> None:
    """Judge the data old enough to be complete, every LIVE_INTERVAL, for the web UI."""
    window = max((t.window for t in STATE.targets.values()), default=1.0)
    margin = min(window, 60.0) + (2.0 if isinstance(environment.runner, MasterRunner) else 1.0)
    for _ in range(int(24 * 3600 / LIVE_INTERVAL)):
        gevent.sleep(LIVE_INTERVAL)
        horizon = time.time() - margin
        old = [o for o in STATE.recorder.observations if o.received < horizon]
        if old:
            STATE.live = STATE.judge(old)


def _on_test_stop(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or not STATE.scenarios:
        return
    while _live:
        _live.pop().kill(block=False)
    if isinstance(runner, MasterRunner):
        distributed.wait_for_workers(runner)
    STATE.scenarios |= {o.scenario for o in STATE.recorder.observations}
    verdict = STATE.judge()
    STATE.verdict = verdict
    _fire_verdict(environment)
    for line in verdict.lines():
        log.info(STATE.mask(line))


def _fire_verdict(environment: Environment) -> None:
    """Put the verdict into locust's statistics (web UI table, CSV, HTML report)."""
    verdict = STATE.verdict
    assert verdict is not None
    fire = environment.events.request.fire
    if verdict.passed:
        fire(request_type="VERDICT", name="replyguard: all checks passed", response_time=0,
             response_length=0, exception=None, context={})
    for kind, count in verdict.counts.items():
        error = RuntimeError(STATE.mask(verdict.examples[kind]))
        for _ in range(min(count, MAX_EVENTS_PER_KIND)):
            fire(request_type="VERDICT", name=f"replyguard: {kind}", response_time=0,
                 response_length=0, exception=error, context={})


def _write_csv(path: Path, verdict: Verdict) -> None:
    """The verdict beside locust's CSV files (locust's own are written by a timer)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Check", "Count", "Example"])
        for row in webui.verdict_rows(verdict, final=True):
            writer.writerow([row["check"], row["count"], row["example"]])


def _on_quitting(environment: Environment, **_: Any) -> None:
    try:
        if isinstance(environment.runner, WorkerRunner):
            return
        verdict = STATE.verdict
        if verdict is None:
            return
        print("\n".join(STATE.mask(line) for line in verdict.lines()), file=sys.stderr,
              flush=True)
        prefix = getattr(_options(environment), "csv_prefix", None)
        if prefix:
            _write_csv(Path(f"{prefix}_replyguard.csv"), verdict)
        environment.process_exit_code = 0 if verdict.passed else 1
    finally:
        STATE.stack.close()
