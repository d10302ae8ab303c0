"""The Redis cache: cold vs warm requests, pattern invalidation among 100,000 keys,
and the hit ratio of a mixed read/write load. Records its section in docs/PERFORMANCE.md.

Targets: warm >= 3x cold req/s; 0 database queries on a hit; a pattern
invalidation among 100k keys <= 50 ms; hit ratio >= 95% in the mixed run.

    .venv/bin/python bench/cache.py [--duration 10] [--clients 16]
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from datetime import time as at

from common import Driver, app_env, free_port, machine, migrate, record, server, services

DOCTORS, CLINICS, SPECIALTIES, PATIENTS = 200, 10, 8, 400
ONLINE = 50  # patients active during the mixed run
KEYS = 100_000


def seed(env: dict):
    """Doctors working 06:00-22:00 every day, patients; tokens for all. Returns (app, doctor ids, doctor tokens, patient tokens)."""
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HOSPITAL_ENV")})
    from hospital import create_app
    from hospital.extensions import db
    from hospital.models import AvailabilityWindow, Clinic, Doctor, Patient, User
    from hospital.services.accounts import hash_password, issue_token

    app = create_app()
    with app.app_context():
        clinics = [Clinic(name=f"Clinic {n}", timezone="UTC") for n in range(CLINICS)]
        db.session.add_all(clinics)
        password = hash_password("bench-password")
        doctors = [User(email=f"doc{n}@bench.example.com", password_hash=password, role="doctor",
                        doctor=Doctor(name=f"Doctor {n:03d}", clinic=clinics[n % CLINICS],
                                      specialization=f"Specialty {n % SPECIALTIES}")) for n in range(DOCTORS)]
        patients = [User(email=f"pat{n}@bench.example.com", password_hash=password, role="patient",
                         patient=Patient(name=f"Patient {n}")) for n in range(PATIENTS)]
        db.session.add_all(doctors + patients)
        db.session.flush()
        db.session.add_all(AvailabilityWindow(doctor_id=u.doctor.id, weekday=w, start_time=at(6), end_time=at(22))
                           for u in doctors for w in range(7))
        db.session.commit()
        secret = app.config["SECRET_KEY"]
        return (app, [u.doctor.id for u in doctors], [issue_token(u, secret) for u in doctors],
                [issue_token(u, secret) for u in patients])


def days_ahead(n: int) -> str:
    return (datetime.now(timezone.utc).date() + timedelta(days=n)).isoformat()


def cold_lists(clinic_ids: list[int]) -> list[str]:
    """Doctor-list URLs that are all different (so each one misses once)."""
    urls = []
    for clinic in [None] + clinic_ids:
        count = DOCTORS if clinic is None else DOCTORS // CLINICS
        for per_page in range(1, 51):
            for page in range(1, math.ceil(count / per_page) + 1):
                urls.append(f"/api/doctors?per_page={per_page}&page={page}" + (f"&clinic_id={clinic}" if clinic else ""))
    random.Random(1).shuffle(urls)
    return urls


def settle(url: str) -> None:
    """The first requests after start-up pay for imports and connections: make them before measuring."""
    Driver(url, 1, lambda i, n: ("GET", ["/health", "/api/doctors?q=warm-up"][n % 2], None, {}), max_requests=10).run()


def get(paths):
    return lambda i, n: ("GET", paths[n % len(paths)], None, {})


def run_pair(url, name, cold_paths, warm_paths, clients, duration) -> list[tuple]:
    cold = Driver(url, clients, get(cold_paths), duration=duration, max_requests=len(cold_paths)).run()
    Driver(url, 4, get(warm_paths), max_requests=len(warm_paths) * 2).run()  # fill the cache
    warm = Driver(url, clients, get(warm_paths), duration=duration).run()
    return [(name, "cold (every request a miss)", cold), (name, "warm (every request a hit)", warm)]


def queries_per_request(app, paths: list[str]) -> tuple[float, float]:
    """In-process: mean SQL statements per request, first (cold) and second (warm) time."""
    from sqlalchemy import event

    from hospital import cache
    from hospital.extensions import db

    counts = {"cold": 0, "warm": 0}
    with app.app_context():
        for pattern in cache.FAMILIES:
            cache.store().delete_matching(pattern)
        engine = db.engine
    client = app.test_client()  # each request in its own app context and session, as in the server
    for phase in ("cold", "warm"):
        def note(*args, phase=phase):
            counts[phase] += 1
        event.listen(engine, "before_cursor_execute", note)
        for path in paths:
            assert client.get(path).status_code == 200, path
        event.remove(engine, "before_cursor_execute", note)
    return counts["cold"] / len(paths), counts["warm"] / len(paths)


def invalidation_cost(app, doctor_ids) -> list[tuple]:
    """Fill the cache to 100k keys as the readers write them (indexed), then time each kind
    of pattern invalidation through the index and by SCAN (median and max ms)."""
    from hospital import cache

    def index_of(name):
        family, _, rest = name.partition(":")
        return {"doctors": "doctors:*", "slots": f"slots:{rest.split(':')[0]}:*",
                "user": f"user:{rest.split(':')[0]}:appts:*"}[family]

    rows = []
    with app.app_context():
        store = cache.store()
        r = store.client
        names = [f"slots:{d}:{days_ahead(n)}" for d in doctor_ids for n in range(60)]
        names += [f"doctors:list:*:*:*:{n}:10" for n in range(1, 2001)]
        names += [f"user:{u}:appts:upcoming:{p}:10" for u in range(1, 100_000) for p in (1, 2)][:KEYS - len(names)]

        def put(subset):
            expiry = int(time.time() * 1000) + 600_000
            pipe = r.pipeline(transaction=False)
            for i, name in enumerate(subset):
                pipe.set(store.k(name), b"!x", ex=600)
                pipe.zadd(store.index_key(index_of(name)), {store.k(name): expiry})
                pipe.pexpire(store.index_key(index_of(name)), 600_000)  # as the writes do: at least the keys' life
                if i % 5_000 == 4_999:
                    pipe.execute()
            pipe.execute()
        put(names)
        total = sum(1 for _ in r.scan_iter(match=store.k("*"), count=10_000))
        cases = [("one doctor's `slots:<id>:*`", lambda i: store.invalidate([], indexed=[f"slots:{doctor_ids[i]}:*"]),
                  lambda i: [n for n in names if n.startswith(f"slots:{doctor_ids[i]}:")]),
                 ("one patient's `user:<id>:appts:*`", lambda i: store.invalidate([], indexed=[f"user:{i + 1}:appts:*"]),
                  lambda i: [f"user:{i + 1}:appts:upcoming:{p}:10" for p in (1, 2)]),
                 ("hours edited: `doctors:*` + `slots:<id>:*`", lambda i: cache.invalidate_doctor_schedule(doctor_ids[i]),
                  lambda i: [n for n in names if n.startswith(("doctors:", f"slots:{doctor_ids[i]}:"))])]
        for label, action, removed_names in cases:
            for use_index in (True, False):
                store.use_index = use_index
                times, removed = [], 0
                for i in range(20):
                    started = time.perf_counter()
                    removed = action(i)
                    times.append((time.perf_counter() - started) * 1000)
                    put(removed_names(i))  # back for the next round
                rows.append((label, "index" if use_index else "SCAN", removed, statistics.median(times), max(times)))
        store.use_index = True
        appts = [n for n in names if n.startswith("user:")]
        times = []
        for _ in range(3):  # a doctor renamed: every patient's lists, always a SCAN
            started = time.perf_counter()
            removed = store.invalidate([], patterns=["user:*:appts:*"])
            times.append((time.perf_counter() - started) * 1000)
            put(appts)
        rows.append(("doctor renamed: `user:*:appts:*`", "SCAN", removed, statistics.median(times), max(times)))
        for pattern in cache.FAMILIES + ("idx:*",):
            store.delete_matching(pattern)
    print(f"cache keys during the invalidation runs: {total}")
    return rows


def mixed_run(url, app, doctor_ids, doctor_tokens, patient_tokens, clients, duration) -> tuple[dict, dict]:
    """Patients browsing (Zipf-popular doctors, the next week), booking, reading their profile;
    now and then a doctor edits their hours."""
    from hospital import cache

    rng = random.Random(7)
    online = patient_tokens[:ONLINE]  # patients signed in at the moment
    weights = [1 / (rank + 1) for rank in range(len(doctor_ids))]
    week = [1, 1, 2, 2, 3, 4, 5, 6, 7]  # sooner days are browsed (and booked) more

    def request(i, n):
        roll = rng.random()
        if roll < 0.58:
            doctor = rng.choices(doctor_ids, weights)[0]
            return "GET", f"/api/appointments/slots?date={days_ahead(rng.choice(week))}&doctor_id={doctor}", None, {}
        if roll < 0.88:
            query = rng.choice(["", "", "", f"specialization=Specialty%20{rng.randrange(SPECIALTIES)}",
                                f"page={rng.randint(2, 4)}"])
            return "GET", f"/api/doctors?{query}", None, {}
        if roll < 0.9898:
            return "GET", "/api/patients/me", None, {"Authorization": f"Bearer {rng.choice(online)}"}
        if roll < 0.9998:  # book a time of a popular doctor this week (taken already: 409, nothing changes)
            doctor = rng.choices(doctor_ids, weights)[0]
            day = datetime.fromisoformat(days_ahead(rng.choice(week))).replace(tzinfo=timezone.utc)
            start = day + timedelta(hours=6, minutes=15 * rng.randrange(64))
            return "POST", "/api/appointments/book", {"start": start.isoformat(), "doctor_id": doctor}, {
                "Authorization": f"Bearer {rng.choice(online)}", "Content-Type": "application/json"}
        d = rng.randrange(len(doctor_ids))
        hours = [{"day": day, "start": "06:00", "end": rng.choice(["21:00", "22:00"])}
                 for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")]
        return "POST", "/api/doctors/availability", {"availability": hours}, {
            "Authorization": f"Bearer {doctor_tokens[d]}", "Content-Type": "application/json"}

    Driver(url, clients, request, duration=duration / 2).run()  # the cache as it is after a while
    with app.app_context():
        cache.reset_stats()
    result = Driver(url, clients, request, duration=duration).run()
    with app.app_context():
        return result, cache.cache_stats()


def main(duration: float, clients: int) -> None:
    with services() as (db_url, redis_url):
        env = app_env(db_url, redis_url)
        migrate(env)
        app, doctor_ids, doctor_tokens, patient_tokens = seed(env)
        with app.app_context():
            from hospital.services.queries import clinics
            clinic_ids = [c.id for c in clinics()]
        slot_cold = [f"/api/appointments/slots?date={days_ahead(1 + n // DOCTORS)}&doctor_id={doctor_ids[n % DOCTORS]}"
                     for n in range(DOCTORS * 59)]
        random.Random(2).shuffle(slot_cold)
        slot_warm = [f"/api/appointments/slots?date={days_ahead(1 + n % 7)}&doctor_id={doctor_ids[n % 20]}" for n in range(140)]
        list_warm = ["/api/doctors", "/api/doctors?page=2", "/api/doctors?specialization=Specialty%201"]
        rows = []
        no_cache = {**env, "CACHE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/1"}  # nothing listens there
        with server(no_cache) as (url, _):
            settle(url)
            for name, paths in (("doctors list", list_warm), ("free times", slot_warm)):
                Driver(url, 4, get(paths), duration=1).run()
                rows.append((name, "no cache (its Redis down: database only)",
                             Driver(url, clients, get(paths), duration=duration).run()))
        with server(env) as (url, _):
            settle(url)
            rows += run_pair(url, "doctors list", cold_lists(clinic_ids), list_warm, clients, duration)
            rows += run_pair(url, "free times", slot_cold, slot_warm, clients, duration)
            mixed, stats = mixed_run(url, app, doctor_ids, doctor_tokens, patient_tokens, clients, duration * 2)
        q_list = queries_per_request(app, cold_lists(clinic_ids)[:100])
        q_slots = queries_per_request(app, slot_cold[:100])
        invalidations = invalidation_cost(app, doctor_ids)

    for name, run, r in rows:
        print(f"{name:13} {run:42} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  {r['statuses']}")
    hits = sum(f["hits"] for f in stats.values())
    misses = sum(f["misses"] for f in stats.values())
    overall = hits / (hits + misses) if hits + misses else float("nan")
    print(f"mixed run: {mixed['rps']:.0f} req/s, statuses {mixed['statuses']}, hit ratio {overall:.1%} {stats}")
    for label, how, removed, median, worst in invalidations:
        print(f"invalidate {label} by {how}: removed {removed}, median {median:.1f} ms, max {worst:.1f} ms")

    by = {(name, run.split(" ")[0]): r for name, run, r in rows}
    table = ["| request | cache | req/s | p50 ms | p99 ms | DB queries / request |", "|---|---|---|---|---|---|"]
    queries = {("doctors list", "cold"): q_list[0], ("doctors list", "warm"): q_list[1],
               ("free times", "cold"): q_slots[0], ("free times", "warm"): q_slots[1]}
    for name, run, r in rows:
        q = queries.get((name, run.split(" ")[0]))
        table.append(f"| {name} | {run} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{'' if q is None else f'{q:.1f}'} |")
    ratios = [f"{name}: warm/cold = {by[(name, 'warm')]['rps'] / by[(name, 'cold')]['rps']:.1f}x"
              for name in ("doctors list", "free times")]
    inv = ["| pattern invalidation | through | keys removed | median ms | max ms |", "|---|---|---|---|---|"]
    inv += [f"| {label} | {how} | {removed} | {median:.1f} | {worst:.1f} |"
            for label, how, removed, median, worst in invalidations]
    families = ", ".join(f"{f} {s['hit_ratio']:.1%} ({s['hits']}/{s['hits'] + s['misses']})"
                         for f, s in sorted(stats.items()) if s["hit_ratio"] is not None)
    record("Cache (bench/cache.py)", f"""
Measured {machine()}: `gunicorn -k gevent` (1 worker) against a private PostgreSQL
and Redis, {DOCTORS} doctors in {CLINICS} clinics working 06:00-22:00 every day,
{clients} closed-loop clients on keep-alive connections, {duration:g} s per run, load
generator on the same machine. Cold = every request a different key (each misses
once: read, lock, rebuild, store); warm = a small hot set already cached; "no cache" =
the cache's Redis unreachable (the breaker sends every read to the database).
DB queries counted in-process with a SQLAlchemy listener. Targets: warm >= 3x cold
req/s, 0 queries on a hit, invalidation among 100k keys <= 50 ms, hit ratio >= 95%.

{chr(10).join(table)}

{"; ".join(ratios)}.

Pattern invalidation with {KEYS:,} keys in the cache database, 20 runs each (3 for the
rename). "index": the scope's index of written keys (`CACHE_PATTERN_INDEX`, the
default), cost ~ keys removed; "SCAN": SCAN COUNT 10000 + UNLINK over the whole
cache database, cost ~ cache size.

{chr(10).join(inv)}

Mixed run ({duration * 2:g} s, after {duration:g} s of the same load): 58% free times of Zipf-popular doctors over the next
week, 30% directory pages, 11% own profile ({ONLINE} patients online), 1% bookings of those doctors' times
that week, 0.02% doctors replacing their weekly hours (which empties every
`doctors:*` key and their `slots:*`). {mixed['rps']:.0f} req/s, statuses {mixed['statuses']}; hit ratio
**{overall:.1%}** overall ({families}).
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    main(args.duration, args.clients)
