"""The ``fingerprint`` scenario: one user runs the rate-limit probe sequence once.

The sequence and its analysis live in :mod:`replyguard.fingerprint` (no locust there); this
user only sends its calls through the recording transport, so they count in locust's
statistics and in the request bound like any other.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
import httpx
from locust import task
from locust.exception import StopUser
from locust.runners import LocalRunner, WorkerRunner

from load.recorder import RecordingTransport, RequestCapReached
from load.runtime import STATE
from load.scenarios import _ReplyguardUser, _warn_once
from replyguard.fingerprint import Probe, ProbePlan, probe_from_response, run_probes
from replyguard.profile import Role

__all__ = ["FINGERPRINT", "RateLimitFingerprint"]

FINGERPRINT = "replyguard_fingerprint"
"""Message a worker sends the master with its probes."""
#: A token no target knows, for the 401 probes (not a secret).
UNKNOWN_TOKEN = "replyguard-fingerprint-unknown-token-0000000000"
#: An assistant id no account owns, when the profile names no foreign assistant.
NO_SUCH_ASSISTANT = 999_999_999


class RateLimitFingerprint(_ReplyguardUser):
    """One user that measures what kind of limiter the target runs (about 7 windows)."""

    scenario = "fingerprint"
    fixed_count = 1
    expected = frozenset({200, 401, 402, 404, 422, 429})

    def on_start(self) -> None:
        """One client per token role, each recording its calls."""
        super().on_start()
        self.clients: dict[str, httpx.Client] = {}
        for role in (*self.target.roles(), "invalid"):
            token = UNKNOWN_TOKEN if role == "invalid" else self.target.token(role)
            transport = RecordingTransport(
                STATE.recorder,
                STATE.budget,
                self.environment.events.request.fire,
                token=role,
                scenario=self.scenario,
                expected=self.expected,
            )
            self.clients[role] = httpx.Client(
                base_url=self.target.base_url + "/",
                transport=transport,
                timeout=30.0,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )

    def on_stop(self) -> None:
        """Close every client."""
        super().on_stop()
        for client in getattr(self, "clients", {}).values():
            client.close()

    def _body(self, role: str, kind: str) -> dict[str, Any]:
        self.sent += 1
        body: dict[str, Any] = {
            "assistant_id": self.target.assistant,
            "customer_identifier": f"fingerprint-{self.sent}",
            "message": f"fingerprint probe {self.sent}",
        }
        if kind == "invalid":
            body.pop("message")
        elif kind == "missing":
            body["assistant_id"] = self.target.foreign_assistant or NO_SUCH_ASSISTANT
        elif role == Role.LOW_BALANCE:
            body["assistant_id"] = self.target.low_balance_assistant
        elif role == Role.OTHER_ACCOUNT and self.target.foreign_assistant:
            body["assistant_id"] = self.target.foreign_assistant  # that account's own
        return body

    def _send(self, step: str, role: str, kind: str) -> Probe:
        sent = time.time()
        try:
            response = self.clients[role].post(
                self.target.generate_reply_path.lstrip("/"), json=self._body(role, kind)
            )
        except RequestCapReached as exc:
            _warn_once("budget", f"replyguard: {exc}; the fingerprint stops")
            raise StopUser() from None
        except httpx.TransportError:
            return Probe(step, role, kind, sent, time.time(), 0)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        return probe_from_response(
            step, role, kind, sent, time.time(), response.status_code, body, response.headers
        )

    @task
    def probe(self) -> None:
        """Run the sequence once, hand the probes over, then stop this user."""
        if STATE.probes:
            raise StopUser()
        plan = ProbePlan(
            self.target.limit,
            self.target.window,
            self.target.roles(),
            max_requests=max(1, STATE.budget.limit - STATE.budget.used),
        )
        probes = run_probes(plan, self._send, gevent.sleep, time.time)
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message(FINGERPRINT, {"probes": [p.to_dict() for p in probes]})
        STATE.set_probes(probes)
        options: Any = self.environment.parsed_options
        if isinstance(runner, LocalRunner) and getattr(options, "headless", False):
            gevent.spawn_later(0.1, runner.quit)  # nothing left to measure
        raise StopUser()
