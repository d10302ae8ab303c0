"""Real services for the test suite: PostgreSQL, Redis, SMTP and a live server.

PostgreSQL: ``TEST_DATABASE_URL`` names a server on which a throwaway database
is created and dropped; without it a private cluster is started (initdb).
Redis: ``TEST_REDIS_URL`` must name a Redis reserved for tests (the suite
empties its databases); without it a private ``redis-server`` is started.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import requests
from sqlalchemy.engine import make_url

from hospital.devtools.servers import PrivatePostgres, PrivateRedis, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


def wait_for_postgres(url: str, timeout: float = 30.0) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class TestDatabase:
    """A database created for this run on a given or private server."""

    def __init__(self):
        self.private = None
        server_url = os.environ.get("TEST_DATABASE_URL")
        if not server_url:
            self.private = PrivatePostgres().start()
            server_url = self.private.url
        server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        wait_for_postgres(server.render_as_string(hide_password=False))
        self.name = f"hospital_test_{uuid.uuid4().hex[:10]}"
        self.admin_dsn = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = server.set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        assert re.fullmatch(r"hospital_test_[0-9a-f]{10}", self.name)
        try:
            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            if self.private:
                self.private.stop()


class TestRedis:
    def __init__(self):
        self.private = None
        self.url = os.environ.get("TEST_REDIS_URL")
        if not self.url:
            self.private = PrivateRedis().start()
            self.url = self.private.url

    def stop(self) -> None:
        if self.private:
            self.private.stop()


class LiveServer:
    """The production server command (gunicorn, gevent worker) on a free port.

    ``workers`` > 1 runs several gunicorn worker processes (a race across processes).
    """

    def __init__(self, env: dict, async_mode: str = "gevent", workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "ASYNC_MODE": async_mode, "PYTHONUNBUFFERED": "1"}
        self.async_mode = async_mode
        self.workers = workers
        self.log = open(ROOT / "instance" / f"live-server-{self.port}.log", "w") if (ROOT / "instance").is_dir() else subprocess.DEVNULL
        self.process = None

    def start(self) -> "LiveServer":
        if self.async_mode == "gevent":
            cmd = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", str(self.workers), "--worker-connections", "10000",
                   "--bind", f"127.0.0.1:{self.port}", "wsgi:app"]
        else:
            cmd = [sys.executable, "wsgi.py"]
            self.env["PORT"] = str(self.port)
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=2).status_code in (200, 503):
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise TimeoutError("live server did not answer /health")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
