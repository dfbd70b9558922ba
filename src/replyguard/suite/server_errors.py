"""contract.no-server-error, judged on every exchange of the run, whichever test sent it.

Schemathesis' checks see only the cases schemathesis sent; a 5xx answered to the rate-limit
burst (a gateway's 503 page over the limit), a silent-zone probe or a stateful step is as much
a server error. The plugin collects each test's 5xx answers and this makes them one outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from replyguard.exchange import Exchange
from replyguard.verdicts import Outcome

__all__ = ["RULE", "server_error_outcome"]

RULE = "contract.no-server-error"
#: Failures shown per run (the JSON report keeps the count).
_SHOWN = 5


def server_error_outcome(
    seen: Sequence[tuple[str, Exchange]],
    already: Iterable[Outcome],
    secrets: tuple[str, ...],
) -> Outcome | None:
    """One failed outcome for the 5xx answers the tests' own outcomes did not already name."""
    named = {
        v.get("curl")
        for o in already
        for v in o.violations
        if v.get("rule") == RULE and v.get("curl")
    }
    fresh: list[tuple[str, Exchange]] = []
    for test, e in seen:
        # A 5xx seen twice (the session's exchanges and its transport faults) counts once.
        if e.status >= 500 and (curl := e.curl(secrets)) not in named:
            named.add(curl)
            fresh.append((test, e))
    if not fresh:
        return None
    violations = [
        {
            "rule": RULE,
            "test": test,
            "expected": "no answer with a 5xx status, to any request of the run",
            "observed": f"HTTP {e.status} to a request sent by {test}",
            "curl": e.curl(secrets),
            "response": e.summary(secrets),
        }
        for test, e in fresh[:_SHOWN]
    ]
    statuses = sorted({e.status for _, e in fresh})
    reason = f"{len(fresh)} answers with a 5xx status ({', '.join(map(str, statuses))}) in the run"
    return Outcome("(every exchange of the run)", (RULE,), "failed", reason, violations)
