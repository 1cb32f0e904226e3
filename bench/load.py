"""A small keep-alive HTTP/1.1 load generator (asyncio, raw sockets), for benchmarks."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else 0.0


def request_bytes(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    method: str = "GET",
    body: object | None = None,
) -> bytes:
    """One HTTP/1.1 request, ready to write again and again on a kept-alive connection."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _worker(
    host: str,
    port: int,
    request: bytes,
    deadline: float,
    result: Result,
    pace: float,
    keep_bodies: bool,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    # Paced connections start at a random phase of their period, so that together they
    # arrive spread over it (as wrk2 paces), not all at the same instant each period.
    next_at = time.perf_counter() + random.random() * pace
    try:
        while time.perf_counter() < deadline:
            if pace:
                # Open-loop pacing: a request is due every `pace` seconds on this
                # connection, and its latency counts from when it was due.
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                started = next_at
                next_at += pace
            else:
                started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1
            result.requests += 1
            if keep_bodies:
                result.bodies.append(body)
    finally:
        writer.close()


def run(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    seconds: float,
    connections: int,
    *,
    method: str = "GET",
    body: object | None = None,
    per_connection_headers: list[dict[str, str]] | None = None,
    per_connection_bodies: list[object] | None = None,
    rate: float = 0.0,
    keep_bodies: bool = False,
) -> Result:
    """`connections` connections for `seconds`; flat out, or paced to `rate` requests/s
    in all. `per_connection_headers[i % len]` is added to connection i's headers, and
    `per_connection_bodies[i % len]` replaces `body` on it."""
    extra = per_connection_headers or [{}]
    bodies = per_connection_bodies or [body]
    requests = [
        request_bytes(
            host, port, path, {**headers, **extra[i % len(extra)]}, method, bodies[i % len(bodies)]
        )
        for i in range(connections)
    ]
    pace = connections / rate if rate else 0.0
    result = Result()

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _worker(host, port, requests[i], deadline, result, pace, keep_bodies)
                for i in range(connections)
            )
        )
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result
