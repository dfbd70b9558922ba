"""One run configuration, resolved once: flag > ``REPLYGUARD_*`` variable > profile > default.

``replyguard check``, ``pytest contract_tests``, the load scenarios and ``replyguard selftest``
all build their :class:`RunConfig` here and pass it on as an object; nothing reads an option
again further down.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from replyguard.config.bounds import Bounds, bounds_from
from replyguard.config.discovery import discover_profile
from replyguard.config.gate_options import GateOptions, gate_options
from replyguard.config.options import OPTIONS, OptionSpec, option
from replyguard.profile import Profile, Target, load_profile

__all__ = ["Choices", "RunConfig", "load_run_config", "read_choices", "run_config"]


@dataclass(slots=True, frozen=True)
class Choices:
    """What the user chose by flag or variable, before the profile is read."""

    values: Mapping[str, Any]
    origins: Mapping[str, str]
    profile: Path | None
    """The profile to read; None: start the embedded reference."""

    def get(self, name: str) -> Any:
        """The chosen value, or None when neither a flag nor a variable set it."""
        return self.values.get(name)


@dataclass(slots=True, frozen=True)
class RunConfig:
    """Everything a run needs, resolved: the target (safety applied) and the run's options."""

    target: Target
    profile_path: Path
    embedded: bool
    strict: bool = False
    rules: tuple[str, ...] = ()
    keyword: str | None = None
    report_json: Path | None = None
    junit_xml: Path | None = None
    format: str = "auto"
    show_passed: bool = True
    reference_window: float = 1.0
    plan: bool | None = None
    """True: print the plan and send nothing; False: no rehearsal; None: rehearse if paid."""
    gate: GateOptions = field(default_factory=GateOptions)
    """The regression gate's inputs (baseline, known deviations, --last-failed, reports)."""
    seed: int = 0
    """The seed of the run's generated cases (--seed, else drawn once here)."""
    origins: Mapping[str, str] = field(default_factory=dict)
    """Where each option's value came from: a flag, a variable, the profile or the default."""
    bounds: Bounds = field(default_factory=Bounds)
    """Timeouts, the transport-fault breaker and the time limit (issue 20)."""

    @property
    def allow_writes(self) -> bool:
        """May the run create assistants."""
        return self.target.safety.allow_writes

    @property
    def max_requests(self) -> int:
        """Cap on the run's requests (0: none)."""
        return self.target.safety.max_requests

    @property
    def max_billed_calls(self) -> int:
        """Cap on generate-reply calls that can be billed (0: none)."""
        return self.target.safety.max_billed_calls


def _flag_name(spec: OptionSpec, value: Any) -> str:
    if spec.boolean and value is False:
        return spec.negative_flag
    return spec.flag


def read_choices(
    flags: Mapping[str, Any], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Choices:
    """Flags (text as typed, or True/False for a flag pair) over variables, each parsed once."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for spec in OPTIONS:
        given = flags.get(spec.name)
        if given is not None:
            origin = _flag_name(spec, given)
            values[spec.name] = (
                given
                if isinstance(given, bool) or not isinstance(given, str)
                else spec.from_text(given, origin)
            )
            origins[spec.name] = f"flag {origin}"
            continue
        text = env.get(spec.env)
        if text is not None and text != "":
            values[spec.name] = spec.from_text(text, spec.env)
            origins[spec.name] = f"variable {spec.env}"
    profile = values.get("target")
    if profile is None:
        profile = discover_profile(cwd or Path.cwd())
        if profile is not None:
            origins["target"] = f"found {profile}"
    return Choices(values, origins, profile)


def _profile_value(profile: Profile, key: str) -> Any:
    node: Any = profile.raw
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def run_config(choices: Choices, profile: Profile, *, embedded: bool = False) -> RunConfig:
    """Apply the choices over the profile's keys over the defaults, once."""
    origins = dict(choices.origins)
    resolved: dict[str, Any] = {}
    for spec in OPTIONS:
        value = choices.get(spec.name)
        if value is None and spec.profile is not None:
            value = _profile_value(profile, spec.profile)
            if value is not None:
                origins[spec.name] = f"profile key {spec.profile}"
        if value is None:
            origins.setdefault(spec.name, "default")
        resolved[spec.name] = value
    # The loader already applied the profile and the defaults to the safety section (its
    # defaults depend on the target: an exhaustive one has no caps); a flag or variable wins.
    safety = profile.target.safety
    overrides = {
        name: resolved[name]
        for name in ("allow_writes", "max_requests", "max_billed_calls")
        if choices.get(name) is not None
    }
    target = replace(profile.target, safety=replace(safety, **overrides))

    def final(name: str) -> Any:
        value = resolved[name]
        return option(name).default if value is None else value

    rules = tuple(g.strip() for g in (final("rules") or "").split(",") if g.strip())
    return RunConfig(
        target=target,
        profile_path=Path(profile.path),
        embedded=embedded,
        strict=bool(final("strict")),
        rules=rules,
        keyword=final("keyword"),
        report_json=final("report_json"),
        junit_xml=final("junit_xml"),
        format=final("format"),
        show_passed=bool(final("show_passed")),
        reference_window=float(final("reference_window")),
        plan=final("plan"),
        gate=gate_options(final, origins, Path(profile.path)),
        origins=origins,
        # Drawn once when not given, so the report can name the seed that replays the run.
        seed=secrets.randbelow(2**32) if final("seed") is None else int(final("seed")),
        bounds=bounds_from(final, origins),
    )


def load_run_config(choices: Choices, profile_path: Path, *, embedded: bool = False) -> RunConfig:
    """Read the profile (once) and resolve the run against it."""
    return run_config(choices, load_profile(profile_path), embedded=embedded)
