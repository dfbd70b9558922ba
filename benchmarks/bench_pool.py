"""An exhaustive check at the documented window (5 per 60 s), with a pool of account tokens.

Run: ``.venv/bin/python benchmarks/bench_pool.py [--pool 8] [--budget 240]``.

Starts the reference server at 5 generate-reply calls per 60 s per token (the documents'
limit) with ``--pool N``, so that its free (exhaustive) target profile lists ``N`` more tokens
of the primary's account as ``tokens.pool``, runs ``replyguard check`` on it and prints the
wall time. Exit 0 when the check exits 0 within ``--budget`` seconds; with
``--pool 0`` it measures the two-token run for comparison. Loopback only; the check is bounded
by its own pacing and by ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replyguard.reference.launch import running_reference
from replyguard.reference.seed import POOL_TOKENS

#: The documents: "5 requests per minute per API token".
LIMIT, WINDOW = 5, 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=8, help="tokens in tokens.pool (0: none)")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds the check may take")
    parser.add_argument("--timeout", type=float, default=1800.0, help="hard stop, seconds")
    args = parser.parse_args()
    if not 0 <= args.pool <= POOL_TOKENS:
        print(f"--pool 0..{POOL_TOKENS}: the reference seeds {POOL_TOKENS} spare tokens")
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="replyguard-bench-pool-") as tmp,
        running_reference(
            limit=LIMIT,
            window=WINDOW,
            folder=Path(tmp) / "ref",
            # The profile lists that many more tokens of the primary's account (tokens.pool).
            extra_args=("--pool", str(args.pool)),
        ) as reference,
    ):
        profile = dict(reference.profile)
        path = Path(tmp) / "pool.json"
        path.write_text(json.dumps(profile), encoding="utf-8")
        report = Path(tmp) / "report.json"
        started = time.monotonic()
        done = subprocess.run(
            [
                *(sys.executable, "-m", "replyguard", "check", "--target", str(path)),
                *("--format", "plain", "--report-json", str(report)),
            ],
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=False,
        )
        seconds = time.monotonic() - started
        summary = next(
            (line for line in reversed(done.stdout.splitlines()) if " rules in " in line), ""
        )
        waited = json.loads(report.read_text(encoding="utf-8")).get("pacing_wait_seconds")
    tokens = 2 + args.pool
    print(f"exhaustive check at {LIMIT} per {WINDOW} s, {tokens} account tokens (pool {args.pool})")
    print(f"  exit {done.returncode} in {seconds:.0f} s (budget {args.budget:.0f} s)")
    print(f"  pacing waits: {waited} s")
    print(f"  {summary}")
    if done.returncode != 0:
        print(done.stdout[-3000:] + done.stderr[-2000:])
    return 0 if done.returncode == 0 and seconds <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
