"""What one load run knows: its targets, its observations and its verdict.

The master (or the single local process) resolves the targets once, from ``--target`` or from
embedded reference servers, and hands them to workers as plain data; every process keeps its
observations in :data:`STATE`. Free of locust imports, so it can be reasoned about on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from load.judge import Observation, Settings, Verdict, judge
from load.options import is_loopback
from load.recorder import Recorder, RequestCap
from replyguard.config import load_run_config, read_choices
from replyguard.fingerprint import Fingerprint, Probe, fingerprint
from replyguard.masking import mask_secrets
from replyguard.profile import ACCOUNT_ROLES, TOKEN_ROLES, Role, Target, Tokens

__all__ = [
    "STATE",
    "RunState",
    "TargetInfo",
    "TargetRefused",
    "scenario_roles",
    "scenario_settings",
]

THROUGHPUT_LIMIT = 100_000_000


class TargetRefused(RuntimeError):
    """The target may not be load-tested (not on loopback without --replyguard-allow-remote)."""


@dataclass(slots=True, frozen=True, repr=False)
class TargetInfo:
    """The part of a target profile the load users need; sent to workers as a dict."""

    base_url: str
    generate_reply_path: str
    tokens: Tokens
    assistant: int
    limit: int
    window: float
    source: str
    low_balance_assistant: int | None = None
    foreign_assistant: int | None = None

    def __repr__(self) -> str:
        return f"TargetInfo({self.base_url}, limit={self.limit}/{self.window:g}s)"

    @classmethod
    def from_target(cls, target: Target) -> TargetInfo:
        """Take what the scenarios use from a profile loaded by ``replyguard.profile``."""
        return cls(
            target.base_url,
            target.paths.generate_reply,
            target.tokens,
            target.assistants.own,
            target.rate_limit.limit,
            target.rate_limit.window_seconds,
            target.source,
            target.assistants.low_balance,
            target.assistants.foreign,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetInfo:
        """The inverse of :func:`dataclasses.asdict`."""
        return cls(**{**data, "tokens": Tokens(**data["tokens"])})

    def token(self, role: str) -> str:
        """The token of a role; a role the profile has no token for sends the primary one."""
        return self.tokens.role(role) or self.tokens.primary

    def roles(self) -> frozenset[Role]:
        """The token roles this profile has (low_balance only with its assistant)."""
        present = {role for role in TOKEN_ROLES if self.tokens.role(role)}
        if not self.low_balance_assistant:
            present.discard(Role.LOW_BALANCE)
        return frozenset(present)

    def secrets(self) -> tuple[str, ...]:
        """Values never to print."""
        return self.tokens.secrets()


def checked_target(path: str, allow_remote: bool) -> TargetInfo:
    """Resolve a profile as every run does and refuse it unless it is on loopback (or remote
    targets are allowed)."""
    config = load_run_config(read_choices({"target": path}), Path(path))
    info = TargetInfo.from_target(config.target)
    if not allow_remote and not is_loopback(info.base_url):
        raise TargetRefused(
            f"replyguard: refusing to load-test {info.base_url} (from {path}): not a loopback "
            "address; pass --replyguard-allow-remote if you own it and mean it"
        )
    return info


@dataclass(slots=True)
class RunState:
    """Everything this process holds about the current run."""

    targets: dict[str, TargetInfo] = field(default_factory=dict)
    recorder: Recorder = field(default_factory=Recorder)
    budget: RequestCap = field(default_factory=lambda: RequestCap(5000))
    scenarios: set[str] = field(default_factory=set)
    """Scenario names that ran (the User classes' ``scenario`` attribute)."""
    min_efficiency: float = 0.6
    verdict: Verdict | None = None
    finals: set[str] = field(default_factory=set)
    """Workers whose last batch of this run has arrived (master only)."""
    seen_workers: set[str] = field(default_factory=set)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    """Embedded reference servers, closed at quit."""
    user_serial: int = 0
    sent_final: bool = False
    """Whether this worker has sent its last batch of the run."""
    live: Verdict | None = None
    """The latest verdict on the data so far, while the test runs (advisory)."""
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Token roles of each scenario in this run (sent to workers with the targets)."""
    probes: list[Probe] = field(default_factory=list)
    """The fingerprint scenario's calls (empty until it finished)."""
    fingerprint: Fingerprint | None = None
    planned: set[str] = field(default_factory=set)
    """Scenarios the web UI will run when started (for the tab's "will judge" rows)."""

    def secrets(self) -> tuple[str, ...]:
        """Every token of every target."""
        return tuple(s for t in self.targets.values() for s in t.secrets())

    def mask(self, text: str) -> str:
        """``text`` without any token."""
        return mask_secrets(text, self.secrets())

    def targets_as_data(self) -> dict[str, dict[str, Any]]:
        """The targets as plain data for the workers."""
        return {name: asdict(info) for name, info in self.targets.items()}

    def set_targets(self, data: dict[str, dict[str, Any]]) -> None:
        """Install targets received from the master."""
        self.targets = {name: TargetInfo.from_dict(d) for name, d in data.items()}

    def start_run(self) -> None:
        """A new test run: forget the previous run's observations and verdict."""
        self.recorder.reset()
        self.verdict = self.live = None
        self.fingerprint = None
        self.probes = []
        self.sent_final = False
        self.finals.clear()
        self.seen_workers.clear()
        self.budget.used = 0

    def judge(self, observations: Iterable[Observation] | None = None) -> Verdict:
        """Judge the run (all observations, or the given ones for a live look)."""
        obs = list(self.recorder.observations if observations is None else observations)
        verdict = judge_run(
            obs,
            self.targets,
            self.scenarios,
            gave_up=self.recorder.gave_up,
            messages=self.recorder.messages,
            min_efficiency=self.min_efficiency,
        )
        if "fingerprint" in self.scenarios:
            self.fingerprint_verdict(verdict)
        return verdict

    def set_probes(self, probes: list[Probe]) -> None:
        """Keep the fingerprint scenario's calls and compute the fingerprint."""
        self.probes = list(probes)
        info = self.targets.get("rate-limit")
        if info is not None:
            self.fingerprint = fingerprint(self.probes, info.limit, info.window)

    def fingerprint_verdict(self, verdict: Verdict) -> None:
        """Fold the fingerprint's failed verdict items into ``verdict``."""
        if self.fingerprint is None:
            verdict.notes.append(
                "fingerprint: the probe sequence has not finished (run longer: about 7 windows)"
            )
            return
        verdict.observations += len(self.probes)
        for item in self.fingerprint.items:
            if item.outcome == "fail":
                # Keyed by the rule, like every other violation; the item names the measurement.
                verdict.add(item.rule, f"fingerprint {item.name}: {item.value}: {item.evidence}")


def scenario_roles(scenarios: set[str], target: TargetInfo | None) -> dict[str, tuple[str, ...]]:
    """Which token roles each scenario's users take in this run.

    Run together (the default), conformance keeps the primary token and isolation takes the
    secondary one, so each is judged on its own token while a limit shared by the account
    still shows as one token's shortfall made up by the other's traffic.
    """
    primary: tuple[str, ...] = (Role.PRIMARY,)
    roles = {
        "conformance": primary,
        "isolation": ACCOUNT_ROLES,
        "well-behaved": ACCOUNT_ROLES,
        "soak": ACCOUNT_ROLES,
        "throughput": primary,
        "fingerprint": primary,
    }
    if "conformance" in scenarios and "isolation" in scenarios:
        roles["isolation"] = (Role.SECONDARY,)
    if target is not None and not target.tokens.secondary:
        roles = dict.fromkeys(roles, primary)
    return roles


def scenario_settings(scenarios: set[str], target: TargetInfo, min_efficiency: float) -> Settings:
    """Judge settings for the rate-limited scenarios that ran together on one target."""
    overload: list[str] = []
    if "conformance" in scenarios:
        overload.append(Role.PRIMARY)
    account: tuple[str, ...] = ()
    if ("isolation" in scenarios or "soak" in scenarios) and target.tokens.secondary:
        overload += ACCOUNT_ROLES
        account = ACCOUNT_ROLES
    elif "isolation" in scenarios or "soak" in scenarios:
        overload.append(Role.PRIMARY)
    efficiency: tuple[str, ...] = ()
    # The ratio only means something when well-behaved clients are alone on their tokens.
    alone = scenarios == {"well-behaved"}
    if alone:
        efficiency = ACCOUNT_ROLES if target.tokens.secondary else (Role.PRIMARY,)
    return Settings(
        limit=target.limit,
        window=target.window,
        require_overload=tuple(dict.fromkeys(overload)),
        account_tokens=account,
        min_efficiency=min_efficiency if alone else None,
        efficiency_tokens=efficiency,
        exact_windows=scenarios == {"soak"},
    )


def judge_run(
    obs: list[Observation],
    targets: dict[str, TargetInfo],
    scenarios: set[str],
    *,
    gave_up: int,
    messages: int,
    min_efficiency: float,
) -> Verdict:
    """One verdict for the run: the rate-limit target and the throughput target judged apart."""
    limited = [o for o in obs if o.scenario not in ("throughput", "fingerprint")]
    fast = [o for o in obs if o.scenario == "throughput"]
    verdict = Verdict()
    # The fingerprint's calls are judged by the fingerprint, not by the window judge.
    rate_scenarios = scenarios - {"throughput", "fingerprint"}
    if rate_scenarios and "rate-limit" in targets:
        info = targets["rate-limit"]
        settings = scenario_settings(rate_scenarios, info, min_efficiency)
        verdict = judge(limited, settings, gave_up=gave_up, messages=messages)
        if rate_scenarios & {"isolation", "soak"} and not info.tokens.secondary:
            verdict.notes.append("per-token isolation: the profile has no tokens.secondary")
    if "throughput" in scenarios and "throughput" in targets:
        info = targets["throughput"]
        part = judge(fast, Settings(limit=info.limit, window=info.window, check_rate_limit=False))
        for kind, count in part.counts.items():
            verdict.counts[f"throughput: {kind}"] = count
            verdict.examples[f"throughput: {kind}"] = part.examples[kind]
        verdict.observations += part.observations
        if fast:
            span = max(o.received for o in fast) - min(o.sent for o in fast)
            verdict.figures["throughput: requests"] = len(fast)
            verdict.figures["throughput: requests/s"] = round(len(fast) / max(span, 1e-9), 1)
    return verdict


STATE = RunState()
"""This process's run state (one per locust process)."""
