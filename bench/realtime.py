"""1,000 connected Socket.IO clients: approve-to-receipt latency, broadcast latency, memory.

Targets on 2 cores: approve-to-receipt p99 <= 100 ms with 1,000 clients
connected; broadcast to 1,000 p99 <= 250 ms; <= 100 KB per connection.
Runs under gevent (gunicorn -k gevent) and eventlet (python wsgi.py).

    .venv/bin/python bench/realtime.py [--clients 1000] [--approvals 200] [--modes gevent eventlet]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import datetime, time as dtime, timedelta, timezone

import aiohttp
import psutil
import socketio

from common import app_env, machine, migrate, percentile, record, server, services

NS = "/notifications"


def seed(env: dict, clients: int) -> dict:
    """A doctor, an admin and ``clients`` patients, each with one pending appointment."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HOSPITAL_ENV")})
    from hospital import create_app
    from hospital.extensions import db
    from hospital.models import Appointment, AppointmentEvent, Clinic, Doctor, Patient, User
    from hospital.services.accounts import hash_password, issue_token

    app = create_app()
    with app.app_context():
        password = hash_password("bench-password")
        clinic = Clinic(name="Realtime Clinic", timezone="UTC")
        doctor_user = User(email="doc@bench.example.com", password_hash=password, role="doctor")
        doctor_user.doctor = Doctor(name="Dr Bench", clinic=clinic, specialization="General")
        admin = User(email="admin@bench.example.com", password_hash=password, role="admin")
        db.session.add_all([clinic, doctor_user, admin])
        patients = []
        for n in range(clients):
            user = User(email=f"p{n}@bench.example.com", password_hash=password, role="patient")
            user.patient = Patient(name=f"Patient {n}")
            patients.append(user)
        db.session.add_all(patients)
        db.session.flush()
        base = datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=2), dtime(8), tzinfo=timezone.utc)
        appointments = []
        for n, user in enumerate(patients):
            start = base + timedelta(days=n // 40, minutes=15 * (n % 40))
            appointment = Appointment(patient_id=user.patient.id, doctor_id=doctor_user.doctor.id, clinic_id=clinic.id,
                                      start_at=start, end_at=start + timedelta(minutes=15), status="pending")
            appointment.events.append(AppointmentEvent(from_status=None, to_status="pending", actor_id=user.id))
            appointments.append(appointment)
        db.session.add_all(appointments)
        db.session.commit()
        key = app.config["SECRET_KEY"]
        return {"patients": [issue_token(u, key) for u in patients], "appointments": [a.id for a in appointments],
                "doctor": issue_token(doctor_user, key), "admin": issue_token(admin, key)}


def worker_process(master_pid: int) -> psutil.Process:
    master = psutil.Process(master_pid)
    children = master.children()
    return children[0] if children else master


async def connect_all(url: str, tokens: list[str], inbox: dict, first_index: int = 0) -> list[socketio.AsyncClient]:
    clients = []

    async def one(index: int, token: str):
        client = socketio.AsyncClient(reconnection=False)

        async def on_status(data, index=index):
            inbox.setdefault(("status", data["id"]), time.perf_counter())

        async def on_notification(data, index=index):
            inbox.setdefault(("note", index, data["text"]), time.perf_counter())

        client.on("appointment_status", on_status, namespace=NS)
        client.on("notification", on_notification, namespace=NS)
        await client.connect(url, namespaces=[NS], auth={"token": token}, transports=["websocket"], wait_timeout=30)
        clients.append(client)

    for batch in range(0, len(tokens), 50):
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens[batch:batch + 50], start=first_index + batch)))
    return clients


async def wait_for(predicate, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.002)
    return predicate()


async def measure(url: str, data: dict, process: psutil.Process, approvals: int, broadcasts: int) -> dict:
    inbox: dict = {}
    tokens = data["patients"]
    warm = len(tokens) // 10  # the first connections also warm up the process (imports, pools)
    started = time.perf_counter()
    clients = await connect_all(url, tokens[:warm], inbox)
    await asyncio.sleep(1)
    rss_before = process.memory_info().rss
    clients += await connect_all(url, tokens[warm:], inbox, first_index=warm)
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(2)
    rss_after = process.memory_info().rss
    results = {"clients": len(clients), "connect_s": connect_seconds,
               "kb_per_connection": (rss_after - rss_before) / 1024 / (len(clients) - warm)}
    doctor = {"Authorization": f"Bearer {data['doctor']}"}
    admin = {"Authorization": f"Bearer {data['admin']}"}
    async with aiohttp.ClientSession() as http:
        latencies, missing = [], 0
        step = max(1, len(data["appointments"]) // approvals)
        for appointment_id in data["appointments"][::step][:approvals]:
            sent = time.perf_counter()
            async with http.patch(f"{url}/api/appointments/{appointment_id}/status", json={"status": "approved"},
                                  headers=doctor) as response:
                assert response.status == 200, await response.text()
            if await wait_for(lambda: ("status", appointment_id) in inbox, 5):
                latencies.append(inbox[("status", appointment_id)] - sent)
            else:
                missing += 1
        results.update(approve_p50_ms=percentile(latencies, 50) * 1000, approve_p99_ms=percentile(latencies, 99) * 1000,
                       approve_missing=missing, approvals=len(latencies))
        spreads = []
        for k in range(broadcasts):
            text = f"broadcast {k}"
            sent = time.perf_counter()
            async with http.post(f"{url}/api/notifications/send", json={"role": "patient", "text": text}, headers=admin) as response:
                assert response.status == 201, await response.text()
            await wait_for(lambda: sum(1 for key in inbox if key[0] == "note" and key[2] == text) >= len(clients), 10)
            spreads += [at - sent for key, at in inbox.items() if key[0] == "note" and key[2] == text]
        results.update(broadcast_p50_ms=percentile(spreads, 50) * 1000, broadcast_p99_ms=percentile(spreads, 99) * 1000,
                       broadcast_deliveries=len(spreads), broadcast_expected=broadcasts * len(clients))
    await asyncio.gather(*(c.disconnect() for c in clients))
    return results


def run(clients: int, approvals: int, broadcasts: int, modes: list[str]) -> None:
    rows = []
    for mode in modes:
        with services() as (db_url, redis_url):
            env = app_env(db_url, redis_url)
            migrate(env)
            data = seed(env, clients)
            with server(env, async_mode=mode) as (url, process):
                result = asyncio.run(measure(url, data, worker_process(process.pid), approvals, broadcasts))
        rows.append((mode, result))
        print(mode, {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()})
    table = ["| async mode | clients | approve→receipt p50 / p99 ms | broadcast p50 / p99 ms | deliveries | KB per connection |",
             "|---|---|---|---|---|---|"]
    for mode, r in rows:
        table.append(f"| {mode} | {r['clients']} | {r['approve_p50_ms']:.1f} / {r['approve_p99_ms']:.1f} "
                     f"(missed {r['approve_missing']}) | {r['broadcast_p50_ms']:.1f} / {r['broadcast_p99_ms']:.1f} | "
                     f"{r['broadcast_deliveries']}/{r['broadcast_expected']} | {r['kb_per_connection']:.0f} |")
    record("Live notifications (bench/realtime.py)", f"""
Measured {machine()}: {clients} python-socketio asyncio clients (websocket transport,
bearer-token auth) connected to `/notifications` on one server process, private
PostgreSQL and Redis (the Socket.IO message queue), clients on the same 2 cores.
*approve→receipt*: from sending the doctor's `PATCH /api/appointments/<id>/status`
to the patient's `appointment_status` event ({approvals} approvals, one at a time).
*broadcast*: from sending `POST /api/notifications/send` to a role to each of
the {clients} clients receiving it ({broadcasts} broadcasts; includes storing a
notification row per recipient). Memory: server RSS growth while connecting the
last 90% of the clients (the first 10% warm the process up), divided by them. Targets: approve p99 <= 100 ms, broadcast p99 <= 250 ms,
<= 100 KB per connection.

{chr(10).join(table)}
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--approvals", type=int, default=200)
    parser.add_argument("--broadcasts", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=["gevent", "eventlet"])
    args = parser.parse_args()
    run(args.clients, args.approvals, args.broadcasts, args.modes)
