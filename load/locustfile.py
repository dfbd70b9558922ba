"""replyguard load suite: ``locust -f load/locustfile.py [--target PROFILE]`` (load/README.md).

Thin on purpose: the scenarios live in ``load/scenarios.py``, the verdict in ``load/judge.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# locust puts this folder on sys.path; the suite is the package ``load`` one level up.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from locust import events  # noqa: E402

from load.hooks import install  # noqa: E402
from load.probing import RateLimitFingerprint  # noqa: E402
from load.scenarios import (  # noqa: E402
    RateLimitConformance,
    Soak,
    Throughput,
    TokenIsolation,
    WellBehavedClient,
)

__all__ = [
    "RateLimitConformance",
    "RateLimitFingerprint",
    "Soak",
    "Throughput",
    "TokenIsolation",
    "WellBehavedClient",
]

install(events)
