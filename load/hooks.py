"""Wiring the suite into locust's events: options, targets, judging and the exit code.

On the master or the single local process: resolve the target (``--target``, or embedded
reference servers started here and stopped at quit), judge at ``test_stop`` once every
worker's last batch is in, print the verdict and set the exit code at ``quitting``.
Workers only record and forward (``load.distributed``). The verdict is never a request in
locust's statistics: locust's totals count only the requests the users sent.
"""

from __future__ import annotations

import atexit
import csv
import json
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
from load.judge import CUT, NO_ANSWER, Verdict
from load.options import add_options, scenario_classes, web_ui_exposure
from load.result import INCONCLUSIVE, exit_code, is_inconclusive, result_of
from load.runtime import (
    STATE,
    THROUGHPUT_LIMIT,
    TargetInfo,
    TargetRefused,
    checked_target,
    scenario_roles,
)
from replyguard.config import ConfigError, read_choices
from replyguard.exit_codes import ExitCode
from replyguard.profile import ProfileError
from replyguard.reference.launch import ReferenceStartError, running_reference
from replyguard.spec import rate_limit

__all__ = ["install"]

log = logging.getLogger("replyguard.load")
LIVE_INTERVAL = 2.0
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
    sys.exit(int(ExitCode.COULD_NOT_JUDGE))


def _on_init(environment: Environment, runner: Any, **_: Any) -> None:
    if isinstance(runner, WorkerRunner):
        distributed.install_worker(environment, runner)
        return
    options = _options(environment)
    exposed = web_ui_exposure(options)
    if exposed:
        _refuse(f"replyguard: {exposed}")
    try:
        _select_scenario(environment)
    except ValueError as exc:
        _refuse(f"replyguard: {exc}")
    STATE.budget.limit = max(1, int(options.replyguard_max_requests))
    STATE.min_efficiency = float(options.replyguard_min_efficiency)
    try:
        STATE.targets = _resolve_targets(environment)
    except (ProfileError, ConfigError, TargetRefused, ReferenceStartError) as exc:
        _refuse(str(exc) if isinstance(exc, TargetRefused) else f"replyguard: {exc}")
    # Custom attributes of parsed_options travel to workers with every spawn message.
    options.replyguard_targets = STATE.targets_as_data()
    _set_roles(environment, _may_run(environment))
    main = STATE.targets.get("rate-limit") or STATE.targets.get("throughput")
    if main is not None:
        # The web UI's Host field and header show the target (and warn of no missing host).
        environment.host = main.base_url
    for name, info in STATE.targets.items():
        log.info(
            "replyguard: %s target %s (limit %d per %gs)",
            name,
            info.base_url,
            info.limit,
            info.window,
        )
    if isinstance(runner, MasterRunner):
        distributed.install_master(environment, runner)
    webui.install(environment)


def _set_roles(environment: Environment, scenarios: set[str]) -> None:
    STATE.roles = scenario_roles(scenarios, STATE.targets.get("rate-limit"))
    _options(environment).replyguard_roles = {k: list(v) for k, v in STATE.roles.items()}


def _select_scenario(environment: Environment) -> None:
    """Without User classes named, run ``--scenario`` (default: conformance and isolation)."""
    options = _options(environment)
    wanted = scenario_classes(options.scenario)
    if options.user_classes or options.class_picker:
        return
    chosen = [c for c in environment.user_classes if c.__name__ in wanted]
    if chosen:
        environment.user_classes = chosen


def _may_run(environment: Environment) -> set[str]:
    options = _options(environment)
    classes = (
        (environment.available_user_classes or {}).values()
        if options.class_picker
        else environment.user_classes
    )
    return {getattr(c, "scenario", "") for c in classes} - {""}


def _resolve_targets(environment: Environment) -> dict[str, TargetInfo]:
    options = _options(environment)
    allow = bool(options.replyguard_allow_remote)
    scenarios = _may_run(environment)
    targets: dict[str, TargetInfo] = {}
    # As `replyguard check`: --target / REPLYGUARD_TARGET, else a replyguard.toml up to the
    # repository root, else an embedded reference.
    profile = options.target or str(read_choices({}).profile or "")
    if profile:
        targets["rate-limit"] = checked_target(profile, allow)
    elif scenarios - {"throughput"}:
        targets["rate-limit"] = _embedded(
            int(options.replyguard_limit), int(options.replyguard_window)
        )
    if "throughput" in scenarios:
        if options.throughput_target:
            targets["throughput"] = checked_target(options.throughput_target, allow)
        elif profile:
            targets["throughput"] = targets["rate-limit"]
        else:
            targets["throughput"] = _embedded(THROUGHPUT_LIMIT, rate_limit().window_seconds)
    return targets


def _embedded(limit: int, window: int) -> TargetInfo:
    if not _cleanup:  # first server: make sure it dies with us
        _cleanup.append(True)
        atexit.register(STATE.stack.close)
    started = time.monotonic()
    ref = STATE.stack.enter_context(running_reference(limit=limit, window=max(1, window)))
    log.info(
        "replyguard: embedded reference server at %s started in %.1fs",
        ref.base_url,
        time.monotonic() - started,
    )
    return checked_target(str(ref.profile_path), allow_remote=False)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    STATE.start_run()
    STATE.scenarios = {getattr(c, "scenario", "") for c in environment.user_classes} - {""}
    _set_roles(environment, STATE.scenarios)
    main = STATE.targets.get("rate-limit")
    if (
        environment.host
        and main is not None
        and environment.host.rstrip("/") != main.base_url.rstrip("/")
    ):
        log.warning(
            "replyguard: the Host field (%s) is not used; the users send to the "
            "target %s (--target)",
            environment.host,
            main.base_url,
        )
    rate = STATE.scenarios - {"throughput"}
    if "fingerprint" in rate and len(rate) > 1:
        log.warning(
            "replyguard: the fingerprint shares the primary token with %s; run it "
            "alone (--scenario fingerprint) for a clean measurement",
            ", ".join(sorted(rate - {"fingerprint"})),
        )
    elif len(rate) > 1 and rate != {"conformance", "isolation"}:
        log.warning(
            "replyguard: scenarios %s share tokens; each token is judged over all of "
            "them, the efficiency ratio is skipped",
            ", ".join(sorted(STATE.scenarios)),
        )
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
    STATE.verdict = STATE.judge()
    if not getattr(_options(environment), "headless", False):
        for line in final_lines(environment):  # headless runs print it once, at quit
            log.info(line)


def final_lines(environment: Environment) -> list[str]:
    """The final block: the verdict, the fingerprint table and the request totals."""
    verdict = STATE.verdict
    assert verdict is not None
    lines = _relabelled(verdict)
    target = STATE.targets.get("rate-limit")
    if target is not None:
        lines.insert(1, f"  limit: {target.limit} per {target.window:g} s (judged per token)")
    if result_of(verdict) == INCONCLUSIVE:
        rows = webui.verdict_rows(verdict, final=True, users=webui.users_of(environment))
        lines.append(f"  {rows[0]['detail']}")
    if STATE.fingerprint is not None:
        lines += STATE.fingerprint.lines()
    obs = STATE.recorder.observations
    sent = len(obs)
    counted = environment.stats.total.num_requests if environment.stats else sent
    served = sum(1 for o in obs if o.status == 200)
    cut = sum(1 for o in obs if o.status == CUT)
    lost = sum(1 for o in obs if o.status == NO_ANSWER)
    lines.append(
        f"replyguard: {sent} requests sent; locust counted {counted} "
        f"({served} answered 200, {cut} cut off at stop, {lost} without an answer)"
    )
    return [STATE.mask(line) for line in lines]


def _relabelled(verdict: Verdict) -> list[str]:
    """The judge's lines, with the head saying PASS / FAIL / INCONCLUSIVE.

    The judge counts "inconclusive: …" among its violations; a run that could not judge is
    not a broken API (issue 20), so those lines say INCONCLUSIVE.
    """
    lines = list(verdict.lines())
    head = f"replyguard verdict: {result_of(verdict)} ({verdict.observations} requests judged)"
    out = [head, *lines[1:]]
    for i, line in enumerate(out):
        kind = line.strip().removeprefix("VIOLATION ").split(":", 1)[0]
        if line.strip().startswith("VIOLATION ") and is_inconclusive(kind):
            out[i] = line.replace(f"VIOLATION {kind}", f"{INCONCLUSIVE} {kind}", 1).replace(
                f"{INCONCLUSIVE} inconclusive: ", f"{INCONCLUSIVE} ", 1
            )
    return out


def _write_csv(path: Path, verdict: Verdict, environment: Environment) -> None:
    """The verdict beside locust's CSV files (locust's own are written by a timer)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Item", "Result", "Detail"])
        for row in webui.verdict_rows(verdict, final=True, users=webui.users_of(environment)):
            writer.writerow([row["item"], row["result"], row["detail"]])


def report(environment: Environment) -> dict[str, Any]:
    """The run's JSON report: verdict, fingerprint and totals (masked)."""
    verdict = STATE.verdict
    body = {
        "verdict": None if verdict is None else verdict.to_dict(),
        "result": None if verdict is None else result_of(verdict),
        "fingerprint": None if STATE.fingerprint is None else STATE.fingerprint.to_dict(),
        "scenarios": sorted(STATE.scenarios),
        "targets": {
            name: {"base_url": t.base_url, "limit": t.limit, "window": t.window}
            for name, t in STATE.targets.items()
        },
        "requests": {
            "sent": len(STATE.recorder.observations),
            "locust": environment.stats.total.num_requests if environment.stats else None,
        },
    }
    result: dict[str, Any] = json.loads(STATE.mask(json.dumps(body)))
    return result


def _on_quitting(environment: Environment, **_: Any) -> None:
    try:
        if isinstance(environment.runner, WorkerRunner):
            return
        verdict = STATE.verdict
        if verdict is None:
            return
        print("\n".join(final_lines(environment)), file=sys.stderr, flush=True)
        options = _options(environment)
        prefix = getattr(options, "csv_prefix", None)
        if prefix:
            _write_csv(Path(f"{prefix}_replyguard.csv"), verdict, environment)
        if options.replyguard_report_json:
            path = Path(options.replyguard_report_json)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report(environment), indent=2), encoding="utf-8")
        environment.process_exit_code = int(exit_code(verdict))
    finally:
        STATE.stack.close()
