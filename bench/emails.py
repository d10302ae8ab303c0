"""Emails through one RQ worker process into a local SMTP sink (aiosmtpd).

1. Drain: N outbox rows are committed (each in its own transaction, enqueued after
   commit, as the app does) while no worker runs; then one ``python worker.py``
   starts and we time first to last delivery: emails/s per worker process.
2. Steady: the worker keeps running; emails are committed at a fixed rate below
   capacity and we time commit -> accepted by the SMTP server (p50/p99).

Target: >= 100 emails/s per worker process.

    .venv/bin/python bench/emails.py [--count 1000] [--rate 20] [--steady 300]
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import threading
import time

import psutil
from aiosmtpd.controller import Controller

from common import ROOT, app_env, machine, migrate, percentile, record, services

from hospital.devtools.servers import free_port  # noqa: E402

CONTEXT = {"patient_name": "Bench Patient", "doctor_name": "Dr Bench", "specialization": "General Practice",
           "clinic_name": "Bench Clinic", "when": "Mon 1 Dec 2026, 09:00 GMT", "path": "/patient/appointments/1"}


class TimingHandler:
    """An SMTP sink that only notes when each message arrived, by its outbox id (the
    X-Hospital-Email header); like a real server it spools bytes and parses nothing,
    so the sink does not slow the worker it measures."""

    HEADER = re.compile(rb"^X-Hospital-Email: (\d+)\r?$", re.M)

    def __init__(self):
        self.arrivals: dict[int, float] = {}
        self.done = threading.Event()
        self.expect = 0

    async def handle_DATA(self, server, session, envelope):
        match = self.HEADER.search(envelope.original_content or envelope.content)
        self.arrivals[int(match.group(1))] = time.time()
        if len(self.arrivals) >= self.expect:
            self.done.set()
        return "250 Message accepted for delivery"


def commit_emails(app, count: int, rate: float | None = None) -> dict[int, float]:
    """Commit ``count`` outbox rows one transaction each; returns id -> commit time."""
    from hospital.extensions import db
    from hospital.services import emails

    committed = {}
    started = time.monotonic()
    with app.app_context():
        for n in range(count):
            if rate:
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
            row = emails.queue(f"patient{n}@bench.example.com", "confirmed", "Your appointment is confirmed",
                               "confirmed", CONTEXT)
            db.session.commit()  # the after-commit hook enqueues the send job
            committed[row.id] = time.time()
        db.session.remove()
    return committed


def cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) of the worker process and its children (RQ's scheduler)."""
    proc = psutil.Process(process.pid)
    times = [proc.cpu_times()] + [child.cpu_times() for child in proc.children(recursive=True)]
    return sum(t.user + t.system for t in times)


def wait_for(handler: TimingHandler, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(handler.arrivals) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(handler.arrivals)} of {count} emails arrived")
        time.sleep(0.002)


def enqueue_noops(app, count: int) -> None:
    """The RQ floor: ``count`` trivial jobs (hospital.jobs.ping) through the same worker."""
    from hospital.jobs.queue import get_queue

    with app.app_context():
        queue = get_queue()
        queue.enqueue_many([queue.prepare_data("hospital.jobs.ping.ping", ("bench",)) for _ in range(count)])


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(count: int, rate: float, steady: int) -> None:
    load_before = os.getloadavg()[0]
    handler = TimingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with services() as (db_url, redis_url):
            env = app_env(db_url, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
            migrate(env)
            os.environ.update({k: env[k] for k in ("HOSPITAL_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL",
                                                   "MAIL_SERVER", "MAIL_PORT")})
            from hospital import create_app

            app = create_app()
            logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
            # Queue: one sentinel email, N no-op jobs, then N emails. The sentinel marks the
            # worker ready; the first real email marks the end of the no-op jobs.
            [sentinel] = commit_emails(app, 1)
            enqueue_noops(app, count)
            t0 = time.time()
            backlog = commit_emails(app, count)
            commit_rate = count / (time.time() - t0)
            handler.expect = count + 1
            worker = start_worker(env)
            try:
                wait_for(handler, 1)
                first_real = min(backlog)
                wait_for(handler, 2)
                cpu_start = cpu_seconds(worker)
                if not handler.done.wait(300):
                    raise SystemExit(f"only {len(handler.arrivals)} of {count + 1} emails arrived")
                cpu_ms = (cpu_seconds(worker) - cpu_start) * 1000 / max(1, count - 1)
                noop_rate = count / (handler.arrivals[first_real] - handler.arrivals[sentinel])
                times = sorted(handler.arrivals[i] for i in backlog)
                drain = (count - 1) / (times[-1] - times[0])

                handler.done.clear()
                handler.arrivals.clear()
                handler.expect = steady
                paced = commit_emails(app, steady, rate)
                if not handler.done.wait(120):
                    raise SystemExit(f"only {len(handler.arrivals)} of {steady} steady emails arrived")
                latency = [(handler.arrivals[i] - paced[i]) * 1000 for i in paced]
            finally:
                worker.terminate()
                worker.wait(timeout=15)
    finally:
        controller.stop()
    p50, p99, worst = percentile(latency, 50), percentile(latency, 99), max(latency)
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"commit {commit_rate:.0f} rows/s (one transaction + enqueue each)")
    print(f"no-op  {noop_rate:.0f} jobs/s through the same worker (the RQ floor on this machine now)")
    print(f"drain  {drain:.0f} emails/s per worker (first to last delivery)")
    print(f"worker CPU {cpu_ms:.2f} ms per email -> {1000 / cpu_ms:.0f} emails/s if the worker had a core to itself")
    print(f"load average {load}")
    print(f"steady {rate:g}/s: commit -> delivered p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
    record("Emails (bench/emails.py)", f"""
Measured {machine()}: one `python worker.py` process (RQ SimpleWorker, each job in
a fresh app context) sending through Flask-Mail to a local aiosmtpd sink in the
benchmark process; private PostgreSQL and Redis; production config (INFO logs).
Each email is an outbox row committed in its own transaction and enqueued after
the commit, as the app does. Target: >= 100 emails/s per worker process.
Load average (1 min) on the machine: {load}; the no-op row shows what RQ alone
managed meanwhile, so figures from a busy machine can be compared.

| run | result |
|---|---|
| commit + enqueue, one producer thread | {commit_rate:.0f} rows/s |
| drain {count} queued emails, 1 worker, first to last delivery | **{drain:.0f} emails/s** |
| no-op RQ jobs through the same worker (the floor of one job per email) | {noop_rate:.0f} jobs/s |
| worker CPU per email (user + system) | {cpu_ms:.2f} ms (= {1000 / cpu_ms:.0f} emails/s on a free core) |
| commit -> accepted by SMTP at {rate:g} emails/s ({steady} emails), p50 | {p50:.1f} ms |
| same, p99 / max | {p99:.1f} ms / {worst:.1f} ms |

The worker keeps one SMTP connection open between jobs (checked with NOOP after
2 s idle, dropped after any error); a new connection per email costs an extra
SMTP handshake per message.
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="emails/s in the steady run")
    parser.add_argument("--steady", type=int, default=300, help="emails in the steady run")
    args = parser.parse_args()
    run(args.count, args.rate, args.steady)
