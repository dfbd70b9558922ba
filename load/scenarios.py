"""The load scenarios as locust User classes (pick them by class name or ``--scenario``)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import gevent
import httpx
from locust import User, constant, task
from locust.exception import StopUser

from load.recorder import RecordingTransport, RequestCapReached
from load.runtime import STATE, TargetInfo
from replyguard.client import AssistantClient, RateLimited, RetryPolicy, TransportError
from replyguard.profile import ACCOUNT_ROLES, Role
from replyguard.wire import retry_after_seconds

__all__ = ["RateLimitConformance", "Soak", "Throughput", "TokenIsolation", "WellBehavedClient"]

log = logging.getLogger("replyguard.load")
_warned: set[str] = set()
# A 429 without a usable retry_after is a violation the judge reports; the user still has to
# wait for something, and one second keeps it from hammering.
_FALLBACK_WAIT = 1.0


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


class _ReplyguardUser(User):
    """Shared plumbing: the target, the token role, a recording httpx client."""

    abstract = True
    wait_time = constant(0)
    scenario: ClassVar[str] = ""
    target_name: ClassVar[str] = "rate-limit"
    expected: ClassVar[frozenset[int]] = frozenset({200, 429})
    roles: ClassVar[tuple[str, ...]] = (Role.PRIMARY,)

    def on_start(self) -> None:
        """Pick this user's token and build its client."""
        if self.target_name not in STATE.targets:
            _warn_once("no-target", "replyguard: no target received yet; user stops")
            raise StopUser()
        self.target: TargetInfo = STATE.targets[self.target_name]
        index = getattr(self.environment.runner, "worker_index", 0) or 0
        roles = STATE.roles.get(self.scenario) or self.roles
        serial = STATE.user_serial + index
        self.role = roles[serial % len(roles)]
        # The first user on each token polls a refused token every window/10 instead of
        # sleeping the whole retry_after (a refusal is free): a limiter that hands slots back
        # one by one (a token bucket, GCRA, nginx limit_req) shows itself before the window
        # is over, which clients that all wait retry_after never see.
        self.prober = serial < len(roles)
        self.customer = f"load-{self.scenario}-{index}-{STATE.user_serial}"
        STATE.user_serial += 1
        self.transport = RecordingTransport(
            STATE.recorder,
            STATE.budget,
            self.environment.events.request.fire,
            token=self.role,
            scenario=self.scenario,
            expected=self.expected,
        )
        self.http = httpx.Client(
            base_url=self.target.base_url + "/",
            transport=self.transport,
            timeout=30.0,
            headers={
                "Authorization": f"Bearer {self.target.token(self.role)}",
                "Accept": "application/json",
            },
        )
        self.sent = 0

    def on_stop(self) -> None:
        """Close the connection pool."""
        http = getattr(self, "http", None)
        if http is not None:
            http.close()

    def payload(self) -> dict[str, Any]:
        """A valid generate-reply body for this user's conversation."""
        self.sent += 1
        return {
            "assistant_id": self.target.assistant,
            "customer_identifier": self.customer,
            "message": f"load message {self.sent}",
        }

    def post(self) -> httpx.Response:
        """One generate-reply exchange (recorded by the transport); stops at the bound."""
        try:
            return self.http.post(self.target.generate_reply_path.lstrip("/"), json=self.payload())
        except RequestCapReached as exc:
            _warn_once("budget", f"replyguard: {exc}; users stop sending")
            raise StopUser() from None

    def send_honouring_retry_after(self) -> None:
        """Send once; after a 429 sleep its retry_after, as a client should."""
        try:
            response = self.post()
        except httpx.TransportError:
            gevent.sleep(_FALLBACK_WAIT)
            return
        if response.status_code == 429:
            wait = _retry_after(response)
            gevent.sleep(min(wait, self.target.window / 10) if self.prober else wait)


def _retry_after(response: httpx.Response) -> float:
    """The wait a 429 asks for (``replyguard.wire``), bounded to something sane to sleep."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    seconds = retry_after_seconds(body, response.headers)
    return seconds if seconds is not None and 0 < seconds <= 3600 else _FALLBACK_WAIT


class RateLimitConformance(_ReplyguardUser):
    """Many users on ONE token, each honouring retry_after: the limiter is judged per window."""

    scenario = "conformance"

    @task
    def generate_reply(self) -> None:
        """Send and honour retry_after."""
        self.send_honouring_retry_after()


class TokenIsolation(_ReplyguardUser):
    """Users split over two tokens of one account, each overloaded: buckets must be per token."""

    scenario = "isolation"
    roles = ACCOUNT_ROLES

    @task
    def generate_reply(self) -> None:
        """Send and honour retry_after."""
        self.send_honouring_retry_after()


class Soak(_ReplyguardUser):
    """Many users (200) on two tokens for ten windows or more: every window exactly full."""

    scenario = "soak"
    roles = ACCOUNT_ROLES

    @task
    def generate_reply(self) -> None:
        """Send and honour retry_after."""
        self.send_honouring_retry_after()


class WellBehavedClient(_ReplyguardUser):
    """replyguard's own AssistantClient with backoff: every message must get its reply."""

    scenario = "well-behaved"
    roles = ACCOUNT_ROLES

    def on_start(self) -> None:
        """Build an AssistantClient on the recording transport, sleeping with gevent."""
        super().on_start()
        window = self.target.window
        policy = RetryPolicy(
            max_attempts=12,
            base=0.25,
            cap=window,
            jitter=True,
            max_total_wait=max(30.0, 6 * window),
        )
        self.client_api = AssistantClient(
            self.target.base_url,
            self.target.token(self.role),
            generate_reply_path=self.target.generate_reply_path,
            retry=policy,
            transport=self.transport,
            sleep=gevent.sleep,
            timeout=30.0,
        )

    def on_stop(self) -> None:
        """Close both clients."""
        super().on_stop()
        client = getattr(self, "client_api", None)
        if client is not None:
            client.close()

    @task
    def generate_reply(self) -> None:
        """One message, retried by the client until answered or given up."""
        body = self.payload()
        try:
            self.client_api.generate_reply(
                body["assistant_id"], body["customer_identifier"], body["message"]
            )
        except RequestCapReached as exc:
            _warn_once("budget", f"replyguard: {exc}; users stop sending")
            raise StopUser() from None
        except (RateLimited, TransportError) as exc:
            # Counted for the verdict, not as a locust request: every attempt it made is
            # already in locust's statistics, and no extra request was sent.
            STATE.recorder.gave_up += 1
            STATE.recorder.messages += 1
            _warn_once(
                "gave-up", f"replyguard: a well-behaved client gave up: {STATE.mask(str(exc))}"
            )
            return
        STATE.recorder.messages += 1


class Throughput(_ReplyguardUser):
    """As fast as possible against a raised limit: locust's stats; every request must succeed."""

    scenario = "throughput"
    target_name = "throughput"
    expected = frozenset({200})

    @task
    def generate_reply(self) -> None:
        """Send; any failure shows in locust's stats and fails the verdict."""
        try:
            self.post()
        except httpx.TransportError:
            gevent.sleep(0.1)
