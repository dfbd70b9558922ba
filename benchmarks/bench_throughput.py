"""Side by side: generate-reply throughput of the reference server, Prism and other servers.

Run: ``.venv/bin/python benchmarks/bench_throughput.py [--rounds 5] [--seconds 8]
[--workers 1] [--other NAME=URL[@TOKEN_ENV]] ...``

- The reference starts on a fresh database with a raised limit (never throttles in the run); it
  persists every conversation, and the script checks that afterwards (two stored messages per
  200) and checks that the limit is still exact under a concurrent burst.
- Prism (``@stoplight/prism-cli``, installed with ``npm install --prefix`` under
  ``~/.cache/replyguard/prism``) serves the contract's static examples: ``prism mock -v error``.
- Any other server: ``--other NAME=http://127.0.0.1:PORT/api``; a token comes from the
  environment variable named after ``@`` (never printed).

The load tool is wrk (``apt-get install wrk``), driven with a Lua script that varies the
customer identifier. Every timed request carries a documented-valid body (checked with the
suite's classifier before the first request), and the Lua script counts every answer that is
not a 200: a ratio is printed only when every target answered 200 to every timed request
(like for like), else the script says which did not and exits 1. Targets are alternated
within each round, and the medians of the rounds are printed with the ratio to Prism.
Loopback only, every run bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from replyguard.reference.launch import EmbeddedReference, start_reference

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "assistant-api.yaml"
PRISM_VERSION = "5.14.2"
PRISM_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "replyguard" / "prism"
REPLY_PATH = "/user/ai/generate-reply"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

#: The one body every timed request sends (``n`` varies the identifier and the message):
#: documented-valid, so every target must answer 200 and the ratio compares like with like.
#: Variables hold strings only: an integer there is the silent zone json-type-leniency, which
#: Prism (the strict reading) answers with its 422 example.
BODY = (
    '{"assistant_id": 101, "customer_identifier": "bench-%d", "message": "hello %d",'
    ' "variables": {"n": "%d"}}'
)

LUA = r"""
local n = 0
-- A global, not a local: done() reads each thread's count with thread:get().
not200 = 0
local threads = {}
local token = os.getenv("BENCH_TOKEN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
function setup(thread)
  table.insert(threads, thread)
end
request = function()
  n = n + 1
  local body = string.format('BODY', n % 500, n, n % 7)
  return wrk.format(nil, nil, nil, body)
end
response = function(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 end
end
done = function(summary, latency, requests)
  local others = 0
  for _, thread in ipairs(threads) do others = others + thread:get("not200") end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "not_200": %d,'
    .. ' "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status, others,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
""".replace("BODY", BODY)


def documented_valid(reference: EmbeddedReference) -> None:
    """Every body the Lua script sends is documented-valid (the suite's own classifier)."""
    from replyguard.profile import parse_target
    from replyguard.suite.schemas import InputSpace

    space = InputSpace(parse_target(reference.profile, env={}), "generate_reply")
    for n in range(500):
        body = json.loads(BODY % (n % 500, n, n % 7))
        if space.region(body) != "valid":
            raise SystemExit(f"bench_throughput: not a documented-valid body: {body}")


def unlike(targets: list[Target]) -> list[str]:
    """Why the ratio would compare unlike answers: a target that did not answer 200 to every
    timed request (another status, or no answer at all)."""
    return [
        f"{target.name}: {sum(r['not_200'] for r in target.results)} timed requests answered"
        f" other than 200, {sum(r['socket_errors'] for r in target.results)} not answered"
        for target in targets
        if any(r["not_200"] or r["socket_errors"] for r in target.results)
    ]


@dataclass(slots=True)
class Target:
    """One server under load: where generate-reply is and how to authenticate."""

    name: str
    url: str
    token: str
    stop: object = None
    results: list[dict[str, float]] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def prism_binary() -> Path:
    """Prism from the npm registry, installed once under the cache directory."""
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install @stoplight/prism-cli")
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing @stoplight/prism-cli@{PRISM_VERSION} under {PRISM_DIR}", flush=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(PRISM_DIR),
                "--no-audit",
                "--no-fund",
                f"@stoplight/prism-cli@{PRISM_VERSION}",
            ],
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
    return binary


def start_prism(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``prism mock -v error`` on the contract, on a free loopback port."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(prism_binary()),
                "mock",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-v",
                "error",
                str(SPEC),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, 60)
    except RuntimeError:
        process.kill()
        raise
    return process, f"http://127.0.0.1:{port}"


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"bench_throughput: {url} is not on loopback; load goes to 127.0.0.1 only")


def run_wrk(target: Target, script: Path, args: argparse.Namespace) -> dict[str, float]:
    """One wrk run against ``target``; requests/s, p50/p99 in ms, non-2xx count."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        target.url + REPLY_PATH,
    ]
    env = {**os.environ, "BENCH_TOKEN": target.token}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=args.seconds + 60
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result for {target.name}: {done.stderr.strip()}")
    raw = json.loads(line.removeprefix("RESULT "))
    seconds = raw["duration_us"] / 1e6
    return {
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "non_2xx": raw["non_2xx"],
        "not_200": raw["not_200"],
        "socket_errors": raw["socket_errors"],
    }


def persisted(reference: EmbeddedReference) -> tuple[int, int]:
    """(conversations, messages) stored by the reference."""
    conn = sqlite3.connect(reference.db_path)
    try:
        conversations = conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        conn.close()
    return int(conversations), int(messages)


def exact_limit(folder: Path, workers: int, limit: int = 50, burst: int = 300) -> int:
    """Serve ``burst`` concurrent calls to a fresh reference at ``limit``: how many got 200."""
    import asyncio

    import httpx

    reference = start_reference(folder, limit=limit, window=600, workers=workers)
    try:
        token = reference.profile["tokens"]["primary"]

        async def main() -> list[int]:
            limits = httpx.Limits(max_connections=burst)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:
                calls = [
                    client.post(
                        reference.base_url + REPLY_PATH,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"assistant_id": 101, "customer_identifier": f"x{i}", "message": "m"},
                    )
                    for i in range(burst)
                ]
                return [r.status_code for r in await asyncio.gather(*calls)]

        statuses = asyncio.run(main())
    finally:
        reference.stop()
    return sum(1 for status in statuses if status == 200)


def parse_others(values: list[str]) -> list[Target]:
    targets = []
    for value in values:
        name, _, rest = value.partition("=")
        url, _, token_env = rest.partition("@")
        check_loopback(url)
        token = os.environ.get(token_env, "") if token_env else "bench"
        targets.append(Target(name, url.rstrip("/"), token))
    return targets


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="reference worker processes")
    parser.add_argument("--other", action="append", default=[], metavar="NAME=URL[@TOKEN_ENV]")
    parser.add_argument("--no-prism", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_throughput: wrk not found (apt-get install wrk)", file=sys.stderr)
        return 2
    if not 1 <= args.rounds <= 20 or not 1 <= args.seconds <= 60:
        print("bench_throughput: --rounds 1..20 and --seconds 1..60", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="rg-throughput-") as tmp:
        folder = Path(tmp)
        script = folder / "reply.lua"
        script.write_text(LUA)
        reference = start_reference(
            folder / "ref", limit=1_000_000_000, window=3600, workers=args.workers
        )
        documented_valid(reference)
        targets = [Target("reference", reference.base_url, reference.profile["tokens"]["primary"])]
        prism = None
        try:
            if not args.no_prism:
                prism, prism_url = start_prism(folder / "prism.log")
                targets.append(Target("prism", prism_url, "bench"))
            targets += parse_others(args.other)
            # A short warm-up each (JIT, caches, first connections), not counted.
            for target in targets:
                run_wrk(target, script, argparse.Namespace(**{**vars(args), "seconds": 2}))
            for round_no in range(args.rounds):
                order = targets if round_no % 2 == 0 else list(reversed(targets))
                for target in order:
                    result = run_wrk(target, script, args)
                    target.results.append(result)
                    print(
                        f"round {round_no + 1} {target.name:<10} {result['rps']:8.0f} req/s"
                        f"  p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms"
                        f"  not 200 {result['not_200']}  socket errors"
                        f" {result['socket_errors']}",
                        flush=True,
                    )
            conversations, messages = persisted(reference)
        finally:
            reference.stop()
            if prism is not None:
                prism.terminate()
                prism.wait(10)
        served = sum(r["requests"] - r["not_200"] for r in targets[0].results)
        exact = exact_limit(folder / "exact", args.workers)

    problems = unlike(targets)
    if problems:
        # A 422 example against 200s is no throughput comparison: no ratio at all.
        print("\nno ratio: not every target answered 200 to every timed request")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(
        f"\nmedians over {args.rounds} rounds of {args.seconds} s, wrk -t{args.threads}"
        f" -c{args.connections}, reference workers={args.workers}:"
    )
    base = next((t for t in targets if t.name == "prism"), None)
    base_rps = statistics.median(r["rps"] for r in base.results) if base else None
    for target in targets:
        rps = statistics.median(r["rps"] for r in target.results)
        p99 = statistics.median(r["p99_ms"] for r in target.results)
        ratio = f"  {rps / base_rps:.2f}x prism" if base_rps else ""
        print(f"  {target.name:<10} {rps:8.0f} req/s  p99 {p99:7.1f} ms{ratio}")
    print(
        f"reference persisted {messages} messages in {conversations} conversations"
        f" (at least {2 * served} expected for {served} timed replies, plus warm-up)"
    )
    print(f"rate-limit exactness: 300 concurrent calls at limit 50 -> {exact} served")
    return 0 if exact == 50 and messages >= 2 * served else 1


if __name__ == "__main__":
    sys.exit(main())
