"""How many requests the suite may still spend on a target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replyguard.target import Safety

__all__ = ["REAL_TARGET_GENERATE_REPLY_CAP", "Budget", "BudgetExhausted"]

# Against a real 5-per-minute, pay-per-reply target the whole generate-reply part of the suite
# uses at most this many calls (the contract-suite issue's budget).
REAL_TARGET_GENERATE_REPLY_CAP = 30


class BudgetExhausted(Exception):
    """The run may not send this request; the test reports its rules as not tested."""


@dataclass(slots=True)
class Budget:
    """Caps per operation and overall; 0 means no cap (the reference server)."""

    max_requests: int = 0
    generate_reply_cap: int = 0
    spent: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_target(cls, safety: Safety) -> Budget:
        """The budget a target's (resolved) safety section allows."""
        return cls(max_requests=safety.max_requests,
                   generate_reply_cap=0 if safety.exhaustive else REAL_TARGET_GENERATE_REPLY_CAP)

    @property
    def total(self) -> int:
        return sum(self.spent.values())

    def remaining(self, operation: str) -> float:
        """Requests still allowed for an operation (inf when uncapped)."""
        left = float("inf")
        if self.max_requests:
            left = self.max_requests - self.total
        if operation == "generate_reply" and self.generate_reply_cap:
            left = min(left, self.generate_reply_cap - self.spent.get(operation, 0))
        return max(left, 0)

    def reserve(self, operation: str, count: int = 1) -> None:
        """Fail unless ``count`` more requests fit; a test reserves what it needs up front."""
        if self.remaining(operation) < count:
            raise BudgetExhausted(
                f"request budget spent ({self.total} sent; {operation} needs {count} more)")

    def spend(self, operation: str) -> None:
        """Account for one request, refusing it when the budget is spent."""
        self.reserve(operation)
        self.spent[operation] = self.spent.get(operation, 0) + 1
