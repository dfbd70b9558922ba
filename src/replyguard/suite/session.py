"""The suite's only way to reach a target: paced, budgeted, recorded HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from replyguard.client import RetryPolicy
from replyguard.config.bounds import Bounds
from replyguard.exchange import Exchange
from replyguard.profile import POOL_ROLE, Role, Target
from replyguard.suite.budget import Budget
from replyguard.suite.calls import CallLog
from replyguard.suite.guard import TransportGuard
from replyguard.suite.pacing import Pacer
from replyguard.suite.token_state import TokenState, token_key
from replyguard.suite.transport import TargetUnreachable
from replyguard.suite.unicode_mix import kinds_in
from replyguard.wire import retry_after_seconds

__all__ = ["ANY_ACCOUNT_TOKEN", "NO_BODY", "ApiSession", "TargetUnreachable", "retry_after_of"]

NO_BODY: Any = object()
#: ``send(token=ANY_ACCOUNT_TOKEN)``: the account token with room first.
ANY_ACCOUNT_TOKEN = "any"
#: The pacer's key for them once the target shows they share one bucket.
_SHARED = "account (shared bucket)"


def retry_after_of(exchange: Exchange) -> float | None:
    """The wait a 429 asks for (``replyguard.wire`` reads it, here as everywhere)."""
    return retry_after_seconds(exchange.json(), exchange.headers)


def _not_billed(exchange: Exchange) -> bool:
    """No reply was made: a 429, or a 5xx that is not the app's JSON (a gateway's page: the
    request never reached the app). The app's own 5xx stays billable: it may have replied."""
    return exchange.status == 429 or (exchange.status >= 500 and exchange.json() is None)


class ApiSession:
    """Sends the suite's requests; knows the rate limit so its own calls are never throttled."""

    def __init__(
        self,
        target: Target,
        budget: Budget,
        *,
        pacer: Pacer | None = None,
        transport: httpx.BaseTransport | None = None,
        bounds: Bounds | None = None,
        state: TokenState | None = None,
    ) -> None:
        self.target = target
        self.budget = budget
        self.pacer = pacer or Pacer(target.rate_limit.limit, target.rate_limit.window_seconds)
        # Retrying a throttled call is the client's policy (replyguard.client), without jitter:
        # the pacer already spaces the suite's calls, and three attempts bound a test's cost.
        self.retry = RetryPolicy(max_attempts=3, base=0.0, jitter=False)
        #: Timeouts, retries of what cannot have reached the API, transport faults, the
        #: breaker and the time limit (issue 20).
        self.guard = TransportGuard(bounds or Bounds(), paid=not target.safety.exhaustive)
        self._http = httpx.Client(timeout=self.guard.timeout(), transport=transport)
        self.exchanges: list[Exchange] = []
        #: Every 200 of generate-reply this run got, whichever test asked: reply.text.non-empty
        #: is judged on them at the end, at no extra call.
        self.replies: list[Exchange] = []
        #: The kinds of text beyond ASCII the run's billable calls carried (the plan shows them).
        self.unicode_sent: set[str] = set()
        #: Generated negative cases re-judged valid or silent, so never sent (the report says so).
        self.negatives_dropped = 0
        #: Ids of the assistants this run created: the documents give no way to delete them,
        #: so the report lists them for the vendor's portal.
        self.created: list[object] = []
        #: The token roles the run sent with (the plan shows them before a paid run).
        self.roles_used: set[str] = set()
        #: Whether the target counts the account's tokens in one bucket (Laravel's stock
        #: throttle keys by user): then they are paced as one, or every call spread over them
        #: would be throttled. ratelimit.per-token judges it; pacing only adapts.
        self.shared_bucket = False
        #: Every generate-reply call of the run, whichever test sent it: the rate-limit
        #: model's input (replyguard.suite.calls).
        self.calls = CallLog()
        #: The last send on each token, by token_key: the next run's first window (on close).
        self._last_sent: dict[str, float] = {}
        self._state = state
        #: The account's token roles, the pool's included.
        self._account_roles = target.tokens.account_roles()
        #: Each token's role by the token: an exchange's reproduction names the variable.
        self._roles = target.tokens.reproduction_roles()
        #: The roles "any" chooses between: the pool when the profile has one, so primary and
        #: secondary stay for the rate-limit tests that name them; else primary and secondary.
        pool = tuple(r for r in self._account_roles if r.startswith(f"{POOL_ROLE}."))
        self._any_roles = pool or self._account_roles
        if state is not None:
            self._resume(state)

    def close(self) -> None:
        self._http.close()
        if self._state is not None:
            self._state.write(self._last_sent)

    def _resume(self, state: TokenState) -> None:
        """Start each token's pacing from the last run's last send on it (suite.token_state)."""
        known = state.read()
        now = time.time()
        for token in self._roles:  # every token of the profile
            last = known.get(token_key(self.target.base_url, token))
            if last is not None:
                self.pacer.seed(self._bucket(token), now - last)

    @property
    def last(self) -> Exchange | None:
        """The latest exchange of the current test."""
        return self.exchanges[-1] if self.exchanges else None

    def begin_test(self, name: str = "") -> None:
        """Forget the previous test's exchanges."""
        self.exchanges.clear()
        self.guard.begin_test(name)

    def token(self, name: str) -> str | None:
        """A token of the profile by role name (primary, secondary, low_balance, other_account)."""
        return self.target.tokens.role(name)

    def send(
        self,
        operation: str,
        body: Any = NO_BODY,
        *,
        token: str | None = ANY_ACCOUNT_TOKEN,
        raw_token: str | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        paced: bool = True,
        retry_throttled: bool = True,
        probe: bool = False,
    ) -> Exchange:
        """Send one request to ``generate_reply`` or ``create_assistant`` and record it.

        ``token`` names a profile token (None sends none); ``raw_token`` sends a literal one;
        ``"any"``, the default, takes whichever token of the primary account (primary,
        secondary) has room under the limit first. The documents tie nothing but the limit to
        the token (conversations persist "by assistant_id + customer_identifier"), so only the
        rate-limit tests name one.
        Paced generate-reply calls wait for room under the limit, and if the target throttles
        them anyway they wait ``retry_after`` and try again, so that only the rate-limit tests
        ever see a 429 on purpose. A ``probe`` (an unpaced poll of a throttled token) enters
        the pacer only when it is served: a refused poll takes no slot.
        A generate-reply call answered 429, or a gateway's 5xx page, is no reply: not billed.
        """
        __tracebackhide__ = True  # its locals hold the token
        choices: list[str] = []
        if token == ANY_ACCOUNT_TOKEN:
            token = self.freest_account_token()
            choices = [self._bucket(self.token(r)) for r in self._any_roles]
        secret = raw_token if raw_token is not None else (self.token(token) if token else None)
        if raw_token is None and token:
            self.roles_used.add(token)
        request_headers = {"Accept": "application/json"}
        if content is not None or body is not NO_BODY:
            request_headers["Content-Type"] = "application/json"
        if secret is not None:
            request_headers["Authorization"] = f"Bearer {secret}"
        request_headers.update(headers or {})
        payload = (
            content
            if content is not None
            else (b"" if body is NO_BODY else json.dumps(body, ensure_ascii=False).encode())
        )
        key = self._bucket(secret)
        limited = operation == "generate_reply"
        billable = limited and self.billable(token if raw_token is None else None, body)
        if billable:
            self.unicode_sent |= kinds_in(body)
        # On a paid target a hypothesis replay never re-sends what may bill or create.
        seen = (operation, payload, secret or "")
        for attempt in range(self.retry.max_attempts):
            self.guard.check(self.pacer.delay(key) if limited and paced else 0.0)
            replayed = self.guard.replayed(seen, billable or operation == "create_assistant")
            if replayed is not None:
                self.exchanges.append(replayed)
                return replayed
            self.budget.spend(operation, billable=billable)
            # Over the limit by the token's own calls (or a poll of a refused token): only
            # there can a gateway's page be the limiter's refusal rather than a blip.
            over_limit = limited and not paced and (probe or self.pacer.delay(key) > 0)
            if limited and paced:
                self.pacer.acquire(key, choices=choices)
            elif limited and not probe:
                self.pacer.record(key)
            sent = self.calls.now()
            if limited and secret and raw_token is None:
                self._last_sent[token_key(self.target.base_url, secret)] = sent
            try:
                exchange = self.guard.post(
                    self._http,
                    operation,
                    self.target.url(operation),
                    payload,
                    request_headers,
                    body=body,
                    billable=billable,
                    sent=self.budget.total,
                    key=seen,
                    roles=self._roles,
                    # A rate-limit test's unpaced call over the limit on purpose: a gateway's
                    # 503 page there is the limiter's refusal (ratelimit.status-429 names it),
                    # not a transport fault. Anywhere else it is a fault like any other.
                    over_limit=over_limit,
                )
            finally:
                if limited:
                    self.pacer.answered(key)
            self.exchanges.append(exchange)
            if limited:
                role = "raw" if raw_token is not None else (token or "none")
                call = self.calls.record(sent, exchange, role=role, valid=billable, probe=probe)
                if billable and _not_billed(exchange):
                    self.budget.refund()
                if probe and call.served:
                    self.pacer.record(key)
            if limited and exchange.status == 200:
                self.replies.append(exchange)
            if operation == "create_assistant" and 200 <= exchange.status < 300:
                self._remember_created(exchange)
            if limited and exchange.status == 429 and token in self._account_roles:
                self.note_throttled(token)
            if not (limited and paced and retry_throttled and exchange.status == 429):
                return exchange
            key = self._bucket(secret)
            # The client's policy: never sooner than retry_after (no answer: a whole window).
            asked = retry_after_of(exchange)
            wait = self.retry.wait(
                attempt, 1.0, self.target.rate_limit.window_seconds if asked is None else asked
            )
            wait = min(wait, self.target.rate_limit.window_seconds) + 0.05
            self.guard.check(wait)
            self.pacer.penalise(wait)
        return exchange

    def billable(self, token: str | None, body: Any) -> bool:
        """Could this generate-reply call answer 200 (and so be billed) on a correct target?"""
        if token not in self._account_roles or not isinstance(body, dict):
            return False
        own = (self.target.assistants.own, self.target.assistants.own_second)
        assistant = body.get("assistant_id")
        identifier, message = body.get("customer_identifier"), body.get("message")
        return (
            type(assistant) is int
            and assistant in own
            and isinstance(identifier, str)
            and len(identifier.strip()) > 0
            and len(identifier) <= 255
            and isinstance(message, str)
            and bool(message.strip())
            and isinstance(body.get("variables", {}), dict)
        )

    def _remember_created(self, exchange: Exchange) -> None:
        body = exchange.json()
        data = body.get("data") if isinstance(body, dict) else None
        created = data.get("id") if isinstance(data, dict) else None
        self.created.append(created if created is not None else "(no id in the answer)")

    def freest_account_token(self) -> str:
        """The role of the account token "any" takes: the first with room under the limit (of
        the pool when the profile has one, else of primary and secondary)."""
        # Each token has a bucket of its own (the documents: "per API token"), so spreading
        # independent calls over the account's tokens halves the waiting on a paced target.
        roles = self._any_roles
        return min(roles, key=lambda r: self.pacer.delay(self._bucket(self.token(r))))

    def note_throttled(self, role: str) -> None:
        """A call on ``role`` was refused with a 429. If the pacer gave that token room, its
        bucket is not its own: from now on the account's tokens are paced as one bucket."""
        if self.shared_bucket or role not in self._account_roles:
            return
        if len(self._account_roles) < 2:
            return
        # A token that has sent `limit` calls in the window is refused as documented: only a
        # refusal while it still had room says that something else fills its bucket.
        if self.pacer.delay(self._bucket(self.token(role))) <= 0:
            self.shared_bucket = True
            self.pacer.merge([self.token(r) or "" for r in self._account_roles], _SHARED)

    def _bucket(self, secret: str | None) -> str:
        """The pacer's key for a token: its own, or the account's when they share a bucket."""
        if self.shared_bucket and secret and secret in (self.token(r) for r in self._account_roles):
            return _SHARED
        return secret or ""

    def generate_reply(self, body: Any = NO_BODY, **kwargs: Any) -> Exchange:
        """POST generate-reply."""
        return self.send("generate_reply", body, **kwargs)

    def create_assistant(self, body: Any = NO_BODY, **kwargs: Any) -> Exchange:
        """POST create-assistant."""
        return self.send("create_assistant", body, **kwargs)

    def raw(self, method: str, url: str, content: bytes = b"") -> Exchange:
        """One request outside the two operations (a route probe), on the primary token:
        counted in the budget as ``probe``, guarded and recorded like every other."""
        __tracebackhide__ = True  # its locals hold the token
        self.guard.check()
        self.budget.spend("probe")
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        secret = self.token(Role.PRIMARY)
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        exchange = self.guard.post(
            self._http,
            "probe",
            url,
            content,
            headers,
            body=None,
            billable=False,
            sent=self.budget.total,
            method=method,
            roles=self._roles,
        )
        self.exchanges.append(exchange)
        return exchange

    def honour_retry_after(self, seconds: float, token: str = Role.PRIMARY) -> None:
        """Wait what a 429 on ``token`` asked for (the rate-limit tests, on purpose)."""
        self.guard.check(seconds)
        self.pacer.pause(seconds, key=self._bucket(self.token(token)))

    def fresh_window(self, token: str = Role.PRIMARY) -> None:
        """Wait until the token's bucket is certainly empty (no send within a window)."""
        self.guard.check(self.pacer.quiet_delay(self._bucket(self.token(token))))
        self.pacer.quiet(self._bucket(self.token(token)))
