"""The bounds of a run on a real network: timeouts, the transport-fault breaker, the time limit.

Resolved with every other option (flag > variable > profile key > default); a profile's value
is parsed by the option's own parser, so a bad one gets the same one-line error as a flag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from replyguard.config.options import ConfigError, option

__all__ = ["Bounds", "bounds_from"]


@dataclass(slots=True, frozen=True)
class Bounds:
    """How long a request and the run may take, and how many transport faults it tolerates."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_faults: str = "10%"
    """A count ("12") or a share of the requests sent ("10%"); the breaker never trips below 5."""
    max_seconds: float = 3600.0
    """0: no limit."""

    @property
    def fault_share(self) -> float:
        """The breaker's share of the requests sent (0 when a count is given)."""
        if self.max_faults.endswith("%"):
            return float(self.max_faults.removesuffix("%")) / 100
        return 0.0

    @property
    def fault_floor(self) -> int:
        """The breaker's count: the given count, else 5."""
        return 5 if self.max_faults.endswith("%") else max(5, int(self.max_faults))

    def lines(self) -> list[str]:
        """The bounds as the plan shows them."""
        limit = f"{self.max_seconds:g} s" if self.max_seconds else "none"
        return [
            f"plan: timeouts: connect {self.connect_timeout:g} s, answer {self.read_timeout:g} s; "
            f"stops after more than {self.max_faults} transport faults (at least 5); "
            f"time limit {limit} (--max-seconds)"
        ]


def bounds_from(final: Callable[[str], Any], origins: Mapping[str, str]) -> Bounds:
    """The bounds from the resolved option values (a profile's raw value parsed here)."""

    def value(name: str) -> Any:
        raw = final(name)
        origin = origins.get(name, "")
        if origin.startswith("profile key") and not isinstance(raw, str | bool):
            raw = option(name).from_text(str(raw), origin)
        elif isinstance(raw, bool):
            raise ConfigError(f"{origin}: expected a number, got {raw!r}")
        elif origin.startswith("profile key"):
            raw = option(name).from_text(raw, origin)
        return raw

    return Bounds(
        connect_timeout=float(value("connect_timeout")),
        read_timeout=float(value("read_timeout")),
        max_faults=str(value("max_transport_faults")),
        max_seconds=float(value("max_seconds")),
    )
