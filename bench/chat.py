"""Chat: 200 concurrent patient–doctor pairs exchanging messages over /chat.

Each pair has its own appointment; patient and doctor take turns, one message
per pair every ``--interval`` seconds (so each user sends every 2 x interval,
inside the 10-per-10-s rate limit). Measured per message:

- round trip: from the sender's ``emit("message")`` to the other party's
  ``message`` event (stored in PostgreSQL, pushed through the Redis queue);
- ack: from the emit to the sender's acknowledgement (stored id);
- messages/s delivered, and anything lost or refused.

Target on 2 cores: round-trip p99 <= 100 ms.

    .venv/bin/python bench/chat.py [--pairs 200] [--seconds 20] [--intervals 1.0 0.6] [--workers 1 2]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import time
from datetime import datetime, time as dtime, timedelta, timezone

import psutil
import socketio

from common import app_env, machine, migrate, percentile, record, server, services

NS = "/chat"


def seed(env: dict, pairs: int) -> list[dict]:
    """``pairs`` doctors and patients, one appointment each: [{appointment, patient token, doctor token}]."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HOSPITAL_ENV")})
    from hospital import create_app
    from hospital.extensions import db
    from hospital.models import Appointment, Clinic, Doctor, Patient, User
    from hospital.services.accounts import hash_password, issue_token

    app = create_app()
    with app.app_context():
        password = hash_password("bench-password")
        clinic = Clinic(name="Chat Clinic", timezone="UTC")
        db.session.add(clinic)
        people = []
        for n in range(pairs):
            doctor = User(email=f"d{n}@chat.bench.example.com", password_hash=password, role="doctor")
            doctor.doctor = Doctor(name=f"Dr Chat {n}", clinic=clinic, specialization="General")
            patient = User(email=f"p{n}@chat.bench.example.com", password_hash=password, role="patient")
            patient.patient = Patient(name=f"Patient {n}")
            people.append((doctor, patient))
        db.session.add_all([u for pair in people for u in pair])
        db.session.flush()
        start = datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=2), dtime(9), tzinfo=timezone.utc)
        appointments = [Appointment(patient_id=p.patient.id, doctor_id=d.doctor.id, clinic_id=clinic.id, start_at=start,
                                    end_at=start + timedelta(minutes=15), status="approved") for d, p in people]
        db.session.add_all(appointments)
        db.session.commit()
        key = app.config["SECRET_KEY"]
        return [{"appointment": a.id, "patient": issue_token(p, key), "doctor": issue_token(d, key)}
                for a, (d, p) in zip(appointments, people)]


def stop(process) -> None:
    """Kill a server that did not stop in time, its worker first."""
    for child in psutil.Process(process.pid).children(recursive=True):
        child.kill()
    process.kill()
    process.wait(timeout=10)


class Stats:
    def __init__(self):
        self.sent: dict[str, float] = {}
        self.round_trips: list[float] = []
        self.acks: list[float] = []
        self.refused = 0
        self.measure = False


async def connect(url: str, token: str, appointment_id: int, stats: Stats, me: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)

    async def on_message(data):
        # Only the other party's receipt is a round trip (the sender gets its own message too).
        if not data["body"].startswith(me):
            sent = stats.sent.pop(data["body"], None)
            if sent is not None and stats.measure:
                stats.round_trips.append(time.perf_counter() - sent)

    client.on("message", on_message, namespace=NS)
    await client.connect(url, namespaces=[NS], auth={"token": token}, transports=["websocket"], wait_timeout=30)
    ack = await client.call("join", {"appointment_id": appointment_id}, namespace=NS, timeout=30)
    assert ack["ok"], ack
    return client


async def converse(pair: dict, clients: tuple, stats: Stats, interval: float, until: float) -> None:
    """Patient and doctor take turns, one message every ``interval`` seconds."""
    await asyncio.sleep(random.uniform(0, interval))
    turn, n = 0, 0
    while time.perf_counter() < until:
        began = time.perf_counter()
        who = ("patient", "doctor")[turn]
        body = f"{who}:{pair['appointment']}:{n} How are you feeling today?"
        stats.sent[body] = began

        def on_ack(ack, began=began):
            if not ack.get("ok"):
                stats.refused += 1
            elif stats.measure:
                stats.acks.append(time.perf_counter() - began)

        await clients[turn].emit("message", {"appointment_id": pair["appointment"], "body": body}, namespace=NS,
                                 callback=on_ack)
        turn, n = 1 - turn, n + 1
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))


def cpu_seconds(master: psutil.Process) -> float:
    """CPU time of the server's worker processes (the gunicorn master only supervises)."""
    return sum(t.user + t.system for t in (p.cpu_times() for p in master.children()))


async def measure(url: str, data: list[dict], interval: float, seconds: float, master: psutil.Process,
                  warmup: float = 3.0) -> dict:
    stats = Stats()
    pairs: list = []
    try:
        for batch in range(0, len(data), 25):
            chunk = data[batch:batch + 25]
            pairs += await asyncio.gather(*(asyncio.gather(
                connect(url, p["patient"], p["appointment"], stats, "patient"),
                connect(url, p["doctor"], p["appointment"], stats, "doctor")) for p in chunk))
        started = time.perf_counter()
        until = started + warmup + seconds
        tasks = [asyncio.create_task(converse(p, tuple(c), stats, interval, until)) for p, c in zip(data, pairs)]
        await asyncio.sleep(warmup)
        stats.measure, counted_from = True, len(stats.round_trips)
        server_cpu, client_cpu = cpu_seconds(master), time.process_time()
        await asyncio.gather(*tasks)
        server_cpu, client_cpu = cpu_seconds(master) - server_cpu, time.process_time() - client_cpu
        await asyncio.sleep(1.0)  # let the last messages arrive
    finally:  # an open socket would hold up the server's graceful shutdown
        await asyncio.gather(*(c.disconnect() for pair in pairs for c in pair), return_exceptions=True)
    lost = sum(1 for at in stats.sent.values() if started + warmup < at < until - 1.0)
    trips = stats.round_trips[counted_from:]
    return {"pairs": len(data), "interval_s": interval, "offered_per_s": len(data) / interval,
            "delivered_per_s": len(trips) / seconds, "rt_p50_ms": percentile(trips, 50) * 1000,
            "rt_p99_ms": percentile(trips, 99) * 1000, "rt_max_ms": max(trips, default=0) * 1000,
            "ack_p50_ms": percentile(stats.acks, 50) * 1000, "ack_p99_ms": percentile(stats.acks, 99) * 1000,
            "messages": len(trips), "lost": lost, "refused": stats.refused,
            "server_cpu_pct": 100 * server_cpu / seconds, "client_cpu_pct": 100 * client_cpu / seconds}


def run(pairs: int, seconds: float, intervals: list[float], workers: list[int]) -> None:
    rows, load = [], os.getloadavg()[0]
    with services() as (db_url, redis_url):
        env = app_env(db_url, redis_url)
        migrate(env)
        data = seed(env, pairs)
        for count, interval in [(w, i) for w in workers for i in intervals]:
            started = {}
            try:
                with server(env, workers=count) as (url, process):
                    started["process"] = process
                    time.sleep(0.5 * count)  # let every worker boot
                    result = asyncio.run(measure(url, data, interval, seconds, psutil.Process(process.pid)))
            except subprocess.TimeoutExpired:  # an overloaded server still draining its backlog
                stop(started["process"])
            result["workers"] = count
            rows.append(result)
            print({k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()})
    table = ["| workers | pairs | offered msg/s | delivered msg/s | round trip p50 / p99 / max ms | ack p50 / p99 ms "
             "| lost | refused | server / client CPU % |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['workers']} | {r['pairs']} | {r['offered_per_s']:.0f} | {r['delivered_per_s']:.0f} | "
                     f"{r['rt_p50_ms']:.1f} / {r['rt_p99_ms']:.1f} / {r['rt_max_ms']:.0f} | "
                     f"{r['ack_p50_ms']:.1f} / {r['ack_p99_ms']:.1f} | {r['lost']} | {r['refused']} | "
                     f"{r['server_cpu_pct']:.0f} / {r['client_cpu_pct']:.0f} |")
    record("Chat (bench/chat.py)", f"""
Measured {machine()} (1-minute load average {load:.1f} at the start): {pairs} patient–doctor pairs, each with its own appointment
chat, as {2 * pairs} python-socketio asyncio clients (websocket transport,
bearer-token auth) on `/chat`, gunicorn gevent workers (1 or 2 processes
sharing the Redis message queue), private PostgreSQL
and Redis (the Socket.IO message queue), clients on the same 2 cores. In each
pair patient and doctor take turns; one message per pair per interval, for
{seconds:g} s after a 3 s warm-up. *Round trip*: from the sender's
`emit("message")` to the other party's `message` event (the message is
authorized, rate-checked, committed to PostgreSQL, rendered and pushed through
Redis first). *Ack*: to the sender's acknowledgement with the stored id.
*CPU %*: of one core, the server's worker processes and the client process
during the measured period. Target: round-trip p99 <= 100 ms.

{chr(10).join(table)}
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--intervals", type=float, nargs="+", default=[1.0, 0.6])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    run(args.pairs, args.seconds, args.intervals, args.workers)
