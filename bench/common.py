"""Shared benchmark plumbing: services, a fast data seeder, a load driver and the report."""
from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hospital.devtools.servers import PrivatePostgres, PrivateRedis, free_port, wait_for_port  # noqa: E402

REPORT = ROOT / "docs" / "PERFORMANCE.md"


@contextmanager
def services():
    """(database_url, redis_url): from BENCH_DATABASE_URL / BENCH_REDIS_URL or private servers."""
    pg = redis = None
    db_url = os.environ.get("BENCH_DATABASE_URL")
    redis_url = os.environ.get("BENCH_REDIS_URL")
    try:
        if not db_url:
            pg = PrivatePostgres().start()
            sys.path.insert(0, str(ROOT / "tests"))
            from harness import wait_for_postgres  # noqa: E402

            wait_for_postgres(pg.url)
            db_url = pg.url
        if not redis_url:
            redis = PrivateRedis().start()
            redis_url = redis.url
        yield db_url, redis_url
    finally:
        if redis:
            redis.stop()
        if pg:
            pg.stop()


def app_env(db_url: str, redis_url: str, **extra) -> dict:
    return {**os.environ, "HOSPITAL_ENV": "production", "SECRET_KEY": "bench-secret-key",
            "DATABASE_URL": db_url, "REDIS_URL": redis_url, "FLASK_APP": "hospital:create_app", **extra}


def migrate(env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def server(env: dict, workers: int = 1, async_mode: str = "gevent"):
    """The production server command on a free port."""
    port = free_port()
    if async_mode == "gevent":
        cmd = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", str(workers), "--worker-connections", "10000",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    else:
        cmd = [sys.executable, "wsgi.py"]
    env = {**env, "ASYNC_MODE": async_mode, "PORT": str(port)}
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=15)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Driver:
    """Closed-loop load: ``clients`` threads, each with a keep-alive connection,
    each calling ``make_request(client_index, n)`` -> (method, path, body, headers)."""

    def __init__(self, base_url: str, clients: int, make_request, duration: float = 10.0, max_requests: int | None = None):
        self.host, self.port = urlsplit(base_url).hostname, urlsplit(base_url).port
        self.clients, self.make_request = clients, make_request
        self.duration, self.max_requests = duration, max_requests
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()
        self.count = 0

    def _next(self) -> int | None:
        with self.lock:
            if self.max_requests is not None and self.count >= self.max_requests:
                return None
            self.count += 1
            return self.count - 1

    def _run(self, index: int, deadline: float) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        latencies, statuses = [], {}
        while time.monotonic() < deadline:
            n = self._next()
            if n is None:
                break
            method, path, body, headers = self.make_request(index, n)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                status = 0
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        with self.lock:
            self.latencies.extend(latencies)
            for status, count in statuses.items():
                self.statuses[status] = self.statuses.get(status, 0) + count

    def run(self) -> dict:
        deadline = time.monotonic() + self.duration
        threads = [threading.Thread(target=self._run, args=(i, deadline)) for i in range(self.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        return {"requests": len(self.latencies), "seconds": elapsed, "rps": len(self.latencies) / elapsed,
                "p50_ms": percentile(self.latencies, 50) * 1000, "p99_ms": percentile(self.latencies, 99) * 1000,
                "mean_ms": statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan"),
                "statuses": dict(sorted(self.statuses.items()))}


def record(section: str, body: str) -> None:
    """Replace (or append) ``## section`` in docs/PERFORMANCE.md."""
    text = REPORT.read_text() if REPORT.exists() else "# Performance\n"
    block = f"## {section}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(block + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    REPORT.write_text(text)
    print(f"recorded in {REPORT.relative_to(ROOT)} under '{section}'")


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"
