"""From the probes to the fingerprint's items: a pure function, no I/O.

An item is a fact with its evidence. Where the documents settle it ("5 requests per minute per
API token", the 429 body's ``retry_after``), the item is a verdict (``pass`` / ``fail``) naming
the catalogue rule; where they are silent it is an observation (``observed``), compared with
the contract's decision when the contract makes one.

Every verdict and the limiter's description come from :func:`replyguard.ratelimit.assess`
over the same calls (the one rate-limit model); this module only measures what the probe
sequence was built to show (the window's length and anchor, the X-RateLimit-* headers) and
lays the items out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from replyguard import ratelimit as rl
from replyguard.fingerprint._probe import Probe
from replyguard.profile import Role

__all__ = ["ROLE_ACCOUNTS", "Fingerprint", "Item", "calls_of", "fingerprint"]

VERDICT = "verdict"
OBSERVATION = "observation"
#: Seconds a window may end early: Laravel stores its timer in whole seconds.
_EARLY = 1.0
_LATE = 0.25


@dataclass(slots=True, frozen=True)
class Item:
    """One fingerprint item."""

    name: str
    value: str
    evidence: str
    level: str = OBSERVATION
    """``verdict`` (the documents settle it) or ``observation``."""
    outcome: str = "observed"
    """``pass`` / ``fail`` (verdicts), ``observed``, or ``not tested``."""
    rule: str = ""


@dataclass(slots=True)
class Fingerprint:
    """The items, in a fixed order, and the probes they rest on."""

    items: list[Item] = field(default_factory=list)
    probes: int = 0
    assessment: rl.Assessment | None = None
    """The rate-limit model's judgement of the same calls."""

    @property
    def passed(self) -> bool:
        """No verdict item failed."""
        return not any(i.outcome == "fail" for i in self.items)

    def item(self, name: str) -> Item:
        """The item called ``name``."""
        return next(i for i in self.items if i.name == name)

    def lines(self) -> list[str]:
        """A plain-text table: item, outcome, value, evidence (readable at any width)."""
        width = max((len(i.name) for i in self.items), default=4)
        out = [f"replyguard rate-limit fingerprint ({self.probes} calls)"]
        for i in self.items:
            out.append(f"  {i.name:<{width}}  {i.outcome:<10}  {i.value}")
            out.append(f"  {'':<{width}}  {'':<10}  evidence: {i.evidence}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "passed": self.passed,
            "probes": self.probes,
            "items": [asdict(i) for i in self.items],
            "limiter": None if self.assessment is None else self.assessment.limiter.to_json(),
        }


def _step(probes: Sequence[Probe], name: str) -> list[Probe]:
    return [p for p in probes if p.step == name]


def _first(probes: Sequence[Probe], status: int) -> Probe | None:
    return next((p for p in probes if p.status == status), None)


def _s(x: float) -> str:
    return f"{x:.2f}s"


class _Analysis:
    def __init__(self, probes: Sequence[Probe], limit: int, window: float) -> None:
        self.p, self.limit, self.window = list(probes), limit, window
        self.t0 = self.p[0].sent if self.p else 0.0
        self.items: list[Item] = []

    def at(self, probe: Probe) -> str:
        return f"+{probe.sent - self.t0:.2f}s"

    def add(
        self,
        name: str,
        value: str,
        evidence: str,
        *,
        level: str = OBSERVATION,
        outcome: str = "observed",
        rule: str = "",
    ) -> None:
        self.items.append(Item(name, value, evidence, level, outcome, rule))

    def untested(self, name: str, why: str, *, level: str = OBSERVATION, rule: str = "") -> None:
        self.add(name, "-", why, level=level, outcome="not tested", rule=rule)

    def reset_of(self, step: str) -> tuple[float, float, Probe] | None:
        """(earliest, latest) instant of a reset seen by polling ``step``, and its 200."""
        served = _first(_step(self.p, step), 200)
        if served is None:
            return None
        index = self.p.index(served)
        before = next(
            (q for q in reversed(self.p[:index]) if q.role == Role.PRIMARY and q.status == 429),
            None,
        )
        lo = before.sent if before is not None else served.sent
        return lo, served.received, served

    # -- what the probe sequence measures ------------------------------------------------

    def window_length(self) -> tuple[str, str] | None:
        """(value, evidence) of the window's length, from the reset after ``w1``'s window."""
        start = _first(_step(self.p, "reset0"), 200)
        if start is None:
            return None
        reset = self.reset_of("reset1")
        if reset is None:
            return "never resets", "no 200 while polling after the count"
        lo = reset[0] - start.received
        hi = reset[1] - start.sent
        return (
            f"{(lo + hi) / 2:.2f}s (between {lo:.2f} and {hi:.2f})",
            f"window opened at {self.at(start)}, first 200 after it at "
            f"{self.at(reset[2])} (documented: {self.window:g}s)",
        )

    def counted_in_window(self) -> str | None:
        """Calls served in the window opened by ``reset0``'s 200, when ``w1`` ended in a 429."""
        start = _first(_step(self.p, "reset0"), 200)
        w1 = _step(self.p, "w1")
        if start is None or not w1 or w1[-1].status != 429:
            return None
        served = 1 + sum(1 for p in w1 if p.status == 200)
        return f"{served} per window"

    def anchor(self) -> Item:
        reset = self.reset_of("reset1")
        w3 = _step(self.p, "w3")
        opened = _first(w3, 200)
        end = self.reset_of("reset3")
        if reset is None or opened is None or end is None:
            return Item("window anchor", "-", "no third reset observed", outcome="not tested")
        span = ((end[0] - opened.received) + (end[1] - opened.sent)) / 2
        if span >= self.window * 0.75:
            value = "first hit"
        elif span <= self.window * 0.6:
            value = "clock"
        else:
            value = "unclear"
        return Item(
            "window anchor",
            value,
            f"a window opened at {self.at(opened)}, 1.5 windows after a reset, reset "
            f"{span:.2f}s later (on the clock it would reset half a window later)",
        )

    def lockouts(self) -> list[tuple[list[Probe], float, float]]:
        """Each run of 429s on the primary token with the reset that ended it."""
        out = []
        for step in ("reset0", "reset1", "reset3"):
            reset = self.reset_of(step)
            if reset is None:
                continue
            index = self.p.index(reset[2])
            run: list[Probe] = []
            for q in reversed(self.p[:index]):
                if q.role != Role.PRIMARY or q.kind != "valid":
                    continue
                if q.status != 429:
                    break
                run.insert(0, q)
            out.append((run, reset[0], reset[1]))
        return out

    def reset_header(self) -> Item:
        throttled = [p for p in self.p if p.status == 429 and p.role == Role.PRIMARY]
        resets = [
            (q, hi)
            for run, _, hi in self.lockouts()
            for q in run
            if q.reset is not None and hi != float("inf")
        ]
        if not resets:
            carried = [p for p in throttled if p.reset is not None]
            if carried:
                return Item(
                    "X-RateLimit-Reset",
                    "-",
                    f"sent on {len(carried)} answers, but no reset was seen to compare it with",
                    outcome="not tested",
                )
            return Item("X-RateLimit-Reset", "not sent", "no throttled answer carried it")
        wrong = [
            (q, hi)
            for q, hi in resets
            if not _close(q.reset, q.received + _num(q.retry_after_header, q.retry_after), 1.5)
        ]
        late = [(q, hi) for q, hi in resets if not _close(q.reset, hi, 1.5)]
        value = (
            "agrees"
            if not wrong and not late
            else "agrees with Retry-After, not with the reset seen"
            if not wrong
            else "disagrees"
        )
        q, hi = (wrong or late or resets)[0]
        return Item(
            "X-RateLimit-Reset",
            value,
            f"{len(resets)} answers; e.g. {q.reset} at {self.at(q)}: now + Retry-After = "
            f"{q.received + _num(q.retry_after_header, q.retry_after):.0f}, reset seen "
            f"at {hi:.0f}",
        )

    def remaining(self) -> Item:
        bursts = [_step(self.p, s) for s in ("w1", "w2", "w3")]
        served = [p for b in bursts for p in b if p.status == 200]
        if not served:
            return Item(
                "X-RateLimit-Remaining",
                "-",
                "no burst of served calls to compare with",
                outcome="not tested",
            )
        if not any(p.remaining is not None for b in bursts for p in b):
            return Item("X-RateLimit-Remaining", "not sent", "no answer carried it")
        problems = []
        for burst in bursts:
            ok = [p for p in burst if p.status == 200]
            values = [v for v in (_int(p.remaining) for p in ok) if v is not None]
            if len(values) < len(ok):
                problems.append("a served call without a whole number in it")
            if any(b - a != 1 for a, b in zip(values[1:], values[:-1], strict=False)):
                problems.append(f"served calls showed {values}")
            if values and values[-1] != 0:
                problems.append(f"the last call served before a 429 showed {values[-1]}")
        return Item(
            "X-RateLimit-Remaining",
            "agrees" if not problems else "disagrees",
            problems[0]
            if problems
            else f"{len(served)} served calls: it fell by one "
            "with each and reached 0 before the 429",
        )


def _num(header: str | None, fallback: Any) -> float:
    try:
        return float(header) if header is not None else float(fallback)
    except (TypeError, ValueError):
        return 0.0


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _close(value: Any, expected: Any, tolerance: float) -> bool:
    try:
        return abs(float(value) - float(expected)) <= tolerance
    except (TypeError, ValueError):
        return False


#: The account of each probe role: the primary and secondary tokens are one account's.
ROLE_ACCOUNTS: dict[str, str] = {
    Role.PRIMARY: "own",
    Role.SECONDARY: "own",
    Role.OTHER_ACCOUNT: "other",
    Role.LOW_BALANCE: "low-balance",
    "invalid": "unknown-token",
}
_KINDS = {
    "valid": rl.VALID,
    "invalid": rl.INVALID,
    "missing": rl.MISSING_ASSISTANT,
    "no-balance": rl.NO_BALANCE,
    "bad-token": rl.BAD_TOKEN,
}


def calls_of(probes: Sequence[Probe]) -> list[rl.Call]:
    """The probes as the rate-limit model's calls."""
    out = []
    for p in probes:
        headers = dict(p.headers)
        for name, value in (
            ("retry-after", p.retry_after_header),
            ("x-ratelimit-remaining", p.remaining),
            ("x-ratelimit-reset", p.reset),
        ):
            if value is not None:
                headers.setdefault(name, value)
        out.append(
            rl.Call(
                p.role,
                p.sent,
                p.received,
                p.status,
                _KINDS.get(p.kind, p.kind),
                rl.MISSING if p.retry_after is None else p.retry_after,
                rl.MISSING,
                p.retry_after is not None,
                p.content_type,
                headers,
                ROLE_ACCOUNTS.get(p.role, p.role),
                step=p.step,
            )
        )
    return out


def _family(d: rl.Description) -> str:
    if d.family.value == rl.TOKEN_BUCKET and d.burst is not None and d.refill is not None:
        return f"token bucket, burst {d.burst}, one slot every {d.refill:.3g}s"
    return d.family.value


_KIND_OF_FAMILY = {rl.FIXED_WINDOW: "fixed", rl.SLIDING_LOG: "sliding"}
#: The contract's decisions on what counts (x-rate-limit), shown next to the observation.
_DECISIONS = {"422": ("yes", "counts_failed_validation"), "401": ("no", "counts_unauthenticated")}


def _verdict(name: str, value: str, judgement: rl.Judgement, evidence: str | None = None) -> Item:
    return Item(
        name,
        value if judgement.outcome != rl.NOT_TESTED or value != rl.UNKNOWN else "-",
        evidence if evidence is not None else judgement.observed,
        VERDICT,
        judgement.outcome,
        judgement.rule,
    )


def _observed(name: str, finding: rl.Finding) -> Item:
    if finding.value == rl.UNKNOWN:
        return Item(name, "-", finding.evidence, outcome="not tested")
    return Item(name, finding.value, finding.evidence)


def _items(analysis: _Analysis, a: rl.Assessment) -> list[Item]:
    d, v = a.limiter, a.verdicts
    family = d.family.value
    items = [_observed("family", rl.Finding(_family(d), d.family.evidence))]
    limit = v["ratelimit.limit"]
    counted = analysis.counted_in_window()
    if family == rl.TOKEN_BUCKET and d.burst is not None and d.refill is not None:
        value = f"burst {d.burst}, then one every {d.refill:.3g}s"
    elif family in (rl.NO_LIMIT, rl.NEVER_RESETS):
        value = family
    else:
        value = counted or "not measured"
    items.append(_verdict("limit", value, limit))
    length = analysis.window_length()
    if family == rl.NEVER_RESETS or (length is not None and length[0] == "never resets"):
        recovers = v["ratelimit.recovers"]
        items.append(_verdict("window length", "never resets", recovers, d.family.evidence))
    elif family in (rl.TOKEN_BUCKET, rl.SLIDING_COUNTER):
        items.append(_verdict("window length", "none: slots come back one by one", limit))
    elif length is not None:
        items.append(_verdict("window length", length[0], limit, length[1]))
    else:
        items.append(
            Item("window length", "-", "no reset observed", VERDICT, rl.NOT_TESTED, limit.rule)
        )
    kind = _KIND_OF_FAMILY.get(family, family)
    items.append(_observed("window kind", rl.Finding(kind, d.family.evidence)))
    if kind == "fixed":
        items.append(analysis.anchor())
    else:
        items.append(
            Item("window anchor", "-", "only a fixed window has an anchor", outcome="not tested")
        )
    for status in ("422", "404", "402", "401", "429"):
        found = d.counts[status]
        if status in _DECISIONS and found.value != rl.UNKNOWN:
            want, key = _DECISIONS[status]
            agrees = "agrees" if found.value == want else "differs"
            found = rl.Finding(
                found.value, f"{found.evidence}; contract: {key} {want == 'yes'}: {agrees}"
            )
        items.append(_observed(f"{status} counts", found))
    items.append(_verdict("scope", d.scope.value, v["ratelimit.per-token"], d.scope.evidence))
    refusal = v["ratelimit.status-429"]
    items.append(_verdict("refusal", "429" if refusal.outcome == rl.PASS else "-", refusal))
    if refusal.outcome == rl.FAIL:
        items[-1] = _verdict("refusal", "not 429", refusal)
    items.append(_observed("retry_after", d.retry_after))
    honest = {"yes": "yes", "no": "too short"}.get(d.honest.value, "-")
    outcome = {"yes": rl.PASS, "no": rl.FAIL}.get(d.honest.value, rl.NOT_TESTED)
    items.append(
        Item(
            "retry_after honest", honest, d.honest.evidence, VERDICT, outcome, "ratelimit.recovers"
        )
    )
    header = d.headers["Retry-After"]
    if header.value == "not sent":
        items.append(Item("Retry-After header", "not sent", header.evidence))
    else:
        same = v["ratelimit.retry-after.header-agrees"]
        items.append(_verdict("Retry-After header", header.value, same, header.evidence))
    items.append(analysis.remaining())
    items.append(analysis.reset_header())
    if "RateLimit" in d.headers:
        items.append(_observed("RateLimit header", d.headers["RateLimit"]))
    return items


def fingerprint(probes: Sequence[Probe], limit: int, window: float) -> Fingerprint:
    """The fingerprint of the limiter that answered ``probes`` (documented limit and window).

    The probe sequence starts on tokens it assumes unused for a window (run it alone).
    """
    if not probes:
        return Fingerprint([], 0)
    assessment = rl.assess(calls_of(probes), rl.Limits(limit, window), fresh=True)
    items = _items(_Analysis(probes, limit, window), assessment)
    return Fingerprint(items, len(probes), assessment)
