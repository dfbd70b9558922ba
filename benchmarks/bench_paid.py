"""A paid run, measured: the reference at the documented 5 per 60 s, judged as a billed target.

Starts the reference server (limit 5, window 60 s by default) on 127.0.0.1, writes its profile
as a paid target's (exhaustive = false, allow_writes as asked, the default caps), runs
``replyguard check`` against it, and prints the plan made before the first request next to what
was spent, the windows, the wall time and the exit code. Run on demand:

    python benchmarks/bench_paid.py [--window 60] [--allow-writes]
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


def main() -> int:
    """Run one paid check and print the figures; the check's exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--allow-writes", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="replyguard-bench-paid-") as tmp,
        running_reference(
            limit=args.limit, window=args.window, folder=Path(tmp) / "ref"
        ) as reference,
    ):
        profile = dict(reference.profile)
        profile["safety"] = {"allow_writes": args.allow_writes, "exhaustive": False}
        path, report_path = Path(tmp) / "paid.json", Path(tmp) / "report.json"
        path.write_text(json.dumps(profile), encoding="utf-8")
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "replyguard",
                "check",
                "--target",
                str(path),
                "--report-json",
                str(report_path),
                "--format",
                "plain",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        report = json.loads(report_path.read_text(encoding="utf-8"))
    plan, spent, summary = report.get("plan", {}), report.get("spent", {}), report["summary"]
    print(f"limit {args.limit} per {args.window} s, allow_writes {args.allow_writes}")
    print(f"{'':<22}{'planned':>10}{'spent':>10}")
    for key in ("total", "billed_calls", "assistants_created"):
        print(f"{key:<22}{plan.get(key, '-'):>10}{spent.get(key, '-'):>10}")
    for op in sorted(set(plan.get("requests", {})) | set(spent.get("requests", {}))):
        print(f"  {op:<20}{plan['requests'].get(op, 0):>10}{spent['requests'].get(op, 0):>10}")
    section = report.get("ratelimit") or {}
    polls = [c for c in section.get("calls", []) if c.get("probe")]
    print(
        f"polls of the throttled token: {len(polls)} sent, "
        f"{sum(1 for c in polls if c.get('served'))} served (billed); "
        f"the plan allowed up to {plan.get('polls', 0)} beyond its rehearsal's"
    )
    print(f"limiter: {(section.get('limiter') or {}).get('summary', 'not described')}")
    print(
        f"windows planned {plan.get('windows')}, wall time planned {plan.get('seconds', 0):.0f} s"
        f", measured {wall:.0f} s (rehearsal included)"
    )
    print(
        f"verdicts: {summary['pass']} pass, {summary['fail']} fail, {summary['error']} error, "
        f"{summary['not tested']} not tested, {summary['observed']} observed"
    )
    untested = [
        r["rule"]
        for r in report["rules"]
        if r["verdict"] == "not tested" and "budget" in r["reason"]
    ]
    print(f"not tested for budget: {', '.join(untested) or 'none'}")
    print(f"exit code {done.returncode}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
