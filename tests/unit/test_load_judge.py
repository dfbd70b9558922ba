"""The load suite's conformance judge on synthetic traces (no locust, no server)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import pytest

from load import judge as j
from load.judge import Observation, Settings
from replyguard.ratelimit import Call
from replyguard.spec import load_rules
from tests.unit.ratelimit_sim import Answer

LIMIT_RULE = "ratelimit.limit"
PER_TOKEN = "ratelimit.per-token"
BODY = "ratelimit.body"
RANGE = "ratelimit.retry-after.range"
HEADER = "ratelimit.retry-after.header-agrees"
RECOVERS = "ratelimit.recovers"

LIMIT, WINDOW, LATENCY = 5, 2.0, 0.01

Server = Callable[[str, float], tuple[int, int | None]]


class FixedWindow:
    """Laravel's throttle: a window opens at the first hit; 429s are not counted."""

    def __init__(
        self,
        limit: int = LIMIT,
        retry_after: Callable[[float], int] | None = None,
        shared: bool = False,
    ) -> None:
        self.limit = limit
        self.state: dict[str, tuple[float, int]] = {}
        self.retry_after = retry_after or (lambda left: min(int(WINDOW), max(1, math.ceil(left))))
        self.shared = shared

    def __call__(self, token: str, now: float) -> tuple[int, int | None]:
        key = "account" if self.shared else token
        start, hits = self.state.get(key, (now, 0))
        if now >= start + WINDOW:
            start, hits = now, 0
        if hits >= self.limit:
            return 429, self.retry_after(start + WINDOW - now)
        self.state[key] = (start, hits + 1)
        return 200, None


class SlidingWindow:
    """A sliding log: at most limit hits in any window-length interval."""

    def __init__(self) -> None:
        self.hits: dict[str, list[float]] = {}

    def __call__(self, token: str, now: float) -> tuple[int, int | None]:
        log = [t for t in self.hits.get(token, []) if t > now - WINDOW]
        self.hits[token] = log
        if len(log) >= LIMIT:
            return 429, max(1, math.ceil(log[0] + WINDOW - now))
        log.append(now)
        return 200, None


def simulate(
    server: Server, tokens: dict[str, int], duration: float = 6.0, gap: float = 0.05
) -> list[Observation]:
    """Clients that honour retry_after, ``tokens`` maps a token label to its client count."""
    queue: list[tuple[float, int, str]] = []
    n = 0
    for token, clients in tokens.items():
        for c in range(clients):
            heapq.heappush(queue, (0.013 * c + 0.001 * n, n, token))
            n += 1
    out: list[Observation] = []
    for _ in range(100_000):
        if not queue:
            break
        sent, ident, token = heapq.heappop(queue)
        if sent > duration:
            continue
        status, retry_after = server(token, sent + LATENCY / 2)
        received = sent + LATENCY
        if status == 429:
            out.append(
                Observation(
                    token, sent, received, 429, retry_after, "Too Many Attempts.", str(retry_after)
                )
            )
            nxt = received + (retry_after or 1)
        else:
            out.append(Observation(token, sent, received, status))
            nxt = received + gap
        heapq.heappush(queue, (nxt, ident, token))
    return out


SETTINGS = Settings(limit=LIMIT, window=WINDOW, require_overload=("primary",))
ISOLATION = Settings(
    limit=LIMIT,
    window=WINDOW,
    require_overload=("primary", "secondary"),
    account_tokens=("primary", "secondary"),
)


def test_fixed_window_server_passes() -> None:
    verdict = j.judge(simulate(FixedWindow(), {"primary": 10}), SETTINGS)
    assert verdict.passed, verdict.lines()
    assert verdict.figures["primary: served"] >= 3 * LIMIT


def test_sliding_window_server_passes() -> None:
    verdict = j.judge(simulate(SlidingWindow(), {"primary": 10}, gap=0.3), SETTINGS)
    assert verdict.passed, verdict.lines()


def test_two_tokens_with_own_buckets_pass() -> None:
    verdict = j.judge(simulate(FixedWindow(), {"primary": 6, "secondary": 6}), ISOLATION)
    assert verdict.passed, verdict.lines()


def test_limit_plus_one_is_over_limit() -> None:
    verdict = j.judge(simulate(FixedWindow(limit=LIMIT + 1), {"primary": 10}), SETTINGS)
    assert LIMIT_RULE in verdict.counts
    assert "6 served" in verdict.examples[LIMIT_RULE]


def test_no_limit_is_over_limit_and_inconclusive() -> None:
    verdict = j.judge(simulate(FixedWindow(limit=10**9), {"primary": 4}), SETTINGS)
    assert LIMIT_RULE in verdict.counts
    assert j.NOT_OVERLOADED in verdict.counts


def test_too_few_served() -> None:
    verdict = j.judge(simulate(FixedWindow(limit=LIMIT - 2), {"primary": 10}), SETTINGS)
    assert LIMIT_RULE in verdict.counts, verdict.lines()
    assert "after only 3 served" in verdict.examples[LIMIT_RULE]


def test_shared_bucket_is_named() -> None:
    obs = simulate(FixedWindow(shared=True), {"primary": 6, "secondary": 6})
    verdict = j.judge(obs, ISOLATION)
    assert PER_TOKEN in verdict.counts, verdict.lines()
    assert "another token" in verdict.examples[PER_TOKEN]


def test_shared_bucket_when_one_token_is_never_served() -> None:
    # The default run: conformance hammers primary; isolation's secondary users, sharing the
    # account's bucket, may never be served at all. Their 429s belong to no window of their
    # own, so nothing of theirs was counted: still a shortfall the other token explains.
    server = FixedWindow(shared=True)
    obs = simulate(server, {"primary": 10}, duration=6.0)
    late = [
        Observation("secondary", t, t + 0.01, 429, 1, "Too Many Attempts.", "1")
        for t in (2.5, 4.5, 5.5)
        if any(o.status == 200 and t - WINDOW < o.sent < t for o in obs)
    ]
    assert late
    verdict = j.judge(obs + late, ISOLATION)
    assert PER_TOKEN in verdict.counts, verdict.lines()


@pytest.mark.parametrize(
    ("retry_after", "message", "rule"),
    [
        ("2", "x", RANGE),
        (0, "x", RANGE),
        (99, "x", RANGE),
        (True, "x", RANGE),
        (2, None, BODY),
        (None, "x", BODY),
    ],
)
def test_bad_429_body(retry_after: object, message: object, rule: str) -> None:
    obs = [Observation("primary", i * 0.01, i * 0.01 + 0.005, 200) for i in range(LIMIT)]
    obs.append(Observation("primary", 0.1, 0.11, 429, retry_after, message, None))
    verdict = j.judge(obs, SETTINGS)
    assert set(verdict.counts) == {rule}, verdict.lines()


def test_header_disagreeing_with_body() -> None:
    obs = [Observation("primary", i * 0.01, i * 0.01 + 0.005, 200) for i in range(LIMIT)]
    obs.append(Observation("primary", 0.1, 0.11, 429, 2, "Too Many Attempts.", "60"))
    verdict = j.judge(obs, SETTINGS)
    assert set(verdict.counts) == {HEADER}


def test_retry_after_too_short_is_dishonest() -> None:
    verdict = j.judge(simulate(FixedWindow(retry_after=lambda left: 1), {"primary": 10}), SETTINGS)
    assert RECOVERS in verdict.counts, verdict.lines()
    assert LIMIT_RULE not in verdict.counts


def test_retry_after_too_long_is_named() -> None:
    # Clients that ignore the (too long) retry_after show the window reset much earlier.
    obs = simulate(FixedWindow(retry_after=lambda left: 2), {"primary": 10}, duration=6.0)
    honest = j.judge(obs, SETTINGS)
    assert "retry_after overstated" not in honest.observed  # ceil(left) <= 2: nothing provable
    srv = FixedWindow(retry_after=lambda left: int(WINDOW))
    obs = []
    for i in range(40):  # one client polling every 0.3 s regardless of retry_after
        status, ra = srv("primary", i * 0.3)
        obs.append(
            Observation(
                "primary",
                i * 0.3,
                i * 0.3 + 0.01,
                status,
                ra,
                "Too Many Attempts." if ra else None,
                None,
            )
        )
    verdict = j.judge(obs, SETTINGS)
    # Reported, not failed: the documents do not promise the shortest wait.
    assert "retry_after overstated" in verdict.observed, verdict.lines()
    assert verdict.passed


def test_cut_and_failed_requests() -> None:
    obs = simulate(FixedWindow(), {"primary": 10}, duration=3.0)
    obs.append(Observation("primary", 3.0, 3.1, j.CUT))
    assert j.judge(obs, SETTINGS).passed
    obs.append(Observation("primary", 3.0, 3.1, j.NO_ANSWER))
    obs.append(Observation("primary", 3.0, 3.1, 500))
    verdict = j.judge(obs, SETTINGS)
    assert {j.NO_RESPONSE, "contract.no-server-error"} <= set(verdict.counts)


def test_ambiguous_boundary_is_not_judged() -> None:
    # A request whose interval straddles the window end may belong to either window.
    obs = [Observation("primary", 0.0, 0.01, 200) for _ in range(LIMIT)]
    obs.append(Observation("primary", 1.9, 2.2, 200))
    obs += [Observation("primary", 2.3, 2.31, 200) for _ in range(LIMIT - 1)]
    obs.append(Observation("primary", 2.4, 2.41, 429, 2, "Too Many Attempts.", "2"))
    verdict = j.judge(obs, SETTINGS)
    assert verdict.passed, verdict.lines()


def test_well_behaved_checks() -> None:
    settings = Settings(
        limit=LIMIT, window=WINDOW, min_efficiency=0.6, efficiency_tokens=("primary",)
    )
    obs = simulate(FixedWindow(), {"primary": 3}, duration=6.0)
    good = j.judge(obs, settings, messages=30)
    assert good.passed, good.lines()
    assert good.figures["primary: served/ideal"] >= 0.6
    sparse = [o for o in obs if o.status == 429 or o.sent < 1.0]
    bad = j.judge(sparse, settings, gave_up=3, messages=30)
    assert {j.INEFFICIENT, j.GAVE_UP} <= set(bad.counts)


def test_rows_round_trip_and_lines_name_violations() -> None:
    o = Observation("secondary", 1.0, 2.0, 429, 2, "Too Many Attempts.", "2", True, "isolation")
    assert Observation.from_row(o.to_row()) == o
    verdict = j.judge(simulate(FixedWindow(limit=LIMIT + 1), {"primary": 10}), SETTINGS)
    text = "\n".join(verdict.lines())
    assert "FAIL" in text
    assert f"VIOLATION {LIMIT_RULE}: " in text


def _observations(calls: list[Call]) -> list[Observation]:
    return [
        Observation(
            c.token,
            c.sent,
            c.received,
            c.status,
            c.retry_after if isinstance(c.retry_after, int) else None,
            "Too Many Attempts." if c.status == 429 else None,
            None,
            c.status == 429,
            "isolation",
            content_type=c.content_type,
        )
        for c in calls
    ]


def _bucket_run(answer: Answer) -> list[Observation]:
    from tests.unit.ratelimit_sim import Client, TokenBucket, run

    # Two tokens of one account, each with its own bucket (burst 5, one slot per window / 5),
    # users polling after a refusal as a gateway's clients do.
    clients = [Client(t, 0.01 * n, 0.1) for n, t in enumerate(["primary", "secondary"] * 5)]
    calls = run(TokenBucket(LIMIT, WINDOW / LIMIT), clients, duration=8, answer=answer)
    return _observations(calls)


def test_a_token_bucket_is_named_as_a_bucket_never_as_sharing() -> None:
    from tests.unit.ratelimit_sim import constant_429

    verdict = j.judge(_bucket_run(constant_429(int(WINDOW))), ISOLATION)
    assert LIMIT_RULE in verdict.counts, verdict.lines()
    assert "a token bucket" in verdict.examples[LIMIT_RULE]
    assert PER_TOKEN not in verdict.counts, verdict.lines()
    assert verdict.limiter[0].startswith("token bucket")


def test_a_503_over_the_limit_is_never_served() -> None:
    from tests.unit.ratelimit_sim import html_503

    obs = _bucket_run(html_503)
    verdict = j.judge(obs, ISOLATION)
    refused = sum(1 for o in obs if o.status == 503)
    assert refused
    assert verdict.counts["ratelimit.status-429"] == refused
    assert verdict.counts["contract.no-server-error"] == refused
    served = sum(1 for o in obs if o.status == 200)
    assert verdict.figures["primary: served"] + verdict.figures["secondary: served"] == served
    assert PER_TOKEN not in verdict.counts
    assert not {"ratelimit.body", "ratelimit.recovers"} & set(verdict.counts)


def test_every_key_is_a_catalogue_rule_or_a_load_check() -> None:
    from tests.unit.ratelimit_sim import html_503

    catalogue = load_rules()
    runs = [
        simulate(FixedWindow(limit=LIMIT + 1), {"primary": 10}),
        simulate(FixedWindow(shared=True), {"primary": 6, "secondary": 6}),
        simulate(FixedWindow(retry_after=lambda left: 1), {"primary": 10}),
        _bucket_run(html_503),
        [*simulate(FixedWindow(), {"primary": 4}), Observation("primary", 9, 9.1, j.NO_ANSWER)],
    ]
    keys = set()
    for obs in runs:
        verdict = j.judge(obs, ISOLATION, gave_up=1, messages=2)
        keys |= set(verdict.counts)
    assert keys
    assert all(k in catalogue or k in j.CHECKS for k in keys), keys
