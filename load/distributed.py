"""Master/worker plumbing: workers batch their observations to the master, which judges.

Workers send ``replyguard_observations`` messages (at most :data:`BATCH` rows each) every
second and a final one when their users have stopped (``test_stop``). The master, before it
judges, asks every worker that has not sent its final batch to stop and flush
(``replyguard_flush``) and waits for them, bounded by :data:`FLUSH_TIMEOUT`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from load.judge import Observation
from load.probing import FINGERPRINT
from load.runtime import STATE
from replyguard.fingerprint import Probe

__all__ = ["install_master", "install_worker", "wait_for_workers"]

log = logging.getLogger("replyguard.load")
OBSERVATIONS = "replyguard_observations"
FLUSH = "replyguard_flush"
BATCH = 2000
SEND_INTERVAL = 1.0
FLUSH_TIMEOUT = 15.0

_totals: dict[str, tuple[int, int]] = {}
_sender: list[gevent.Greenlet] = []


def install_worker(environment: Environment, runner: WorkerRunner) -> None:
    """Register the worker's listeners and its flush handler."""
    runner.register_message(FLUSH, _on_flush)

    @environment.events.test_start.add_listener
    def _start(environment: Environment, **_: Any) -> None:
        options: Any = environment.parsed_options
        STATE.start_run()
        STATE.set_targets(getattr(options, "replyguard_targets", None) or {})
        STATE.roles = {
            k: tuple(v) for k, v in (getattr(options, "replyguard_roles", None) or {}).items()
        }
        workers = max(1, int(getattr(options, "expect_workers", 1) or 1))
        STATE.budget.limit = max(1, int(options.replyguard_max_requests) // workers)
        STATE.sent_final = False
        _sender.append(gevent.spawn(_send_loop, runner))

    @environment.events.test_stop.add_listener
    def _stop(environment: Environment, **_: Any) -> None:
        _send_final(runner)


def _send_loop(runner: WorkerRunner) -> None:
    deadline = time.monotonic() + 24 * 3600  # bounded like every loop of the suite
    while time.monotonic() < deadline:
        gevent.sleep(SEND_INTERVAL)
        _send(runner, final=False)


def _send(runner: WorkerRunner, *, final: bool) -> None:
    rows = [o.to_row() for o in STATE.recorder.take_unsent()]
    chunks = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)] or [[]]
    if not rows and not final:
        return
    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        runner.send_message(
            OBSERVATIONS,
            {
                "rows": chunk,
                "final": final and last,
                "gave_up": STATE.recorder.gave_up,
                "messages": STATE.recorder.messages,
            },
        )


def _send_final(runner: WorkerRunner) -> None:
    while _sender:
        _sender.pop().kill(block=False)
    if not STATE.sent_final:
        STATE.sent_final = True
        _send(runner, final=True)


def _on_flush(environment: Environment, msg: Any, **_: Any) -> None:
    runner = environment.runner
    assert isinstance(runner, WorkerRunner)
    if runner.state in (STATE_RUNNING, STATE_SPAWNING):
        runner.stop()  # fires test_stop, which sends the final batch
    _send_final(runner)


def install_master(environment: Environment, runner: MasterRunner) -> None:
    """Register the master's receiver of observation batches."""
    runner.register_message(OBSERVATIONS, _on_batch)
    runner.register_message(FINGERPRINT, _on_fingerprint)

    @environment.events.test_start.add_listener
    def _start(**_: Any) -> None:
        _totals.clear()


def _on_batch(environment: Environment, msg: Any, **_: Any) -> None:
    data = msg.data or {}
    for row in data.get("rows", []):
        STATE.recorder.add(Observation.from_row(row))
    node = str(msg.node_id)
    STATE.seen_workers.add(node)
    _totals[node] = (int(data.get("gave_up", 0)), int(data.get("messages", 0)))
    STATE.recorder.gave_up = sum(g for g, _ in _totals.values())
    STATE.recorder.messages = sum(m for _, m in _totals.values())
    if data.get("final"):
        STATE.finals.add(node)


def _on_fingerprint(environment: Environment, msg: Any, **_: Any) -> None:
    STATE.set_probes([Probe.from_dict(p) for p in (msg.data or {}).get("probes", [])])


def wait_for_workers(runner: MasterRunner) -> list[str]:
    """Ask workers for their last batch and wait for it; returns the workers that never sent."""
    expected = STATE.seen_workers | {str(c.id) for c in runner.clients.all}
    for client in runner.clients.all:
        if str(client.id) not in STATE.finals:
            runner.send_message(FLUSH, None, client.id)
    deadline = time.monotonic() + FLUSH_TIMEOUT
    while time.monotonic() < deadline and not expected <= STATE.finals:
        gevent.sleep(0.05)
    missing = sorted(expected - STATE.finals)
    if missing:
        log.error(
            "replyguard: no final observations from worker(s) %s; the verdict misses them",
            ", ".join(missing),
        )
    return missing
