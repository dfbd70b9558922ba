"""From the probes to the fingerprint's items: a pure function, no I/O.

An item is a fact with its evidence. Where the documents settle it ("5 requests per minute per
API token", the 429 body's ``retry_after``), the item is a verdict (``pass`` / ``fail``) naming
the catalogue rule; where they are silent it is an observation (``observed``), compared with
the contract's decision when the contract makes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from replyguard.fingerprint._probe import Probe
from replyguard.profile import Role

__all__ = ["Fingerprint", "Item", "fingerprint"]

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

    # -- the items -------------------------------------------------------------------------

    def limit_and_length(self) -> None:
        prime = _step(self.p, "prime")
        if not prime or _first(prime, 429) is None:
            statuses = sorted({p.status for p in prime})
            self.add(
                "limit",
                f"no 429 after {len(prime)} calls",
                f"{len(prime)} calls with one token answered {statuses}",
                level=VERDICT,
                outcome="fail",
                rule="ratelimit.limit",
            )
            return
        start = _first(_step(self.p, "reset0"), 200)
        quiet = _step(self.p, "quiet")
        if start is None:
            last = prime[-1]
            polls = _step(self.p, "reset0")
            after = quiet[0].status if quiet else "none"
            self.add(
                "limit",
                "not measured",
                "the token never served again",
                level=VERDICT,
                outcome="not tested",
                rule="ratelimit.limit",
            )
            self.add(
                "window length",
                "never resets",
                f"throttled from {self.at(last)}; {len(polls)} polls over "
                f"{_s(polls[-1].received - last.sent) if polls else '0s'} all 429, then "
                f"after a quiet {self.window + 1:g}s: HTTP {after}",
                level=VERDICT,
                outcome="fail" if after != 200 else "observed",
                rule="ratelimit.recovers",
            )
            return
        w1 = _step(self.p, "w1")
        served = 1 + sum(1 for p in w1 if p.status == 200)
        ok = served == self.limit and bool(w1) and w1[-1].status == 429
        self.add(
            "limit",
            f"{served} per window",
            f"window opened at {self.at(start)}: {served} answered 200, the next 429 "
            f"(documented: {self.limit})",
            level=VERDICT,
            outcome="pass" if ok else "fail",
            rule="ratelimit.limit",
        )
        reset = self.reset_of("reset1")
        if reset is None:
            self.add(
                "window length",
                "never resets",
                "no 200 while polling after the count",
                level=VERDICT,
                outcome="fail",
                rule="ratelimit.recovers",
            )
            return
        lo = reset[0] - start.received
        hi = reset[1] - start.sent
        good = lo <= self.window + _LATE and hi >= self.window - _EARLY
        self.add(
            "window length",
            f"{(lo + hi) / 2:.2f}s (between {lo:.2f} and {hi:.2f})",
            f"window opened at {self.at(start)}, first 200 after it at "
            f"{self.at(reset[2])} (documented: {self.window:g}s)",
            level=VERDICT,
            outcome="pass" if good else "fail",
            rule="ratelimit.limit",
        )

    def kind_and_anchor(self) -> None:
        reset = self.reset_of("reset1")
        w2 = _step(self.p, "w2")
        if reset is None or not w2:
            self.untested("window kind", "no second reset observed")
            self.untested("window anchor", "no second reset observed")
            return
        back = 1 + sum(1 for p in w2 if p.status == 200)
        limit = 1 + sum(1 for p in _step(self.p, "w1") if p.status == 200)
        if back >= limit:
            kind = "fixed"
            evidence = f"at the reset ({self.at(reset[2])}) all {back} slots came back at once"
        elif back <= max(1, limit // 2):
            kind = "sliding"
            evidence = (
                f"at the reset ({self.at(reset[2])}) only {back} of {limit} came back: "
                "slots free up as earlier calls age out"
            )
        else:
            kind = "unclear"
            evidence = f"at the reset {back} of {limit} slots came back"
        self.add("window kind", kind, evidence)
        w3 = _step(self.p, "w3")
        opened = _first(w3, 200)
        end = self.reset_of("reset3")
        if kind != "fixed" or opened is None or end is None:
            self.untested(
                "window anchor",
                "only a fixed window has an anchor"
                if kind != "fixed"
                else "no third reset observed",
            )
            return
        span = ((end[0] - opened.received) + (end[1] - opened.sent)) / 2
        if span >= self.window * 0.75:
            value = "first hit"
        elif span <= self.window * 0.6:
            value = "clock"
        else:
            value = "unclear"
        self.add(
            "window anchor",
            value,
            f"a window opened at {self.at(opened)}, 1.5 windows after a reset, reset "
            f"{span:.2f}s later (on the clock it would reset half a window later)",
        )

    def counted(self) -> None:
        for status, step, kind, decision in (
            (422, "422", "invalid", "counts (contract: counts_failed_validation)"),
            (404, "404", "missing", ""),
            (402, "402", "no-balance", ""),
        ):
            calls = _step(self.p, step)
            if not calls:
                self.untested(
                    f"{status} counts",
                    "no such calls (missing token or an earlier step could not finish)",
                )
                continue
            tried = [c for c in calls if c.kind == kind]
            answered = [c.status for c in tried]
            last = calls[-1]
            if status == 402:
                count = sum(1 for s in answered if s == 402)
                value = (
                    "yes"
                    if answered[-1] == 429 and count == len(answered) - 1
                    else "no"
                    if count == len(answered)
                    else "unclear"
                )
                evidence = f"{len(answered)} calls with the low-balance token: {answered}"
            else:
                if any(s != status for s in answered):
                    self.untested(f"{status} counts", f"{kind} calls answered {answered}")
                    continue
                value = "yes" if last.status == 429 else "no" if last.status == 200 else "unclear"
                evidence = (
                    f"after {len(tried)} answers {status} in a fresh window, a valid "
                    f"call answered {last.status}"
                )
            if decision:
                agrees = "agrees" if value == "yes" else "differs"
                evidence += f"; {decision}: {agrees}"
            self.add(f"{status} counts", value, evidence)
        bad = [c.status for c in _step(self.p, "401")]
        if not bad or any(s not in (401, 429) for s in bad):
            self.untested("401 counts", f"calls with an unknown token answered {bad}")
        else:
            value = "yes" if bad[-1] == 429 else "no"
            self.add(
                "401 counts",
                value,
                f"{len(bad)} calls with an unknown token answered "
                f"{bad}; contract: counts_unauthenticated false: "
                f"{'agrees' if value == 'no' else 'differs'}",
            )
        quiet = _step(self.p, "quiet")
        if quiet and quiet[0].status == 200:
            self.add(
                "429 counts",
                "yes",
                "polling every few tenths of a second kept the token "
                "throttled; it was served after a quiet window",
            )
        elif self.reset_of("reset0") is not None:
            polls = [p for p in _step(self.p, "reset0") if p.status == 429]
            self.add("429 counts", "no", f"{len(polls)} throttled polls did not delay the reset")
        else:
            self.untested("429 counts", "the token never recovered")

    def scope(self) -> None:
        calls = {p.role: p.status for p in _step(self.p, "scope")}
        rule = "ratelimit.per-token"
        if Role.SECONDARY not in calls:
            self.untested(
                "scope",
                "needs tokens.secondary while the primary token is throttled",
                level=VERDICT,
                rule=rule,
            )
            return
        # Any answer but a 429 shows the token was not throttled (another account's token may
        # well answer 404 for this account's assistant).
        if calls[Role.SECONDARY] not in (0, 429):
            value, outcome = "token", "pass"
        elif calls.get(Role.OTHER_ACCOUNT) not in (None, 0, 429):
            value, outcome = "account", "fail"
        elif Role.OTHER_ACCOUNT in calls:
            value, outcome = "global", "fail"
        else:
            value, outcome = "account or global", "fail"
        shown = ", ".join(f"{role} {status}" for role, status in calls.items())
        self.add(
            "scope",
            value,
            f"while the primary token was throttled: {shown} (documented: per API token)",
            level=VERDICT,
            outcome=outcome,
            rule=rule,
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
        if self.reset_of("reset0") is None:
            # Never served again: the whole run of 429s is one lockout that had not ended by
            # the last call.
            run = [
                q
                for q in self.p
                if q.role == Role.PRIMARY
                and q.kind == "valid"
                and q.step in ("prime", "reset0", "quiet")
                and q.status == 429
            ]
            if run:
                out.append((run, run[-1].sent, float("inf")))
        return out

    def retry_after(self) -> None:
        lockouts = self.lockouts()
        samples = [
            (q, lo, hi)
            for run, lo, hi in lockouts
            for q in run
            if isinstance(q.retry_after, int | float) and not isinstance(q.retry_after, bool)
        ]
        if not samples:
            self.untested("retry_after", "no 429 with a numeric retry_after before a reset")
            self.untested(
                "retry_after honest",
                "no 429 with a numeric retry_after",
                level=VERDICT,
                rule="ratelimit.recovers",
            )
        else:
            falls = any(len({q.retry_after for q in run}) > 1 for run, _, _ in lockouts)
            values = sorted({q.retry_after for q, _, _ in samples})
            value = (
                "counts down"
                if falls
                else f"constant {values[0]:g}"
                if len(values) == 1
                else "unclear"
            )
            over = max(
                (q.received + q.retry_after - hi for q, _, hi in samples if hi != float("inf")),
                default=0.0,
            )
            self.add(
                "retry_after",
                value,
                f"{len(samples)} throttled answers before "
                f"{len(lockouts)} resets gave {values}; overstates the wait by up to "
                f"{max(0.0, over):.2f}s",
            )
            short = [(q, lo) for q, lo, _ in samples if q.received + q.retry_after < lo - 0.5]
            if short:
                q, lo = short[0]
                self.add(
                    "retry_after honest",
                    "too short",
                    f"retry_after {q.retry_after:g} at {self.at(q)}, still throttled "
                    f"{lo - q.received:.2f}s later",
                    level=VERDICT,
                    outcome="fail",
                    rule="ratelimit.recovers",
                )
            else:
                self.add(
                    "retry_after honest",
                    "yes",
                    "every wait it asked for was enough",
                    level=VERDICT,
                    outcome="pass",
                    rule="ratelimit.recovers",
                )
        self.headers(lockouts)

    def headers(self, lockouts: list[tuple[list[Probe], float, float]]) -> None:
        throttled = [p for p in self.p if p.status == 429 and p.role == Role.PRIMARY]
        with_header = [p for p in throttled if p.retry_after_header is not None]
        if not with_header:
            self.add(
                "Retry-After header",
                "not sent",
                f"{len(throttled)} throttled answers without it (allowed: not documented)",
            )
        else:
            bad = [p for p in with_header if not _close(p.retry_after_header, p.retry_after, 1)]
            self.add(
                "Retry-After header",
                "agrees" if not bad else "disagrees",
                f"{len(with_header)} answers; e.g. Retry-After "
                f"{(bad or with_header)[0].retry_after_header!r}, retry_after "
                f"{(bad or with_header)[0].retry_after!r}",
                level=VERDICT,
                outcome="fail" if bad else "pass",
                rule="ratelimit.retry-after.header-agrees",
            )
        self.remaining()
        resets = [
            (q, hi)
            for run, _, hi in lockouts
            for q in run
            if q.reset is not None and hi != float("inf")
        ]
        if not resets:
            carried = [p for p in throttled if p.reset is not None]
            if carried:
                self.untested(
                    "X-RateLimit-Reset",
                    f"sent on {len(carried)} answers, but no reset was seen to compare it with",
                )
            else:
                self.add("X-RateLimit-Reset", "not sent", "no throttled answer carried it")
            return
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
        self.add(
            "X-RateLimit-Reset",
            value,
            f"{len(resets)} answers; e.g. {q.reset} at {self.at(q)}: now + Retry-After = "
            f"{q.received + _num(q.retry_after_header, q.retry_after):.0f}, reset seen "
            f"at {hi:.0f}",
        )

    def remaining(self) -> None:
        bursts = [_step(self.p, s) for s in ("w1", "w2", "w3")]
        served = [p for b in bursts for p in b if p.status == 200]
        if not served:
            self.untested("X-RateLimit-Remaining", "no burst of served calls to compare with")
            return
        if not any(p.remaining is not None for b in bursts for p in b):
            self.add("X-RateLimit-Remaining", "not sent", "no answer carried it")
            return
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
        self.add(
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


def fingerprint(probes: Sequence[Probe], limit: int, window: float) -> Fingerprint:
    """The fingerprint of the limiter that answered ``probes`` (documented limit and window)."""
    analysis = _Analysis(probes, limit, window)
    if probes:
        analysis.limit_and_length()
        analysis.kind_and_anchor()
        analysis.counted()
        analysis.scope()
        analysis.retry_after()
    return Fingerprint(analysis.items, len(probes))
