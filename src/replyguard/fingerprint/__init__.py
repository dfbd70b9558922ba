"""The rate-limit fingerprint: what kind of limiter a target runs, each item with evidence.

:func:`run_probes` drives a short, bounded sequence of generate-reply calls through callables
(so the load suite sends them with gevent and tests with plain httpx or a simulated server);
:func:`fingerprint` is a pure function from the recorded :class:`Probe` list to the items.
Items the documents settle are verdicts (``pass`` / ``fail``); the rest are observations.
"""

from replyguard.fingerprint._analysis import Fingerprint, Item, fingerprint
from replyguard.fingerprint._probe import Probe, ProbePlan, probe_from_response, run_probes

__all__ = [
    "Fingerprint",
    "Item",
    "Probe",
    "ProbePlan",
    "fingerprint",
    "probe_from_response",
    "run_probes",
]
