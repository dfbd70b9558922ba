"""Behaviour in the zones the documents do not settle: recorded, never judged by default.

Each silent zone has a catalogue id ``silent.<zone>`` (``openapi/rules.yaml``) and an entry in
the contract's ``x-replyguard-silent-zones`` with the evidence for why it is open. A probe into a
zone records what was sent, what came back and the contract's own decision. By default the
zone's verdict is ``observed``; with ``--strict`` the contract's decision is enforced and a
disagreeing observation fails the zone's rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from replyguard.exchange import Exchange

__all__ = ["Observation", "ObservationLog"]


@dataclass(slots=True, frozen=True)
class Observation:
    zone: str
    """The silent zone's rule id, ``silent.<zone>``."""
    probe: str
    """What was sent, in words: ``"123" (a numeric string) for integer max_duration``."""
    answer: str
    """What came back, in words: ``accepted (201)`` or ``rejected (422 keyed by max_duration)``."""
    decision: str
    """The contract's decision for this probe, in words: ``reject with 422``."""
    agrees: bool
    """Whether the target did what the contract decides."""
    test: str = ""
    curl: str = ""
    response: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(slots=True)
class ObservationLog:
    """The observations of one run, in the order they were made."""

    secrets: tuple[str, ...] = ()
    items: list[Observation] = field(default_factory=list)
    bodies: Path | None = None
    """Where a reproduction's long request body is written."""
    current_test: str = ""

    def record(
        self,
        zone: str,
        probe: str,
        exchange: Exchange | None,
        *,
        answer: str,
        decision: str,
        agrees: bool,
    ) -> Observation:
        """Record one probe's answer; the exchange is masked before it is kept."""
        observation = Observation(
            zone=zone,
            probe=probe,
            answer=answer,
            decision=decision,
            agrees=agrees,
            test=self.current_test,
            curl=exchange.curl(self.secrets, self.bodies) if exchange else "",
            response=exchange.summary(self.secrets) if exchange else "",
        )
        self.items.append(observation)
        return observation

    def by_zone(self) -> dict[str, list[Observation]]:
        """The observations grouped by zone, zones in first-seen order."""
        grouped: dict[str, list[Observation]] = {}
        for item in self.items:
            grouped.setdefault(item.zone, []).append(item)
        return grouped
