"""The one rate-limit model on simulated limiters of every family (no server, no sleep)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replyguard import ratelimit as rl
from replyguard.spec import load_rules
from tests.unit.ratelimit_sim import (
    Client,
    FixedWindow,
    Gcra,
    NeverResets,
    NginxLimitReq,
    NoLimit,
    SlidingCounter,
    SlidingLog,
    TokenBucket,
    constant_429,
    html_503,
    run,
)

LIMIT = 5
WINDOWS = (60.0, 2.0)


def poller(window: float, token: str = "primary", start: float = 0.3) -> Client:
    """A client that bursts until refused, then polls every tenth of a window."""
    return Client(token, start, window / 10)


def failed(a: rl.Assessment) -> set[str]:
    return {j.rule for j in a.failed}


def conforming(window: float) -> dict[str, object]:
    return {
        "first hit": FixedWindow(LIMIT, window),
        "whole-second timer": FixedWindow(LIMIT, window, whole_second=True),
        "clock": FixedWindow(LIMIT, window, anchor="clock"),
        "sliding log": SlidingLog(LIMIT, window),
    }


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", ["first hit", "whole-second timer", "clock", "sliding log"])
@pytest.mark.parametrize("seed", range(3))
def test_conforming_families_pass_with_latency(window: float, name: str, seed: int) -> None:
    limiter = conforming(window)[name]
    rng = random.Random(seed)
    clients = [poller(window)] + [
        Client("primary", rng.uniform(0, window), rng.uniform(0.02, 0.4) * window, honour=True)
        for _ in range(3)
    ]
    # Latency up to half a second at the documented window, scaled with the window.
    calls = run(limiter, clients, duration=4 * window, latency=0.5 * window / 60, seed=seed)
    a = rl.assess(calls, rl.Limits(LIMIT, window))
    assert not failed(a), [j.observed for j in a.failed]
    assert a.verdicts["ratelimit.limit"].outcome == rl.PASS


@pytest.mark.parametrize("window", WINDOWS)
def test_first_hit_window_is_described(window: float) -> None:
    calls = run(FixedWindow(LIMIT, window), [poller(window)], duration=3 * window)
    d = rl.assess(calls, rl.Limits(LIMIT, window), fresh=True).limiter
    assert d.family.value == rl.FIXED_WINDOW
    assert d.burst == LIMIT
    assert d.retry_after.value == "counts down"
    assert d.honest.value == "yes"


@pytest.mark.parametrize("window", WINDOWS)
def test_sliding_log_is_described(window: float) -> None:
    # Five calls spread over the window, then polls: the slots age out one by one.
    limiter = SlidingLog(LIMIT, window)
    times = [k * window / 6 for k in range(LIMIT)]
    times += [5 * window / 6 + k * window / 20 for k in range(50)]
    calls = []
    for t in times:
        served, wait = limiter.decide("primary", t + 0.001)
        value = max(1, math.ceil(wait))
        status = 200 if served else 429
        retry = rl.MISSING if served else value
        calls.append(
            rl.Call(
                "primary",
                t,
                t + 0.002,
                status,
                retry_after=retry,
                message="x",
                body_is_json_object=True,
            )
        )
    a = rl.assess(calls, rl.Limits(LIMIT, window), fresh=True)
    assert a.limiter.family.value == rl.SLIDING_LOG, a.limiter.family
    assert not failed(a)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize(
    "limiter",
    [
        lambda w: TokenBucket(LIMIT, w / LIMIT),
        lambda w: Gcra(LIMIT, w / LIMIT),
        lambda w: NginxLimitReq(5, 4, scale=w / 60),
    ],
    ids=["token bucket", "GCRA", "nginx 5r/m burst=4 nodelay"],
)
def test_buckets_fail_the_limit_and_are_named(window: float, limiter: object) -> None:
    calls = run(
        limiter(window),  # type: ignore[operator]
        [poller(window)],
        duration=3 * window,
        answer=constant_429(int(window)),
    )
    a = rl.assess(calls, rl.Limits(LIMIT, window), fresh=True)
    assert failed(a) == {"ratelimit.limit"}, [j.observed for j in a.failed]
    evidence = a.verdicts["ratelimit.limit"].observed
    assert "a token bucket, burst 5, one slot every" in evidence
    assert a.limiter.family.value == rl.TOKEN_BUCKET
    assert a.limiter.burst == LIMIT
    assert a.limiter.refill is not None
    assert a.limiter.refill == pytest.approx(window / LIMIT, rel=0.1)
    # Per token: the bucket's slow refill is never read as another token's calls.
    assert a.limiter.scope.value != rl.ACCOUNT
    assert a.limiter.retry_after.value == f"constant {int(window)}"


def test_bucket_evidence_reads_like_the_issue() -> None:
    calls = run(TokenBucket(LIMIT, 12.0), [poller(60.0)], duration=120)
    observed = rl.assess(calls, rl.Limits(LIMIT, 60.0)).verdicts["ratelimit.limit"].observed
    assert "9 served within" in observed
    assert "a token bucket, burst 5, one slot every 12" in observed


@pytest.mark.parametrize("window", WINDOWS)
def test_nginx_stock_503_is_named_once(window: float) -> None:
    calls = run(
        NginxLimitReq(5, 4, scale=window / 60),
        [poller(window)],
        duration=3 * window,
        answer=html_503,
    )
    a = rl.assess(calls, rl.Limits(LIMIT, window), fresh=True)
    status = a.verdicts["ratelimit.status-429"]
    assert status.outcome == rl.FAIL
    assert "HTTP 503 (text/html)" in status.observed
    # The 503s are the refusals: the bucket still fails the limit, and no other rule is blamed.
    assert failed(a) == {"ratelimit.status-429", "ratelimit.limit"}
    assert all(calls[i].status == 503 for i in status.calls)
    burst = a.verdicts["ratelimit.limit"].calls
    assert all(calls[i].status == 200 for i in burst)


def test_503_over_a_fixed_window_blames_only_the_status() -> None:
    calls = run(FixedWindow(LIMIT, 2.0), [poller(2.0)], duration=6, answer=html_503)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert failed(a) == {"ratelimit.status-429"}


def test_no_limit() -> None:
    calls = run(NoLimit(), [Client("primary", 0, 0.1, gap=0.05)], duration=4)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert a.limiter.family.value == rl.NO_LIMIT
    assert failed(a) == {"ratelimit.limit"}


def test_never_resets() -> None:
    client = Client("primary", 0, 0.2, honour=True)
    calls = run(NeverResets(LIMIT), [client], duration=8)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0), fresh=True)
    assert a.limiter.family.value == rl.NEVER_RESETS
    assert "ratelimit.recovers" in failed(a)


def test_never_resets_after_a_quiet_window() -> None:
    calls = run(NeverResets(LIMIT), [Client("primary", 0, 0.2)], duration=1.5)
    calls.append(rl.Call("primary", 5.0, 5.01, 429, retry_after=1, message="x"))
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0), fresh=True)
    assert a.limiter.family.value == rl.NEVER_RESETS
    assert a.verdicts["ratelimit.recovers"].failed


def test_shared_per_account() -> None:
    clients = [Client("primary", 0.0, 0.1, gap=0.05), Client("secondary", 0.5, 0.15, gap=0.3)]
    accounts = {"primary": "a", "secondary": "a"}
    calls = run(FixedWindow(LIMIT, 2.0), clients, duration=8, key=lambda t: "a", accounts=accounts)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert a.limiter.scope.value == rl.ACCOUNT
    assert failed(a) == {"ratelimit.per-token"}
    assert "another token" in a.verdicts["ratelimit.per-token"].observed


def test_global() -> None:
    clients = [Client("primary", 0.0, 0.1, gap=0.05), Client("other", 0.5, 0.15, gap=0.3)]
    accounts = {"primary": "a", "other": "b"}
    calls = run(
        FixedWindow(LIMIT, 2.0), clients, duration=8, key=lambda t: "all", accounts=accounts
    )
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert a.limiter.scope.value == rl.GLOBAL
    assert failed(a) == {"ratelimit.per-token"}


def test_per_token_scope_passes() -> None:
    clients = [Client("primary", 0.0, 0.1), Client("secondary", 0.0005, 0.1)]
    accounts = {"primary": "a", "secondary": "a"}
    calls = run(FixedWindow(LIMIT, 2.0), clients, duration=6, latency=0.001, accounts=accounts)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert a.verdicts["ratelimit.per-token"].outcome == rl.PASS, a.limiter.scope
    assert not failed(a)


def test_constant_retry_after_is_honest() -> None:
    calls = run(FixedWindow(LIMIT, 60.0), [poller(60.0)], duration=200, answer=constant_429(60))
    a = rl.assess(calls, rl.Limits(LIMIT, 60.0))
    assert a.limiter.retry_after.value == "constant 60"
    assert a.limiter.honest.value == "yes"
    assert "overstated the wait" in a.limiter.honest.evidence
    assert not failed(a)


def test_dishonest_retry_after() -> None:
    # Polled a little after the one second it asks for, the window is still closed.
    client = Client("primary", 0.0, 1.1)
    calls = run(FixedWindow(LIMIT, 2.0), [client], duration=6, answer=constant_429(1))
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert failed(a) == {"ratelimit.recovers"}
    assert a.limiter.honest.value == "no"


def test_sliding_counter_hands_slots_back_like_a_bucket() -> None:
    # Cloudflare-style counters weight the previous window: after a burst, slots come back one
    # by one, more than the limit within a window. From outside that is the bucket family.
    calls = run(SlidingCounter(LIMIT, 60.0), [poller(60.0, start=30.0)], duration=200)
    a = rl.assess(calls, rl.Limits(LIMIT, 60.0))
    assert a.limiter.family.value == rl.TOKEN_BUCKET
    assert "ratelimit.limit" in failed(a)


def test_limit_plus_one_fixed_window_fails() -> None:
    client = Client("primary", 0.0, 0.1, honour=True)
    calls = run(FixedWindow(LIMIT + 1, 2.0), [client], duration=6)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert failed(a) == {"ratelimit.limit"}


def test_limit_minus_one_fixed_window_fails() -> None:
    client = Client("primary", 0.0, 0.1, honour=True)
    calls = run(FixedWindow(LIMIT - 1, 2.0), [client], duration=6)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert failed(a) == {"ratelimit.limit"}
    assert "after only 4 served" in a.verdicts["ratelimit.limit"].observed


def test_bodies_and_headers() -> None:
    calls = [rl.Call("primary", i * 0.01, i * 0.01 + 0.005, 200) for i in range(LIMIT)]
    good = rl.Call.from_answer(
        "primary",
        0.1,
        0.11,
        429,
        {"message": "Too Many Attempts.", "retry_after": 2},
        {"Retry-After": "2", "X-RateLimit-Remaining": "0", "Content-Type": "x"},
    )
    assert good.headers == {"retry-after": "2", "x-ratelimit-remaining": "0"}
    a = rl.assess([*calls, good], rl.Limits(LIMIT, 2.0))
    assert not failed(a)
    assert a.limiter.headers["Retry-After"].value == "agrees"
    for body, rule in (
        ({"message": "x", "retry_after": "2"}, "ratelimit.retry-after.range"),
        ({"message": "x", "retry_after": 0}, "ratelimit.retry-after.range"),
        ({"message": "x"}, "ratelimit.body"),
        ({"success": False, "error": "x"}, "ratelimit.body"),
        (None, "ratelimit.body"),
    ):
        bad = rl.Call.from_answer("primary", 0.1, 0.11, 429, body)
        assert failed(rl.assess([*calls, bad], rl.Limits(LIMIT, 2.0))) == {rule}, body
    header = rl.Call.from_answer(
        "primary", 0.1, 0.11, 429, {"message": "x", "retry_after": 2}, {"Retry-After": "60"}
    )
    a = rl.assess([*calls, header], rl.Limits(LIMIT, 2.0))
    assert failed(a) == {"ratelimit.retry-after.header-agrees"}


def test_ietf_headers_are_compared() -> None:
    calls = [
        rl.Call("primary", i * 0.01, i * 0.01 + 0.005, 200, headers={"ratelimit-policy": p})
        for i, p in enumerate(['"default";q=5;w=2'] * LIMIT)
    ]
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert a.limiter.headers["RateLimit"].value == "agrees"
    wrong = [*calls, rl.Call("primary", 0.1, 0.11, 200, headers={"ratelimit-policy": "q=10;w=60"})]
    assert rl.assess(wrong, rl.Limits(LIMIT, 2.0)).limiter.headers["RateLimit"].value == (
        "disagrees"
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1, True), (60, True), (0, False), (61, False), (True, False), ("60", False), (1.5, False)],
)
def test_the_one_range_check(value: object, ok: bool) -> None:
    assert rl.retry_after_in_range(value, 60) is ok


def test_every_rule_id_is_in_the_catalogue() -> None:
    catalogue = load_rules()
    assert set(rl.RULES) <= set(catalogue)
    assert all(catalogue[r].kind == "ratelimit" for r in rl.RULES)
    calls = run(TokenBucket(LIMIT, 0.4), [poller(2.0)], duration=6, answer=html_503)
    a = rl.assess(calls, rl.Limits(LIMIT, 2.0))
    assert set(a.verdicts) == set(rl.RULES)
    for judgement in a.verdicts.values():
        assert judgement.label == catalogue[judgement.rule].rule
    with pytest.raises(KeyError):
        rl.Judgement("ratelimit.no-such-rule", rl.FAIL, "", "")


def test_to_json_is_plain_data() -> None:
    import json

    calls = run(TokenBucket(LIMIT, 0.4), [poller(2.0)], duration=6)
    data = rl.assess(calls, rl.Limits(LIMIT, 2.0)).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["limiter"]["family"]["value"] == rl.TOKEN_BUCKET


# -- property tests: conforming traces never fail the limit, bucket traces always do ---------


clients_strategy = st.lists(
    st.tuples(
        st.sampled_from(["primary", "secondary"]),
        st.floats(0, 1),  # start, in windows
        st.floats(0.02, 0.5),  # poll, in windows
        st.booleans(),  # honour retry_after
        st.sampled_from([0.0, 0.05, 0.3]),  # gap while served, in windows
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(["first hit", "whole-second timer", "clock", "sliding log"]),
    window=st.sampled_from(WINDOWS),
    specs=clients_strategy,
    latency=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
    fresh=st.booleans(),
)
def test_conforming_traces_never_fail(
    family: str,
    window: float,
    specs: list[tuple[str, float, float, bool, float]],
    latency: float,
    seed: int,
    fresh: bool,
) -> None:
    clients = [Client(t, s * window, p * window, h, g * window) for t, s, p, h, g in specs]
    calls = run(
        conforming(window)[family],
        clients,
        duration=4 * window,
        latency=latency * window / 60,
        seed=seed,
        accounts={"primary": "a", "secondary": "a"},
        max_calls=3000,
    )
    a = rl.assess(calls, rl.Limits(LIMIT, window), fresh=fresh)
    assert not failed(a), [j.observed for j in a.failed]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["bucket", "gcra", "nginx"]),
    window=st.sampled_from(WINDOWS),
    poll=st.floats(0.02, 0.1),
    latency=st.floats(0.0, 0.5),
    start=st.floats(0, 100),
    seed=st.integers(0, 2**16),
)
def test_bucket_traces_always_fail(
    kind: str, window: float, poll: float, latency: float, start: float, seed: int
) -> None:
    limiter = {
        "bucket": TokenBucket(LIMIT, window / LIMIT),
        "gcra": Gcra(LIMIT, window / LIMIT),
        "nginx": NginxLimitReq(5, 4, scale=window / 60),
    }[kind]
    client = Client("primary", start * window / 60, poll * window)
    calls = run(
        limiter,
        [client],
        duration=start * window / 60 + 2 * window,
        latency=latency * window / 60,
        seed=seed,
    )
    a = rl.assess(calls, rl.Limits(LIMIT, window))
    assert a.verdicts["ratelimit.limit"].failed, a.limiter.family
    assert math.isclose(a.limiter.refill or 0, window / LIMIT, rel_tol=0.1)
