"""Serving an app with gunicorn on 127.0.0.1, and bounded request loops against it."""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
WORKERS = 2


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Measured:
    """Latencies of every request and the rate of each round; `median_*` are the figures."""

    latencies_ms: list[float]
    round_rates: list[float]
    failures: int
    first_failure: str | None = None

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return statistics.median(self.round_rates)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn with two sync workers on a free loopback port, for the `with` block."""

    def __init__(self, app_spec: str, env: dict[str, str], log: Path) -> None:
        self.app_spec, self.env, self.log = app_spec, env, log
        self.port = free_port()

    def __enter__(self) -> "Server":
        self._log = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(WORKERS),
                "-b",
                f"127.0.0.1:{self.port}",
                self.app_spec,
            ],
            env={**os.environ, **self.env},
            cwd=HERE,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app_spec} exited; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn {self.app_spec} did not start; see {self.log}")

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def request(connection: http.client.HTTPConnection, call: Call) -> tuple[int, bytes]:
    headers = dict(call.headers)
    payload = None
    if call.body is not None:
        payload = json.dumps(call.body).encode()
        headers["Content-Type"] = "application/json"
    connection.request(call.method, call.path, body=payload, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def get_json(port: int, call: Call) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        status, body = request(connection, call)
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"{call.path}: {status} {body[:300]!r}")
    return json.loads(body)


def warm_up(port: int, call: Call, count: int = 20) -> None:
    """Until both workers have imported, connected and answered (not timed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(count):
        status, body = request(connection, call)
        if status >= 400:
            raise RuntimeError(f"warm-up {call.path}: {status} {body[:300]!r}")
    connection.close()


@dataclass(frozen=True)
class Load:
    """What one server is sent in a measurement: `calls`, each answered with `expect`."""

    port: int
    calls: Sequence[Call]
    expect: int


def measure(
    port: int,
    calls: Sequence[Call],
    *,
    expect: int,
    concurrency: int = 1,
    rounds: int = 3,
    seconds: float = 5.0,
) -> Measured:
    """One server's load; see `alternate`."""
    return alternate(
        [Load(port, calls, expect)], concurrency=concurrency, rounds=rounds, seconds=seconds
    )[0]


def alternate(
    loads: Sequence[Load], *, concurrency: int = 1, rounds: int = 5, seconds: float = 5.0
) -> list[Measured]:
    """Send each load's calls in `rounds` equal rounds, the loads taking turns round by
    round (so a ceiling and Widget see the same moments of a shared machine), each round
    by `concurrency` clients at once, each client one request at a time. Rate of a
    round: its requests over its wall time. Bounded in count (the calls) and time
    (`seconds` for all rounds together)."""
    deadline = time.monotonic() + seconds
    results = [Measured([], [], 0) for _ in loads]
    for r in range(rounds):
        for load, measured in zip(loads, results, strict=True):
            size = max(1, len(load.calls) // rounds)
            _round(load, load.calls[r * size : (r + 1) * size], concurrency, deadline, measured)
        if time.monotonic() >= deadline:
            break
    return results


def _round(
    load: Load, calls: Sequence[Call], concurrency: int, deadline: float, into: Measured
) -> None:
    pending = list(reversed(calls))
    lock = threading.Lock()
    latencies: list[float] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", load.port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if not pending:
                    break
                call = pending.pop()
            began = time.perf_counter()
            status, body = request(connection, call)
            took = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(took)
                if status != load.expect:
                    into.failures += 1
                    into.first_failure = into.first_failure or (
                        f"{call.method} {call.path}: {status} {body[:300]!r}"
                    )
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if latencies:
        into.latencies_ms.extend(latencies)
        into.round_rates.append(len(latencies) / elapsed)
