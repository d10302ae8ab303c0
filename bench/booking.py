"""Free-times requests and bookings of distinct slots against the production server command.

Prints req/s and p50/p99 and records them in docs/PERFORMANCE.md.
Targets (2 cores, PostgreSQL): booking p99 <= 25 ms at 20 clients, >= 300 bookings/s
saturated; free times >= 500 req/s uncached.

    .venv/bin/python bench/booking.py [--duration 10] [--workers 1 2]
"""
from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta, timezone

from common import Driver, app_env, machine, migrate, record, server, services

DOCTORS = 20
PATIENTS = 400
SLOTS_PER_DAY = 64  # 06:00-22:00 in 15-minute steps


def seed(env: dict) -> tuple[list[int], list[str]]:
    """Doctors with hours every day and patients with API tokens, inserted directly."""
    import os

    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HOSPITAL_ENV")})
    from hospital import create_app
    from hospital.extensions import db
    from hospital.models import AvailabilityWindow, Clinic, Doctor, Patient, User
    from hospital.services.accounts import hash_password, issue_token

    app = create_app()
    with app.app_context():
        clinic = Clinic(name="Bench Clinic", timezone="UTC")
        db.session.add(clinic)
        password = hash_password("bench-password")
        doctors = []
        for n in range(DOCTORS):
            user = User(email=f"doc{n}@bench.example.com", password_hash=password, role="doctor")
            user.doctor = Doctor(name=f"Doctor {n}", clinic=clinic, specialization=f"Spec {n % 4}")
            db.session.add(user)
            doctors.append(user.doctor)
        patients = []
        for n in range(PATIENTS):
            user = User(email=f"pat{n}@bench.example.com", password_hash=password, role="patient")
            user.patient = Patient(name=f"Patient {n}")
            db.session.add(user)
            patients.append(user)
        db.session.flush()
        for doctor in doctors:
            for weekday in range(7):
                db.session.add(AvailabilityWindow(doctor_id=doctor.id, weekday=weekday, start_time=time(6), end_time=time(22)))
        db.session.commit()
        return [d.id for d in doctors], [issue_token(u, app.config["SECRET_KEY"]) for u in patients]


def slot_for(n: int, doctor_ids: list[int], first_day: date) -> tuple[int, str]:
    doctor = doctor_ids[n % len(doctor_ids)]
    index = n // len(doctor_ids)
    day = first_day + timedelta(days=index // SLOTS_PER_DAY)
    start = datetime.combine(day, time(6), tzinfo=timezone.utc) + timedelta(minutes=15 * (index % SLOTS_PER_DAY))
    return doctor, start.isoformat()


def run(duration: float, workers_list: list[int]) -> None:
    rows = []
    with services() as (db_url, redis_url):
        env = app_env(db_url, redis_url)
        migrate(env)
        doctor_ids, tokens = seed(env)
        first_day = datetime.now(timezone.utc).date() + timedelta(days=2)
        offset = 0
        for workers in workers_list:
            with server(env, workers=workers) as (url, _):
                day = first_day.isoformat()

                def slots_request(i, n):
                    doctor = doctor_ids[n % len(doctor_ids)]
                    return "GET", f"/api/appointments/slots?date={day}&doctor_id={doctor}", None, {}

                Driver(url, 4, slots_request, duration=2).run()  # warm-up
                free = Driver(url, 20, slots_request, duration=duration).run()

                def book_request(i, n, base=[offset]):
                    doctor, start = slot_for(base[0] + n, doctor_ids, first_day)
                    headers = {"Authorization": f"Bearer {tokens[(base[0] + n) % len(tokens)]}",
                               "Content-Type": "application/json"}
                    return "POST", "/api/appointments/book", {"start": start, "doctor_id": doctor}, headers

                at20 = Driver(url, 20, book_request, duration=duration).run()
                offset += at20["requests"]
                saturated = Driver(url, 64, lambda i, n, base=[offset]: book_request(i, n, base), duration=duration).run()
                offset += saturated["requests"]
            for name, result in (("free times, 20 clients (cache on)", free), ("booking, 20 clients", at20),
                                 ("booking, 64 clients (saturated)", saturated)):
                rows.append((workers, name, result))
                print(f"workers={workers} {name:38} {result['rps']:7.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                      f"p99 {result['p99_ms']:6.1f} ms  statuses {result['statuses']}")
    table = ["| gunicorn workers | run | req/s | p50 ms | p99 ms | statuses |", "|---|---|---|---|---|---|"]
    table += [f"| {w} | {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['statuses']} |" for w, name, r in rows]
    record("Booking and free times (bench/booking.py)", f"""
Measured {machine()}: `gunicorn -k gevent` (the Procfile's web command) against a
private PostgreSQL, {DOCTORS} doctors with hours 06:00-22:00 every day, {PATIENTS}
patients with bearer tokens; every booking takes a distinct free slot. Closed-loop
clients on keep-alive connections, {duration:g} s per run, load generator on the
same 2 cores. Targets: booking p99 <= 25 ms at 20 clients, >= 300 bookings/s
saturated, free times >= 500 req/s uncached.

{chr(10).join(table)}
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    run(args.duration, args.workers)
