"""Spacing generate-reply calls so the suite's own requests are never throttled.

The documents promise ``limit`` calls per ``window`` per token. Keeping at most ``limit`` sends
in any sliding interval of ``window`` (plus a margin for network jitter) stays under the limit
whether the server counts in fixed windows (Laravel) or sliding ones.

Every wait is also written down as a :class:`Step` (the work before it, what it waited for,
which bucket): the plan of a paid run replays the steps of a rehearsal on a short window at the
target's window (:func:`replay`), which is how it knows what overlaps with what.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Pacer", "Step", "replay"]


@dataclass(slots=True, frozen=True)
class Step:
    """One pacing event: ``work`` seconds after the previous one, then ``kind`` on a bucket.

    ``kind`` is acquire (a paced send), record (a deliberate burst's send), quiet (wait for a
    fresh bucket) or pause (a wait for the server's ``retry_after``; with a ``bucket``, the
    wait until that bucket has room again). ``choices``: the buckets a send could have taken
    (the session's "any" token), so a replay at another window chooses again, as the run will.
    Buckets are numbered: a step never holds a token.
    """

    work: float
    kind: str
    bucket: int | None = None
    seconds: float = 0.0
    choices: tuple[int, ...] = ()

    def as_list(self) -> list[object]:
        """Compact JSON form (the report's ``pacing_trace``)."""
        return [
            round(self.work, 4),
            self.kind,
            self.bucket,
            round(self.seconds, 4),
            list(self.choices),
        ]

    @classmethod
    def from_list(cls, item: list[Any]) -> Step:
        """The step of an ``as_list`` form."""
        work, kind, bucket, seconds, choices = item
        return cls(
            float(work),
            str(kind),
            None if bucket is None else int(bucket),
            float(seconds),
            tuple(int(c) for c in choices),
        )


class Pacer:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        margin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self.margin = margin if margin is not None else min(1.0, 0.05 * window + 0.05)
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.waited = 0.0
        self.trace: list[Step] = []
        self._buckets: dict[str, int] = {}
        self._mark = clock()

    def _step(
        self, kind: str, key: str | None, seconds: float = 0.0, choices: Sequence[str] = ()
    ) -> None:
        """Write down a step; call with the lock held, before any sleep of the step."""
        now = self._clock()
        number = functools.partial(_number, self._buckets)
        self.trace.append(
            Step(
                max(0.0, now - self._mark),
                kind,
                None if key is None else number(key),
                seconds,
                tuple(number(c) for c in choices),
            )
        )

    def _done(self) -> None:
        self._mark = self._clock()

    def _log(self, key: str) -> deque[float]:
        return self._sent.setdefault(key, deque())

    def delay(self, key: str) -> float:
        """Seconds to wait before the next send on ``key`` keeps within the limit."""
        now = self._clock()
        log = self._log(key)
        span = self.window + self.margin
        while log and now - log[0] >= span:
            log.popleft()
        if len(log) < self.limit:
            return 0.0
        return log[len(log) - self.limit] + span - now

    def acquire(self, key: str, *, choices: Sequence[str] = ()) -> None:
        """Wait until a send on ``key`` is within the limit, then record it.

        ``choices``: the keys the caller chose ``key`` from (the freest one), for the replay.
        """
        with self._lock:
            self._step("acquire", key, choices=choices)
            wait = self.delay(key)
            if wait > 0:
                self.waited += wait
                self._sleep(wait)
            self._log(key).append(self._clock())
            self._done()

    def record(self, key: str) -> None:
        """Record a send made without waiting (a deliberate burst)."""
        with self._lock:
            self._step("record", key)
            self._log(key).append(self._clock())
            self._done()

    def answered(self, key: str) -> None:
        """The latest send on ``key`` got its answer (or was given up) now.

        The server counted the request when it arrived, somewhere between the send and the
        answer: on a slow network the send time alone would free its slot too early, so the
        slot is held from the answer (issue 20: timing judged from send and answer times).
        """
        with self._lock:
            log = self._log(key)
            if log:
                log[-1] = max(log[-1], self._clock())

    def seed(self, key: str, ago: float) -> None:
        """An earlier run sent on ``key`` ``ago`` seconds ago (``suite.token_state``): its
        window may still hold calls, so :meth:`quiet` waits it out too. Not a step of the
        plan's replay: the rehearsal's target is fresh."""
        if 0 <= ago < self.window + self.margin:
            with self._lock:
                self._log(key).appendleft(self._clock() - ago)

    def quiet_delay(self, key: str) -> float:
        """Seconds :meth:`quiet` would wait on ``key`` now."""
        log = self._log(key)
        return max(0.0, log[-1] + self.window + self.margin - self._clock()) if log else 0.0

    def quiet(self, key: str) -> None:
        """Wait until no send on ``key`` lies within the last window: a fresh bucket."""
        with self._lock:
            self._step("quiet", key)
            log = self._log(key)
            if log:
                wait = log[-1] + self.window + self.margin - self._clock()
                if wait > 0:
                    self.waited += wait
                    self._sleep(wait)
            log.clear()
            self._done()

    def merge(self, keys: Iterable[str], into: str) -> None:
        """Pace ``keys`` as one bucket ``into`` from now on, their sends so far included."""
        with self._lock:
            sent = [t for key in {*keys, into} for t in self._sent.pop(key, ())]
            self._sent[into] = deque(sorted(sent))

    def pause(self, seconds: float, *, key: str | None = None) -> None:
        """Wait for the rate limit on purpose (a test honouring retry_after): counted as such.

        ``key``: the bucket whose ``retry_after`` this is. A replay at another window cannot
        scale the seconds (they depend on when the bucket filled), so it waits until that
        bucket has room, which is what ``retry_after`` says on a target that keeps the limit.
        """
        with self._lock:
            self._step("pause", key, max(seconds, 0.0))
            if seconds > 0:
                self.waited += seconds
                self._sleep(seconds)
            self._done()

    def penalise(self, seconds: float) -> None:
        """The server throttled a paced call anyway: wait what it asked before anything else.

        A pause without a bucket: the replay scales it with the window, as no bucket of ours
        explains it.
        """
        self.pause(seconds)


def replay(
    steps: Iterable[Step], *, limit: int, window: float, scale: float, spare: int = 0
) -> tuple[float, float]:
    """Replay a run's pacing steps at another ``window`` on a virtual clock.

    The work between steps takes what it took; the waits are what this window makes them.
    A pause without a bucket (the server throttled a paced call) is scaled by ``scale``, the
    ratio of the windows. ``spare``: more buckets every "any" send may also choose (the
    target's ``tokens.pool``, which a rehearsal does not have). Returns when the last step ends
    and the seconds spent waiting.
    """
    steps = list(steps)
    first_spare = 1 + max(
        (b for step in steps for b in (step.bucket or 0, *step.choices)), default=0
    )
    pool = tuple(str(first_spare + n) for n in range(spare))
    now = [0.0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(limit, window, clock=lambda: now[0], sleep=advance)
    for step in steps:
        advance(step.work)
        key = str(step.bucket)
        if step.kind == "acquire" and step.choices:
            # Chosen again, as the session does: the first bucket with the shortest wait.
            pacer.acquire(min((*(str(c) for c in step.choices), *pool), key=pacer.delay))
        elif step.kind == "acquire":
            pacer.acquire(key)
        elif step.kind == "record":
            pacer.record(key)
        elif step.kind == "quiet":
            pacer.quiet(key)
        elif step.bucket is not None:
            pacer.pause(pacer.delay(key))
        else:
            pacer.pause(step.seconds * scale)
    return now[0], pacer.waited


def _number(buckets: dict[str, int], key: str) -> int:
    """A key's bucket number (numbered in order of first use)."""
    return buckets.setdefault(key, len(buckets))
