"""Admin analytics at scale: 1,000,000 appointments booked over two years.

Generates the data with PostgreSQL ``generate_series`` (no ORM inserts), rebuilds
the analytics counters (``flask analytics rebuild``'s function), then measures
``GET /api/admin/analytics`` against the production server command for the last
30 days and for two years, every clinic and one clinic.
Targets: p99 <= 200 ms for 30 days and for 2 years.

    .venv/bin/python bench/analytics.py [--appointments 1000000] [--duration 15]
"""
from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta

import psycopg
from sqlalchemy.engine import make_url

from common import Driver, app_env, machine, migrate, record, server, services

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"]
DOCTORS = 150
PATIENTS = 50_000
DAYS = 730


def dsn(db_url: str) -> str:
    url = make_url(db_url.replace("postgresql+psycopg://", "postgresql://", 1))
    return url.render_as_string(hide_password=False)


def generate(db_url: str, appointments: int) -> dict:
    """Clinics, doctors, patients and ``appointments`` appointments (plus one outbox email
    per second appointment), all in SQL. Each doctor's (start) is unique, so the
    no-double-booking index holds; bookings are made 0–20 days before the time booked."""
    per_doctor = -(-appointments // DOCTORS)
    timings = {}
    with psycopg.connect(dsn(db_url), autocommit=True) as conn:
        started = time.perf_counter()
        for n, zone in enumerate(ZONES):
            conn.execute("INSERT INTO clinics (name, timezone, created_at) VALUES (%s, %s, now())",
                         (f"Bench clinic {n}", zone))
        conn.execute("""
            INSERT INTO users (email, password_hash, role, active, session_token, created_at)
            SELECT 'doc' || g || '@bench.example.com', 'x', 'doctor', true, md5('d' || g), now()
            FROM generate_series(1, %s) g""", (DOCTORS,))
        conn.execute("""
            INSERT INTO doctors (user_id, clinic_id, name, specialization, bio, consultation_minutes)
            SELECT u.id, (SELECT min(id) FROM clinics) + (row_number() OVER (ORDER BY u.id)) % 3,
                   'Dr ' || u.id, 'Spec ' || u.id % 6, '', 15
            FROM users u WHERE u.role = 'doctor'""")
        conn.execute("""
            INSERT INTO users (email, password_hash, role, active, session_token, created_at)
            SELECT 'pat' || g || '@bench.example.com', 'x', 'patient', true, md5('p' || g), now()
            FROM generate_series(1, %s) g""", (PATIENTS,))
        conn.execute("INSERT INTO patients (user_id, name) SELECT id, 'Patient ' || id FROM users WHERE role = 'patient'")
        timings["people_s"] = time.perf_counter() - started

        started = time.perf_counter()
        # The rows are consistent by construction: skip the per-row foreign-key triggers while loading.
        conn.execute("SET session_replication_role = replica")
        first_day = date.today() - timedelta(days=DAYS - 7)
        # Doctor d's k-th appointment: day k % DAYS, quarter-hour slot (3·(k / DAYS) + d) % 32 from 08:00 —
        # distinct per doctor. Patients are skewed (random²) so that some are much more active.
        conn.execute("""
            WITH d AS (SELECT id, clinic_id, row_number() OVER (ORDER BY id) - 1 AS n FROM doctors),
                 p AS (SELECT min(id) AS first, count(*) AS total FROM patients),
                 raw AS (
                   SELECT d.id AS doctor_id, d.clinic_id, c.timezone,
                          ((%(first_day)s::date + (k %% %(days)s)) + time '08:00'
                            + ((3 * (k / %(days)s) + d.n) %% 32) * interval '15 minutes') AS local_start,
                          random() AS r, random() AS q, random() AS b
                   FROM d JOIN clinics c ON c.id = d.clinic_id, generate_series(0, %(per)s - 1) k)
            INSERT INTO appointments (patient_id, doctor_id, clinic_id, start_at, end_at, status, reason,
                                      created_at, updated_at)
            SELECT p.first + floor(p.total * r * r)::int, doctor_id, clinic_id, s, s + interval '15 minutes',
                   CASE WHEN q < .50 THEN 'completed' WHEN q < .58 THEN 'no_show' WHEN q < .73 THEN 'cancelled'
                        WHEN q < .80 THEN 'rejected' WHEN q < .92 THEN 'approved' ELSE 'pending' END, '',
                   least(now(), s - (b * 20) * interval '1 day'), now()
            FROM (SELECT *, local_start AT TIME ZONE timezone AS s FROM raw) x, p
            LIMIT %(total)s""", {"first_day": first_day, "days": DAYS, "per": per_doctor, "total": appointments})
        timings["appointments_s"] = time.perf_counter() - started

        started = time.perf_counter()
        conn.execute("""
            INSERT INTO email_messages (kind, recipient, subject, body_text, status, attempts, appointment_id,
                                        clinic_id, created_at, updated_at, next_attempt_at, last_attempt_at, sent_at)
            SELECT 'confirmed', 'patient@bench.example.com', 'Your appointment', 'Body',
                   CASE WHEN id % 50 = 0 THEN 'failed' WHEN id % 50 = 2 THEN 'queued' ELSE 'sent' END,
                   CASE WHEN id % 50 = 0 THEN 3 ELSE 1 END, id, clinic_id, created_at, created_at,
                   created_at, created_at + interval '1 minute',
                   CASE WHEN id % 50 > 2 THEN created_at + interval '1 minute' END
            FROM appointments WHERE id % 2 = 0""")
        timings["emails_s"] = time.perf_counter() - started
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute("VACUUM ANALYZE")
        timings["count"] = conn.execute("SELECT count(*) FROM appointments").fetchone()[0]
        timings["emails"] = conn.execute("SELECT count(*) FROM email_messages").fetchone()[0]
    return timings


def rebuild_and_admin(env: dict) -> tuple[float, dict, str]:
    """Rebuild the counters (timed) and make an admin; returns (seconds, rows, admin email)."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HOSPITAL_ENV")})
    from hospital import create_app
    from hospital.services import accounts, analytics_counters

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        rows = analytics_counters.rebuild()
        seconds = time.perf_counter() - started
        accounts.create_user("admin@bench.example.com", "bench-password", "admin")
    with psycopg.connect(dsn(env["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE analytics_counters")
        conn.execute("VACUUM ANALYZE patient_booking_totals")
    return seconds, rows, "admin@bench.example.com"


def measure(url: str, token: str, query: str, clients: int, duration: float) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/admin/analytics?{query}"
    Driver(url, 1, lambda i, n: ("GET", path, None, headers), duration=60, max_requests=5).run()  # warm up
    return Driver(url, clients, lambda i, n: ("GET", path, None, headers), duration=duration).run()


def run(appointments: int, duration: float) -> None:
    import requests

    with services() as (db_url, redis_url):
        env = app_env(db_url, redis_url)
        migrate(env)
        made = generate(db_url, appointments)
        print("generated", made)
        rebuild_s, rows, admin = rebuild_and_admin(env)
        print(f"rebuild: {rebuild_s:.2f} s, {rows}")
        today = date.today()
        periods = {"30 days": f"from={today - timedelta(days=29)}&to={today}",
                   "2 years": f"from={today - timedelta(days=DAYS)}&to={today}"}
        results = []
        with server(env) as (url, _):
            token = requests.post(f"{url}/api/auth/login", json={"email": admin, "password": "bench-password"},
                                  timeout=30).json()["access_token"]
            for label, query in periods.items():
                for scope, extra in (("every clinic", ""), ("one clinic", "&clinic_id=2")):
                    for clients in (1, 4):
                        result = measure(url, token, query + extra, clients, duration)
                        results.append((label, scope, clients, result))
                        print(label, scope, clients, {k: round(v, 1) if isinstance(v, float) else v
                                                      for k, v in result.items()})
    table = ["| period | clinics | clients | requests | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|---|---|"]
    for label, scope, clients, r in results:
        table.append(f"| {label} | {scope} | {clients} | {r['requests']} | {r['rps']:.1f} | {r['p50_ms']:.1f} | "
                     f"**{r['p99_ms']:.1f}** |" if clients == 1 else
                     f"| {label} | {scope} | {clients} | {r['requests']} | {r['rps']:.1f} | {r['p50_ms']:.1f} | "
                     f"{r['p99_ms']:.1f} |")
    record("Analytics (bench/analytics.py)", f"""
Measured {machine()}: {made['count']:,} appointments booked over {DAYS} days in 3 clinics
(London, New York, Kolkata), {DOCTORS} doctors, {PATIENTS:,} patients (skewed), {made['emails']:,}
outbox emails; generated in SQL (`generate_series`) in {made['appointments_s']:.1f} s
(appointments) + {made['emails_s']:.1f} s (emails). Private PostgreSQL and Redis,
`gunicorn -k gevent` (1 worker), production config; `GET /api/admin/analytics` with a
bearer token, closed-loop clients on keep-alive connections, {duration:.0f} s per row,
load generator on the same machine. Target: p99 <= 200 ms with one client (an admin's
page); with four, the one worker serves the requests in turn (add workers for more admins).

Rebuilding the counters from the appointments (`flask analytics rebuild`):
**{rebuild_s:.1f} s** ({rows['counter_rows']:,} counters at day and month grain, {rows['patients']:,} patient totals).

{chr(10).join(table)}
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    run(args.appointments, args.duration)
