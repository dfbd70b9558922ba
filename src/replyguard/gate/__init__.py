"""The regression gate: baselines, known deviations, diffs of two runs, re-running failures."""

from __future__ import annotations

from replyguard.gate.apply import DeviationStatus, GateResult, apply_gate
from replyguard.gate.baseline import Comparison, ReportError, compare, load_report
from replyguard.gate.deviations import Deviation, DeviationsError, load_deviations
from replyguard.gate.diff import DiffResult, diff_files, diff_reports
from replyguard.gate.rerun import RerunError, failed_rules
from replyguard.gate.run import GateOptions, GateUsageError, finish_gate, prepare_gate

__all__ = [
    "Comparison",
    "Deviation",
    "DeviationStatus",
    "DeviationsError",
    "DiffResult",
    "GateOptions",
    "GateResult",
    "GateUsageError",
    "ReportError",
    "RerunError",
    "apply_gate",
    "compare",
    "diff_files",
    "diff_reports",
    "failed_rules",
    "finish_gate",
    "load_deviations",
    "load_report",
    "prepare_gate",
]
