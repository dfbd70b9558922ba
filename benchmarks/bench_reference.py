"""Benchmark the reference server: throughput, latency, rate-limit exactness, startup time.

Run: ``.venv/bin/python benchmarks/bench_reference.py [--seconds 4] [--connections 64]``.
Loopback only, bounded in time and request count. The load generator is raw asyncio streams with
keep-alive, spread over several processes so that it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from replyguard.reference.launch import EmbeddedReference, start_reference

PATH = "/api/user/ai/generate-reply"
MAX_REQUESTS_PER_PROCESS = 200_000


@dataclass(slots=True)
class Server:
    """A running reference server, seen from the load generator."""

    reference: EmbeddedReference
    host: str
    port: int
    token: str
    ready_seconds: float

    def stop(self) -> None:
        self.reference.stop()


def start(folder: Path, *, limit: int, workers: int, window: int = 60) -> Server:
    """Start a server on a fresh database and wait for its profile."""
    reference = start_reference(folder, limit=limit, window=window, workers=workers)
    url = urlsplit(reference.base_url)
    assert url.hostname is not None
    assert url.port is not None
    return Server(
        reference,
        url.hostname,
        url.port,
        reference.profile["tokens"]["primary"],
        reference.startup_seconds,
    )


def request_bytes(host: str, port: int, token: str, n: int) -> bytes:
    body = json.dumps(
        {"assistant_id": 101, "customer_identifier": f"bench-{n % 100}", "message": "hello",
         "variables": {"n": n % 7}}
    ).encode()  # fmt: skip
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def connection_loop(
    host: str, port: int, token: str, stop_at: float, seed: int, out: list[tuple[float, int]]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    payloads = [request_bytes(host, port, token, seed + i) for i in range(100)]
    i = 0
    try:
        while time.monotonic() < stop_at and len(out) < MAX_REQUESTS_PER_PROCESS:
            began = time.perf_counter()
            writer.write(payloads[i % 100])
            status = await read_response(reader)
            out.append((time.perf_counter() - began, status))
            i += 1
    finally:
        writer.close()


def load_process(
    host: str,
    port: int,
    token: str,
    connections: int,
    start_at: float,
    seconds: float,
    queue: mp.Queue,
) -> None:
    async def main() -> list[tuple[float, int]]:
        out: list[tuple[float, int]] = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(
                connection_loop(host, port, token, stop_at, c * 1000, out)
                for c in range(connections)
            )
        )
        return out

    queue.put(asyncio.run(main()))


def drive(server: Server, seconds: float, connections: int, processes: int) -> dict[str, float]:
    """Drive generate-reply from ``processes`` processes; return throughput and latency."""
    queue: mp.Queue = mp.Queue()
    start_at = time.time() + 0.5
    procs = [
        mp.Process(
            target=load_process,
            args=(
                server.host,
                server.port,
                server.token,
                connections // processes,
                start_at,
                seconds,
                queue,
            ),
        )
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    results: list[tuple[float, int]] = []
    for _ in procs:
        results.extend(queue.get(timeout=seconds + 60))
    for p in procs:
        p.join()
    latencies = sorted(r[0] for r in results)
    bad = sum(1 for r in results if r[1] != 200)
    return {
        "requests": len(results),
        "rps": len(results) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "non_200": bad,
    }


async def burst(host: str, port: int, token: str, count: int) -> list[int]:
    async def one(n: int) -> int:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request_bytes(host, port, token, n))
        status = await read_response(reader)
        writer.close()
        return status

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--load-processes", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for workers in (1, 2):
            server = start(root / f"w{workers}", limit=10_000_000, workers=workers)
            try:
                figures = drive(server, args.seconds, args.connections, args.load_processes)
            finally:
                server.stop()
            print(
                f"workers={workers}: {figures['rps']:.0f} req/s"
                f" over {figures['requests']} requests,"
                f" p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms,"
                f" non-200 {figures['non_200']}"
            )

        server = start(root / "exact", limit=5, workers=4)
        try:
            statuses = asyncio.run(burst(server.host, server.port, server.token, 200))
        finally:
            server.stop()
        served = sum(1 for s in statuses if s != 429)
        print(f"rate-limit exactness: 200 concurrent, 4 workers, limit 5 -> {served} served")

        for workers in (1, 2):
            times = []
            for run in range(5):
                server = start(root / f"start{workers}-{run}", limit=5, workers=workers)
                times.append(server.ready_seconds)
                server.stop()
            print(
                f"startup to ready ({workers} worker{'s' if workers > 1 else ''}): median"
                f" {statistics.median(times):.2f} s, max {max(times):.2f} s (target < 2 s)"
            )


if __name__ == "__main__":
    main()
