"""Scale, bounded: the soak scenario and locust's own fork mode (``--processes``).

Brief versions of the runs documented in load/README.md: a 1 s window so that ten windows
take a dozen seconds.
"""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from pathlib import Path

import pytest

from replyguard.reference.launch import running_reference
from tests.integration.test_load import (
    _figure,
    _free_port,
    _sent,
    _totals,
    locust,
    locust_many,
)

pytestmark = pytest.mark.integration


def _stored_replies(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM messages WHERE role = 'customer'").fetchone()[0]
        )


def test_soak_counts_exact_in_every_window_and_nothing_lost(tmp_path: Path) -> None:
    with running_reference(limit=5, window=1, workers=4) as ref:
        run = locust(
            [
                "-u",
                "200",
                "-r",
                "200",
                "-t",
                "17s",
                "--scenario",
                "soak",
                "--target",
                str(ref.profile_path),
            ],
            timeout=60,
        )
        stored = _stored_replies(ref.db_path)
    assert run.code == 0, run.output[-3000:]
    assert '"Soak": 200' in run.output
    for token in ("primary", "secondary"):
        assert _figure(run.output, f"{token}: windows") >= 10, run.output[-3000:]
        assert _figure(run.output, f"{token}: throttled") > 0
    assert "VIOLATION" not in run.output
    _sent(run.output)  # locust's total equals the requests sent
    totals = _totals(run.output)
    assert totals["lost"] == 0
    # Nothing lost: every reply the users saw is stored, and the server stored no other.
    assert totals["served"] <= stored <= totals["served"] + totals["cut"], (totals, stored)
    assert totals["served"] == sum(
        _figure(run.output, f"{t}: served") for t in ("primary", "secondary")
    )


def test_processes_give_the_same_verdict() -> None:
    """``--processes 2`` (fork mode: a master and two workers) judges like one process."""
    with ExitStack() as stack:
        good = stack.enter_context(running_reference(limit=5, window=2))
        bad = stack.enter_context(
            running_reference(
                limit=5, window=2, extra_args=["--fault", "ratelimit.shared-per-account"]
            )
        )
        ports = [str(_free_port()) for _ in range(2)]
        runs = locust_many(
            [
                [
                    "-u",
                    "20",
                    "-r",
                    "20",
                    "-t",
                    "8s",
                    "--processes",
                    "2",
                    "--master-bind-port",
                    port,
                    "--master-port",
                    port,
                    "--target",
                    str(ref.profile_path),
                ]
                for ref, port in zip((good, bad), ports, strict=True)
            ],
            timeout=60,
        )
    passed, failed = runs
    assert passed.code == 0, passed.output[-3000:]
    assert "replyguard verdict: PASS" in passed.output
    assert _figure(passed.output, "secondary: throttled") > 0
    assert "no final observations" not in passed.output
    assert failed.code == 1, failed.output[-3000:]
    assert "VIOLATION ratelimit.per-token: " in failed.output
