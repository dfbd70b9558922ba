"""The regression gate's options, resolved with every other run option.

The profile keys ``baseline`` and ``known_deviations`` (and the report paths) are relative to
the profile's folder; the gate itself (``replyguard.gate``) reads what they point at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["GateOptions", "gate_options"]


@dataclass(slots=True)
class GateOptions:
    baseline: Path | None = None
    known_deviations: Path | None = None
    fail_on_drift: bool = False
    last_failed: str | None = None
    """None: off; "": the last report written here; else a report's path."""
    report_html: Path | None = None
    report_md: Path | None = None
    remember_dir: Path | None = None
    """Where ``.replyguard/last-report.json`` goes; default: the working directory."""


def gate_options(
    value: Callable[[str], Any], origins: Mapping[str, str], profile_path: Path
) -> GateOptions:
    """The gate's options from the resolved run options; a profile's paths read beside it."""

    def path(name: str) -> Path | None:
        given = value(name)
        if given is None:
            return None
        result = Path(given)
        if origins.get(name, "").startswith("profile key") and not result.is_absolute():
            result = profile_path.parent / result
        return result

    return GateOptions(
        baseline=path("baseline"),
        known_deviations=path("known_deviations"),
        fail_on_drift=bool(value("fail_on_drift")),
        last_failed=value("last_failed"),
        report_html=path("report_html"),
        report_md=path("report_md"),
    )
