"""How many requests the suite may still spend on a target, and how many of them can be billed.

The real API bills every reply: a generate-reply call "can be billed" when it could answer 200,
that is when it carries an account token and a documented-valid body for an own assistant
(the session decides, ``ApiSession.billable``). Invalid bodies, missing tokens and foreign
assistants are refused and cost nothing but a request; they count only against
``max_requests``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from replyguard.profile import Safety

__all__ = ["BILLED", "Budget", "BudgetExhausted"]

#: The key under which billable generate-reply calls are counted in ``Budget.spent``.
BILLED = "billed_calls"


class BudgetExhausted(Exception):
    """The run may not send this request; the test reports its rules as not tested."""


@dataclass(slots=True)
class Budget:
    """Caps on all requests and on billable calls; 0 means no cap (the reference server)."""

    max_requests: int = 0
    max_billed: int = 0
    spent: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_target(cls, safety: Safety) -> Budget:
        """The budget a target's (resolved) safety section allows."""
        return cls(max_requests=safety.max_requests, max_billed=safety.max_billed_calls)

    @property
    def total(self) -> int:
        """Requests sent so far (billable calls are requests too, counted once)."""
        return sum(n for op, n in self.spent.items() if op != BILLED)

    @property
    def billed(self) -> int:
        """Billable generate-reply calls sent so far."""
        return self.spent.get(BILLED, 0)

    def remaining(self, operation: str, *, billable: bool = False) -> float:
        """Requests still allowed for an operation (inf when uncapped)."""
        left = float("inf")
        if self.max_requests:
            left = self.max_requests - self.total
        if billable and self.max_billed:
            left = min(left, self.max_billed - self.billed)
        return max(left, 0)

    def reserve(self, operation: str, count: int = 1, *, billable: int = 0) -> None:
        """Fail unless ``count`` more requests (``billable`` of them billable) fit."""
        if self.remaining(operation) < count:
            raise BudgetExhausted(
                f"request budget spent ({self.total} sent; {operation} needs {count} more; "
                f"cap safety.max_requests = {self.max_requests})"
            )
        if billable and self.remaining(operation, billable=True) < billable:
            raise BudgetExhausted(
                f"billed-call budget spent ({self.billed} sent; {billable} more needed; "
                f"cap safety.max_billed_calls = {self.max_billed})"
            )

    def spend(self, operation: str, *, billable: bool = False) -> None:
        """Account for one request, refusing it when the budget is spent."""
        self.reserve(operation, billable=int(billable))
        self.spent[operation] = self.spent.get(operation, 0) + 1
        if billable:
            self.spent[BILLED] = self.billed + 1

    def refund(self) -> None:
        """A billable call was answered 429: no reply, so no bill (the request still counts)."""
        if self.billed:
            self.spent[BILLED] = self.billed - 1
