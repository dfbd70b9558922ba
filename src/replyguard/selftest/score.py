"""``replyguard selftest``: the detection score of the contract suite.

Every fault of the reference server must be caught by one of its expected rules, and every
correct variant must pass the full suite. The score is the detection rate, the false alarms
and the wall time; the exit status is 0 only when every fault is detected by an expected rule
and no variant has a failing rule.
"""

from __future__ import annotations

import fnmatch
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from replyguard.exit_codes import ExitCode
from replyguard.selftest.expectations import EXPECTATIONS, SAMPLE
from replyguard.selftest.runner import CASE_MODES, WINDOW, Case, CaseResult, registered, run_cases

__all__ = [
    "Score",
    "SelftestOptions",
    "build_cases",
    "exit_code",
    "print_score",
    "run_selftest",
    "score_of",
    "score_report",
]

USAGE_ERROR = ExitCode.COULD_NOT_JUDGE


@dataclass(slots=True)
class SelftestOptions:
    """What to run: fault and variant globs (None: all, unless the other one is given)."""

    faults: str | None = None
    variants: str | None = None
    sample: bool = False
    jobs: int = 2
    report_json: Path | None = None
    window: float = WINDOW
    mode: str = "both"
    """``exhaustive``, ``paid``, or ``both``: variants in both modes, faults exhaustive."""


@dataclass(slots=True, frozen=True)
class Score:
    """The figures of one selftest run."""

    faults: int
    detected: int
    wrong_rule: int
    missed: int
    errors: int
    variants: int
    false_alarms: int
    seconds: float

    @property
    def detection_rate(self) -> float:
        """Detected (by an expected rule) / faults run."""
        return self.detected / self.faults if self.faults else 1.0


def _globs(text: str | None) -> list[str]:
    return [g.strip() for g in (text or "").split(",") if g.strip()]


def _pick(names: Sequence[str], globs: Sequence[str]) -> list[str]:
    return [n for n in names if any(fnmatch.fnmatchcase(n, g) for g in globs)]


def build_cases(
    options: SelftestOptions, faults: Sequence[str], variants: Sequence[str]
) -> list[Case]:
    """The cases to run, from the registered names and the options.

    ``--sample`` is the CI sample and every variant. ``--faults`` and ``--variants`` take
    comma-separated globs; give only one of them and the other runs nothing.
    """
    if options.sample:
        fault_names, variant_names = [n for n in faults if n in SAMPLE], list(variants)
    elif options.faults is None and options.variants is None:
        fault_names, variant_names = list(faults), list(variants)
    else:
        fault_names = _pick(faults, _globs(options.faults))
        variant_names = _pick(variants, _globs(options.variants))
    fault_modes = ("paid",) if options.mode == "paid" else ("exhaustive",)
    variant_modes = CASE_MODES if options.mode == "both" else (options.mode,)
    cases = []
    for mode in fault_modes:
        for name in fault_names:
            expectation = EXPECTATIONS[name]
            cases.append(
                Case(
                    name,
                    "fault",
                    expectation.expect,
                    expectation.run,
                    expectation.limit,
                    mode,
                    expectation.window,
                )
            )
    # Variants run the full suite: a false alarm may come from any rule, in either mode.
    cases += [Case(name, "variant", mode=mode) for mode in variant_modes for name in variant_names]
    return cases


def registry_problems(faults: Sequence[str]) -> list[str]:
    """Faults without an expectation and expectations without a fault, one line each."""
    problems = [
        f"fault {n!r} has no expectation in replyguard.selftest.expectations"
        for n in faults
        if n not in EXPECTATIONS
    ]
    problems += [
        f"expectation {n!r} names no fault of the reference server"
        for n in EXPECTATIONS
        if n not in faults
    ]
    return problems


def score_of(results: Sequence[CaseResult], seconds: float) -> Score:
    """Count the verdicts."""
    faults = [r for r in results if r.case.kind == "fault"]
    variants = [r for r in results if r.case.kind == "variant"]
    return Score(
        faults=len(faults),
        detected=sum(r.verdict == "detected" for r in faults),
        wrong_rule=sum(r.verdict == "wrong rule" for r in faults),
        missed=sum(r.verdict == "missed" for r in faults),
        errors=sum(r.verdict == "error" for r in results),
        variants=len(variants),
        false_alarms=sum(r.verdict == "false alarm" for r in variants),
        seconds=seconds,
    )


def exit_code(results: Sequence[CaseResult]) -> int:
    """0 when every fault is detected by an expected rule and every variant passes."""
    return ExitCode.OK if results and all(r.ok for r in results) else ExitCode.FAILED


def _row(result: CaseResult) -> tuple[str, str, str, str, str]:
    case = result.case
    if result.error is not None:
        rules = result.error
    elif case.kind == "variant":
        rules = ", ".join(result.failing) or "-"
    else:
        others = [r for r in result.failing if r not in result.detected_by]
        rules = ", ".join(result.detected_by) or "-"
        if others:
            shown = ", ".join(others[:3]) + (
                f" and {len(others) - 3} more" if len(others) > 3 else ""
            )
            rules = f"{rules} (also {shown})" if result.detected_by else shown
    expected = ", ".join(case.expect) if case.kind == "fault" else "(full suite, none)"
    return (case.label, expected, result.verdict, rules, f"{result.seconds:.1f}s")


def print_score(results: Sequence[CaseResult], score: Score, console: Console) -> None:
    """The table (one row per case) and the figures."""
    table = Table(title="replyguard selftest", show_lines=False)
    for column in ("fault / variant", "expected rule(s)", "verdict", "failing rules", "time"):
        table.add_column(column, overflow="fold")
    for result in results:
        style = None if result.ok else "bold red"
        table.add_row(*_row(result), style=style)
    console.print(table)
    console.print(
        f"detection rate: {score.detected}/{score.faults} ({score.detection_rate:.0%}); "
        f"detected by the wrong rule: {score.wrong_rule}; missed: {score.missed}; "
        f"false alarms: {score.false_alarms}/{score.variants} variants; errors: {score.errors}; "
        f"total time {score.seconds:.1f}s",
        markup=False,
        soft_wrap=True,
    )


def score_report(results: Sequence[CaseResult], score: Score, jobs: int) -> dict[str, Any]:
    """The JSON report of a selftest run."""
    return {
        "summary": {
            "faults": score.faults,
            "detected": score.detected,
            "detection_rate": round(score.detection_rate, 4),
            "wrong_rule": score.wrong_rule,
            "missed": score.missed,
            "variants": score.variants,
            "false_alarms": score.false_alarms,
            "errors": score.errors,
            "seconds": round(score.seconds, 1),
            "jobs": jobs,
        },
        "cases": [
            {
                "name": r.case.name,
                "kind": r.case.kind,
                "mode": r.case.mode,
                "expected": list(r.case.expect),
                "rules_run": list(r.case.rules) or ["*"],
                "verdict": r.verdict,
                "failing": list(r.failing),
                "detected_by": list(r.detected_by),
                "seconds": round(r.seconds, 1),
                "error": r.error,
                "evidence": list(r.evidence) if r.case.kind == "variant" else [],
            }
            for r in results
        ],
    }


def run_selftest(options: SelftestOptions, console: Console | None = None) -> int:
    """Run the selected cases, print the table and the figures; return the exit status."""
    # A wide table even when captured (CI logs): rule ids are long.
    console = console or Console(width=None if Console().is_terminal else 160)
    started = time.monotonic()
    try:
        faults, variants = registered("fault"), registered("variant")
    except RuntimeError as exc:
        console.print(f"replyguard: {exc}", markup=False, soft_wrap=True)
        return USAGE_ERROR
    problems = registry_problems(faults)
    if problems:
        for line in problems:
            console.print(f"replyguard: {line}", markup=False, soft_wrap=True)
        return USAGE_ERROR
    cases = build_cases(options, faults, variants)
    if not cases:
        console.print("replyguard: no fault or variant matches", markup=False)
        return USAGE_ERROR
    console.print(
        f"replyguard selftest: {len(cases)} cases, {options.jobs} at a time", markup=False
    )
    done = [0]

    def progress(result: CaseResult) -> None:
        done[0] += 1
        console.print(
            f"  [{done[0]}/{len(cases)}] {result.case.label}: {result.verdict} "
            f"({result.seconds:.1f}s)",
            markup=False,
            soft_wrap=True,
        )

    results = run_cases(cases, jobs=options.jobs, window=options.window, on_result=progress)
    score = score_of(results, time.monotonic() - started)
    print_score(results, score, console)
    if options.report_json is not None:
        path = options.report_json
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(
            json.dumps(score_report(results, score, options.jobs), indent=2), encoding="utf-8"
        )
        os.replace(tmp, path)
    return exit_code(results)
