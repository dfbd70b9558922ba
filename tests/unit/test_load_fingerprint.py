"""The rate-limit fingerprint on simulated limiters with a virtual clock (no server, no sleep)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from replyguard.fingerprint import Probe, ProbePlan, fingerprint, run_probes
from replyguard.spec import load_rules

LIMIT, WINDOW, LATENCY = 5, 2.0, 0.004
ROLES = frozenset({"primary", "secondary", "other_account", "low_balance"})
ACCOUNT = {"primary": "a", "secondary": "a", "other_account": "b", "low_balance": "c"}


@dataclass
class Sim:
    """A limiter with switchable semantics, answering on a virtual clock."""

    kind: str = "fixed"  # fixed | clock | sliding | never
    scope: str = "token"
    retry: str = "honest"  # honest | constant | one
    counts: frozenset[int] = frozenset({422, 404, 402})
    headers: bool = True
    now: float = 1000.3
    state: dict[str, list[float]] = field(default_factory=dict)

    def key(self, role: str) -> str:
        return {"token": role, "account": ACCOUNT[role], "global": "all"}[self.scope]

    def decide(self, key: str, t: float) -> tuple[bool, float]:
        """(allowed, seconds until a slot frees) and count when allowed."""
        hits = self.state.setdefault(key, [])
        if self.kind == "sliding":
            hits[:] = [h for h in hits if h > t - WINDOW]
            if len(hits) >= LIMIT:
                return False, hits[0] + WINDOW - t
            hits.append(t)
            return True, 0.0
        start = math.floor(t / WINDOW) * WINDOW
        if self.kind == "clock" and hits and hits[0] < start:
            hits.clear()
        elif self.kind == "fixed" and hits and t >= hits[0] + WINDOW:
            hits.clear()  # "never" never clears
        if len(hits) >= LIMIT:
            origin = start if self.kind == "clock" else hits[0]
            return False, max(origin + WINDOW - t, 0.5)
        hits.append(t)
        return True, 0.0

    def send(self, step: str, role: str, kind: str) -> Probe:
        sent = self.now
        t = sent + LATENCY / 2
        self.now += LATENCY
        if kind == "bad-token":
            return Probe(step, role, kind, sent, self.now, 401)
        status = {"invalid": 422, "missing": 404, "no-balance": 402}.get(kind, 200)
        if role == "low_balance" and kind == "valid":
            status = 402
        key = self.key(role)
        if status in self.counts or status == 200:
            allowed, left = self.decide(key, t)
        else:
            allowed, left = True, 0.0
        if not allowed:
            honest = max(1, math.ceil(left))
            ra = {"honest": honest, "constant": int(WINDOW), "one": 1}[self.retry]
            hdr = (str(ra), str(int(t) + ra)) if self.headers else (None, None)
            return Probe(
                step,
                role,
                kind,
                sent,
                self.now,
                429,
                ra,
                hdr[0],
                "0" if self.headers else None,
                hdr[1],
            )
        used = len(self.state.get(key, []))
        return Probe(
            step,
            role,
            kind,
            sent,
            self.now,
            status,
            remaining=str(LIMIT - used) if self.headers else None,
        )

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def clock(self) -> float:
        return self.now


def run(sim: Sim, roles: frozenset[str] = ROLES) -> dict[str, tuple[str, str]]:
    probes = run_probes(ProbePlan(LIMIT, WINDOW, roles), sim.send, sim.sleep, sim.clock)
    fp = fingerprint(probes, LIMIT, WINDOW)
    assert fp.probes == len(probes) < 200
    return {i.name: (i.value, i.outcome) for i in fp.items}


def test_laravel_fixed_window() -> None:
    items = run(Sim())
    assert items["limit"] == ("5 per window", "pass")
    assert items["window length"][1] == "pass"
    assert items["window kind"][0] == "fixed"
    assert items["window anchor"][0] == "first hit"
    assert items["scope"] == ("token", "pass")
    assert items["422 counts"][0] == "yes"
    assert items["404 counts"][0] == "yes"
    assert items["402 counts"][0] == "yes"
    assert items["401 counts"][0] == "no"
    assert items["429 counts"][0] == "no"
    assert items["retry_after"][0] == "counts down"
    assert items["retry_after honest"] == ("yes", "pass")
    assert items["Retry-After header"] == ("agrees", "pass")
    assert items["X-RateLimit-Remaining"][0] == "agrees"
    assert items["X-RateLimit-Reset"][0] == "agrees"


def test_sliding_window() -> None:
    items = run(Sim(kind="sliding"))
    assert items["window kind"][0] == "sliding"
    assert items["window anchor"][1] == "not tested"
    assert items["limit"] == ("5 per window", "pass")
    assert items["window length"][1] == "pass"


def test_clock_anchored_window() -> None:
    items = run(Sim(kind="clock"))
    assert items["window kind"][0] == "fixed"
    assert items["window anchor"][0] == "clock"


@pytest.mark.parametrize(("scope", "value"), [("account", "account"), ("global", "global")])
def test_shared_scopes_fail(scope: str, value: str) -> None:
    assert run(Sim(scope=scope))["scope"] == (value, "fail")


def test_scope_needs_a_second_token() -> None:
    assert run(Sim(), frozenset({"primary"}))["scope"][1] == "not tested"


def test_never_resets() -> None:
    items = run(Sim(kind="never"))
    assert items["window length"] == ("never resets", "fail")
    assert items["retry_after honest"] == ("too short", "fail")


def test_constant_and_too_short_retry_after() -> None:
    constant = run(Sim(retry="constant"))
    assert constant["retry_after"][0] == "constant 2"
    assert constant["retry_after honest"][1] == "pass"
    short = run(Sim(retry="one"))
    assert short["retry_after honest"] == ("too short", "fail")


def test_validation_not_counted_and_no_headers() -> None:
    items = run(Sim(counts=frozenset({404, 402}), headers=False))
    assert items["422 counts"][0] == "no"
    assert items["404 counts"][0] == "yes"
    assert items["Retry-After header"][0] == "not sent"
    assert items["X-RateLimit-Remaining"][0] == "not sent"


def test_no_limit() -> None:
    class Unlimited(Sim):
        def decide(self, key: str, t: float) -> tuple[bool, float]:
            return True, 0.0

    items = run(Unlimited())
    assert items["limit"][1] == "fail"


class Bucket(Sim):
    """A per-token token bucket (burst 5, one slot every window / 5), the 429 body as
    documented with a constant retry_after: a gateway's limiter."""

    def decide(self, key: str, t: float) -> tuple[bool, float]:
        tokens, at = self.bucket.get(key, (float(LIMIT), t))
        tokens = min(LIMIT, tokens + (t - at) / (self.window / LIMIT))
        self.bucket[key] = (tokens - 1 if tokens >= 1 else tokens, t)
        return (True, 0.0) if tokens >= 1 else (False, self.window)

    def __init__(self, window: float) -> None:
        super().__init__(retry="constant")
        self.window = window
        self.bucket: dict[str, tuple[float, float]] = {}


@pytest.mark.parametrize("window", [60.0, WINDOW])
def test_token_bucket_is_named_with_its_burst_and_refill(
    window: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(f"{__name__}.WINDOW", window)
    sim = Bucket(window)
    probes = run_probes(ProbePlan(LIMIT, window, ROLES), sim.send, sim.sleep, sim.clock)
    fp = fingerprint(probes, LIMIT, window)
    assert fp.assessment is not None
    d = fp.assessment.limiter
    assert d.family.value == "token bucket"
    assert d.burst == LIMIT
    assert d.refill == pytest.approx(window / LIMIT, rel=0.1)
    assert fp.item("family").value.startswith("token bucket, burst 5, one slot every")
    assert fp.item("limit").outcome == "fail"
    assert "a token bucket, burst 5" in fp.item("limit").evidence
    assert fp.item("scope") == fp.item("scope").__class__(
        "scope", "token", fp.item("scope").evidence, "verdict", "pass", "ratelimit.per-token"
    )
    assert not fp.passed


def test_every_rule_a_fingerprint_names_is_in_the_catalogue() -> None:
    catalogue = load_rules()
    for sim in (Sim(), Sim(kind="never"), Sim(scope="account"), Bucket(WINDOW)):
        probes = run_probes(ProbePlan(LIMIT, WINDOW, ROLES), sim.send, sim.sleep, sim.clock)
        for item in fingerprint(probes, LIMIT, WINDOW).items:
            assert item.rule == "" or item.rule in catalogue, item
            assert (item.level == "verdict") == bool(item.rule), item
