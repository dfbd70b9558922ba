"""The gate inside ``replyguard check``: read its inputs before the run, judge after it.

Its options are resolved with every other run option (``replyguard.config``: flag > variable
> profile key > default); the profile keys ``baseline`` and ``known_deviations`` are paths
relative to the profile's folder. Everything that can be wrong with them is found before a
single request is sent to the target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from replyguard.config.gate_options import GateOptions
from replyguard.gate.apply import GateResult, apply_gate
from replyguard.gate.baseline import ReportError, load_report
from replyguard.gate.deviations import Deviation, DeviationsError, load_deviations
from replyguard.gate.rerun import RerunError, rules_to_rerun, selection

__all__ = [
    "GateOptions",
    "GateUsageError",
    "PreparedGate",
    "finish_gate",
    "prepare_gate",
]


class GateUsageError(ValueError):
    """A gate input is unusable: one line for stderr, exit 2."""


@dataclass(slots=True)
class PreparedGate:
    options: GateOptions
    baseline: Mapping[str, Any] | None = None
    baseline_label: str | None = None
    deviations: list[Deviation] = field(default_factory=list)
    deviations_label: str | None = None
    rules: tuple[str, ...] = ()
    """The --rules globs to run with (--last-failed replaces them with exact rule ids)."""
    note: str | None = None
    """A line to print before the run (what --last-failed re-runs, or that it has nothing)."""
    skip_run: bool = False
    """--last-failed found nothing that failed: nothing to run, exit 0."""

    @property
    def active(self) -> bool:
        """Does the gate judge this run (a baseline or known deviations given)?"""
        return self.baseline is not None or self.deviations_label is not None


def prepare_gate(
    options: GateOptions, rules: tuple[str, ...] = (), rule_ids: Iterable[str] | None = None
) -> PreparedGate:
    """Load the baseline, the known deviations and the --last-failed selection up front."""
    prepared = PreparedGate(options, rules=tuple(rules))
    baseline = options.baseline
    if baseline is not None:
        try:
            prepared.baseline = load_report(baseline)
        except ReportError as exc:
            raise GateUsageError(f"--baseline: {exc}") from None
        prepared.baseline_label = str(baseline)
    deviations = options.known_deviations
    if deviations is not None:
        if rule_ids is None:
            from replyguard.spec import load_rules

            rule_ids = load_rules()
        try:
            prepared.deviations = load_deviations(deviations, rule_ids)
        except DeviationsError as exc:
            raise GateUsageError(str(exc)) from None
        prepared.deviations_label = str(deviations)
    if options.last_failed is not None:
        if rules:
            raise GateUsageError("--last-failed chooses the rules itself; drop --rules")
        try:
            source, failed = rules_to_rerun(options.last_failed, options.remember_dir)
            if failed:
                prepared.rules = tuple(selection(failed).split(","))
                prepared.note = (
                    f"--last-failed: re-running the tests of {len(failed)} "
                    f"rule{'s' * (len(failed) != 1)} from {source}: " + ", ".join(failed)
                )
            else:
                prepared.note = (
                    f"--last-failed: no rule failed or erred in {source}: nothing to re-run"
                )
                prepared.skip_run = True
        except RerunError as exc:
            raise GateUsageError(str(exc)) from None
    return prepared


def finish_gate(
    report: MutableMapping[str, Any], prepared: PreparedGate, *, today: dt.date | None = None
) -> GateResult | None:
    """Judge the report when a gate input was given (None otherwise); the engine writes it.

    The result's ``lines`` are for the caller to print after the verdicts.
    """
    if not prepared.active:
        return None
    return apply_gate(
        report,
        baseline=prepared.baseline,
        baseline_label=prepared.baseline_label,
        deviations=prepared.deviations,
        deviations_label=prepared.deviations_label,
        fail_on_drift=prepared.options.fail_on_drift,
        today=today,
    )
