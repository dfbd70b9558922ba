"""The spend plan of a run against a non-exhaustive target, made before its first request.

The plan is a rehearsal: the same suite, with the target's safety settings, its token roles and
its fixtures, run against an embedded reference on loopback (a 1 s window, the target's limit),
uncapped, in a subprocess. Nothing is sent to the target. What the rehearsal spent is what the
real run will spend on a target that keeps the contract (a target that deviates can cost a few
retries more); its pacing steps, replayed at the target's window, give the wall time.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from replyguard.config import RunConfig
from replyguard.profile import POOL_ROLE
from replyguard.reference.launch import running_reference
from replyguard.reference.seed import POOL_TOKENS
from replyguard.suite.budget import BILLED
from replyguard.suite.pacing import Step, replay
from replyguard.suite.polls import most_polls
from replyguard.suite.unicode_mix import describe

__all__ = ["Plan", "PlanError", "rehearse"]

_REHEARSAL_WINDOW = 1


class PlanError(RuntimeError):
    """The rehearsal could not run; the message is one line."""


@dataclass(slots=True)
class Plan:
    """What a run will send: per operation, billable calls, assistants created, tokens, time."""

    requests: dict[str, int] = field(default_factory=dict)
    billed_calls: int = 0
    assistants_created: int = 0
    tokens: list[str] = field(default_factory=list)
    windows: int = 0
    seconds: float = 0.0
    polls: int = 0
    """Polls of a throttled token the run may send beyond the rehearsal's (suite.polls):
    refusals, never billed, but requests (counted against safety.max_requests)."""
    #: The kinds of text beyond ASCII the valid calls carry (suite.unicode_mix).
    unicode: list[str] = field(default_factory=list)
    latency: float = 0.0
    """The preflight's answer time, counted once per request in ``seconds``."""
    bounds: list[str] = field(default_factory=list)
    """Timeouts, the breaker and the time limit, as lines."""

    @property
    def total(self) -> int:
        """All requests of the plan (the most polls included)."""
        return sum(self.requests.values()) + self.polls

    def over_cap(self, config: RunConfig) -> str | None:
        """The one line naming the cap the plan does not fit, or None."""
        safety = config.target.safety
        if safety.max_requests and self.total > safety.max_requests:
            return (
                f"the plan needs {self.total} requests, over safety.max_requests = "
                f"{safety.max_requests} (--max-requests)"
            )
        if safety.max_billed_calls and self.billed_calls > safety.max_billed_calls:
            return (
                f"the plan needs {self.billed_calls} billable generate-reply calls, over "
                f"safety.max_billed_calls = {safety.max_billed_calls} (--max-billed-calls)"
            )
        return None

    def lines(self) -> list[str]:
        """The plan as lines for a person, printed before the first request."""
        per_op = ", ".join(f"{op} {n}" for op, n in sorted(self.requests.items())) or "none"
        polls = (
            f" and up to {self.polls} more polls of a throttled token (refusals: not billed)"
            if self.polls
            else ""
        )
        return [
            f"plan: {self.total - self.polls} requests ({per_op}){polls}",
            f"plan: {self.billed_calls} generate-reply calls can be billed (can answer 200)",
            f"plan: {self.assistants_created} assistants created",
            f"plan: tokens used: {', '.join(self.tokens) or 'none'}",
            f"plan: about {self.windows} rate-limit windows, about {self.seconds:.0f} s"
            + (f" (answers of {self.latency:.2f} s)" if self.latency >= 0.1 else ""),
            *self.bounds,
            f"plan: {describe(self.unicode)}",
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the report keeps it beside what was spent)."""
        return {**asdict(self), "total": self.total}


def _rehearsal_profile(reference: Mapping[str, Any], config: RunConfig) -> dict[str, Any]:
    target = config.target
    profile = dict(reference)
    # The target's fixtures decide which tests run: keep only the roles and ids it has.
    tokens = dict(profile["tokens"])
    for role in list(tokens):
        if role != "pool" and not target.tokens.role(role):
            tokens.pop(role)
    assistants = {
        k: v
        for k, v in profile["assistants"].items()
        if getattr(target.assistants, k, None) is not None
    }
    profile.update(
        tokens=tokens,
        assistants=assistants,
        capabilities={"reply_shows_variables": target.capabilities.reply_shows_variables},
        safety={
            "allow_writes": target.safety.allow_writes,
            "exhaustive": target.safety.exhaustive,
            "max_requests": 0,
            "max_billed_calls": 0,
        },
    )
    return profile


def rehearse(config: RunConfig, *, latency: float = 0.0) -> Plan:
    """Run the suite against an embedded reference shaped like the target; its spend is the plan.

    ``latency``: seconds the preflight's answer took; every request of the plan waits about
    that long for its answer, on top of the rehearsal's loopback time.
    """
    limit = config.target.rate_limit.limit
    # The target's pool, as far as the reference has spare tokens (the replay adds the rest).
    pool = min(len(config.target.tokens.pool), POOL_TOKENS)
    with (
        tempfile.TemporaryDirectory(prefix="replyguard-plan-") as tmp,
        running_reference(
            limit=limit,
            window=_REHEARSAL_WINDOW,
            folder=Path(tmp) / "ref",
            extra_args=("--pool", str(pool)),
        ) as reference,
    ):
        profile_path, report_path = Path(tmp) / "rehearsal.json", Path(tmp) / "report.json"
        profile_path.write_text(
            json.dumps(_rehearsal_profile(reference.profile, config)), encoding="utf-8"
        )
        args = [
            sys.executable,
            "-m",
            "replyguard",
            "check",
            "--target",
            str(profile_path),
            "--report-json",
            str(report_path),
            "--format",
            "plain",
            "--no-plan",
            # The same generated cases as the run it plans.
            "--seed",
            str(config.seed),
        ]
        if config.rules:
            args += ["--rules", ",".join(config.rules)]
        if config.keyword:
            args += ["-k", config.keyword]
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPLYGUARD_")}
        # In its own folder: the rehearsal's report is never the last report (issue 20).
        done = subprocess.run(
            args, capture_output=True, text=True, env=env, timeout=900, check=False, cwd=tmp
        )
        if not report_path.exists():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PlanError(f"the plan's rehearsal did not finish: {tail}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
    requests = {op: n for op, n in report["requests"].items() if op != BILLED}
    # The rehearsal's own answers came over loopback: only a slower network adds time.
    extra = latency if latency >= 0.1 else 0.0
    seconds = _wall_time(report, config) + extra * sum(requests.values())
    window = config.target.rate_limit.window_seconds
    return Plan(
        requests=requests,
        billed_calls=report["requests"].get(BILLED, 0),
        assistants_created=len(report.get("created_assistants", [])),
        tokens=[
            *(r for r in report.get("tokens_used", []) if not r.startswith(f"{POOL_ROLE}.")),
            *([f"pool ({len(config.target.tokens.pool)} tokens)"] if pool else []),
        ],
        windows=max(1, math.ceil(seconds / window)),
        seconds=seconds,
        polls=_unrehearsed_polls(report, config),
        unicode=list(report.get("unicode_in_valid_calls", [])),
        latency=latency,
        bounds=config.bounds.lines(),
    )


def _unrehearsed_polls(report: Mapping[str, Any], config: RunConfig) -> int:
    """Polls of a throttled token the real run may send beyond the rehearsal's.

    The polls after the burst's refusal fall every window / 10 until the token is served
    again, from whenever the suite gets to them: on a 1 s rehearsal the other work has often
    outlasted the window, at the target's window it has not. The plan counts the most one
    refusal can cost. They are refusals (a 429 is not billed), so the billed calls stay.
    """
    calls = (report.get("ratelimit") or {}).get("calls") or []
    sent = sum(1 for call in calls if call.get("probe"))
    if not sent:
        return 0
    return max(0, most_polls(config.target.rate_limit.window_seconds) - sent)


def _wall_time(report: Mapping[str, Any], config: RunConfig) -> float:
    """The rehearsal's pacing replayed at the target's window, plus the work after it.

    Scaling the rehearsal's waits would miss the overlap: what runs while a window resets
    (create-assistant, the other token's calls) hides a wait at 60 s that a 1 s window never
    had. The replay keeps the work between waits and lets the target's window decide the waits.
    """
    rate = config.target.rate_limit
    steps = [Step.from_list(item) for item in report.get("pacing_trace", [])]
    ended, _ = replay(
        steps,
        limit=rate.limit,
        window=rate.window_seconds,
        scale=rate.window_seconds / _REHEARSAL_WINDOW,
        # A pool larger than the rehearsal's spreads the calls more.
        spare=max(0, len(config.target.tokens.pool) - POOL_TOKENS),
    )
    work = float(report["duration_seconds"]) - float(report.get("pacing_wait_seconds", 0.0))
    return ended + max(0.0, work - sum(step.work for step in steps))
