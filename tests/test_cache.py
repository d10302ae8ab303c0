"""The Redis cache against the real Redis: what is cached and for how long, what each
change removes (and what it leaves alone), stampede protection, the inactive-user
sweep, and changes showing on the very next request."""
from __future__ import annotations

import pickle
import threading
import time as clock
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import redis as redis_lib
from flask import g, request_started
from rq.utils import import_attribute
from sqlalchemy import event

from hospital import cache
from hospital.extensions import db
from hospital.jobs import cache_sweep
from hospital.jobs.schedule import CRON_TABLE
from hospital.services import accounts, appointments, booking, schedule

from .conftest import login

PASSWORD = "correct-horse-9"
HTMX = {"HX-Request": "true"}
LONDON = ZoneInfo("Europe/London")
HOURS = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("monday", "tuesday", "wednesday", "thursday", "friday")]
PLAIN = (dict, list, tuple, str, int, float, bool, type(None), datetime, date, time)


@pytest.fixture(autouse=True)
def fresh_request_globals(app):
    """Each request starts with an empty ``g``, as in a real server (see test_pages_booking)."""
    def clear(sender, **extra):
        g.__dict__.clear()
    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


@pytest.fixture
def raw(app):
    """A plain client on the cache's Redis database."""
    return redis_lib.Redis.from_url(app.config["CACHE_REDIS_URL"])


@pytest.fixture
def world(app, make_user):
    london = accounts.get_or_create_clinic("Test Clinic", "Europe/London")
    new_york = accounts.get_or_create_clinic("West Clinic", "America/New_York")
    ada = make_user("doctor", email="ada@example.com", name="Dr. Ada", clinic=london, specialization="Cardiology")
    bo = make_user("doctor", email="bo@example.com", name="Dr. Bo", clinic=new_york, specialization="Dermatology")
    for user in (ada, bo):
        schedule.replace_weekly_availability(user.doctor, HOURS)
    ann = make_user("patient", email="ann@example.com", name="Ann")
    bob = make_user("patient", email="bob@example.com", name="Bob")
    admin = make_user("admin", email="boss@example.com")
    day = datetime.now(timezone.utc).astimezone(LONDON).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return type("World", (), {"ada": ada, "bo": bo, "ann": ann, "bob": bob, "admin": admin, "day": day})


def signed_in(app, email):
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302
    return client


def bearer(client, email):
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm)).replace(tzinfo=LONDON).astimezone(timezone.utc)


def value_keys(app, raw) -> set[str]:
    """The cached values (without the prefix), leaving out guard counters, locks, indexes and statistics."""
    prefix = app.config["CACHE_KEY_PREFIX"]
    names = {k.decode()[len(prefix):] for k in raw.scan_iter(match=prefix + "*")}
    return {n for n in names if not n.startswith(("gen:", "lock:", "meta:", "idx:"))}


@contextmanager
def counted_queries():
    """Count the SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def only_plain_data(value) -> bool:
    if isinstance(value, dict):
        return all(only_plain_data(k) and only_plain_data(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(only_plain_data(v) for v in value)
    return isinstance(value, PLAIN)


# --- what is cached, and for how long ------------------------------------------

def test_each_family_is_cached_as_plain_data_with_its_ttl(app, client, raw, world):
    ada, ann, day = world.ada.doctor, world.ann, world.day
    assert client.get("/api/doctors").status_code == 200
    assert client.get(f"/api/appointments/slots?date={day}&doctor_id={ada.id}").status_code == 200
    assert client.get("/api/patients/me", headers=bearer(client, "ann@example.com")).json["name"] == "Ann"
    assert signed_in(app, "ann@example.com").get("/patient/appointments").status_code == 200
    expected = {"doctors:list:*:*:*:1:10": 300, f"doctor:{ada.id}": 3600, f"slots:{ada.id}:{day}": 60,
                f"user:{ann.id}:profile": 3600, f"user:{ann.id}:appts:upcoming:1:10": 300}
    assert value_keys(app, raw) == set(expected)
    prefix = app.config["CACHE_KEY_PREFIX"]
    for key, ttl in expected.items():
        # A little jitter (up to 10%) so keys written together do not expire together.
        assert ttl * 1000 * 0.98 < raw.pttl(prefix + key) <= ttl * 1000 * 1.1, key
        stored = raw.get(prefix + key)
        assert stored.startswith(b"!") and only_plain_data(pickle.loads(stored[1:])), key


def test_a_warm_cache_answers_without_the_database(app, client, world):
    day, ada = world.day, world.ada.doctor
    for url in ("/api/doctors?specialization=Cardiology", f"/api/appointments/slots?date={day}&doctor_id={ada.id}",
                f"/api/appointments/slots?date={day}&specialization=Cardiology"):
        with counted_queries() as cold:
            first = client.get(url)
        with counted_queries() as warm:
            second = client.get(url)
        assert first.status_code == 200 and second.json == first.json, url
        assert cold and warm == [], url
    # A page fragment: at most the sign-in check (loading the session's account) reaches the database
    # (here the test's long-lived session may even have that account at hand).
    pat = signed_in(app, "ann@example.com")
    url = f"/patient/doctors/{ada.id}/slots?date={day}"
    first = pat.get(url, headers=HTMX)
    with counted_queries() as warm:
        second = pat.get(url, headers=HTMX)
    assert second.get_data() == first.get_data() and ">09:00</a>" in second.get_data(as_text=True)
    assert len(warm) <= 1 and all("FROM users" in statement for statement in warm)
    assert "HX-Request" in second.headers["Vary"]  # page and fragment share a URL, never a cache entry


def test_hit_and_miss_counts_per_family(app, client, world):
    cache.reset_stats()
    for _ in range(3):
        client.get("/api/doctors")
    client.get(f"/api/appointments/slots?date={world.day}&doctor_id={world.ada.doctor.id}")
    stats = cache.cache_stats()
    assert stats["doctors"] == {"hits": 2, "misses": 1, "hit_ratio": 2 / 3}
    assert stats["slots"]["misses"] == 1 and stats["doctor"]["misses"] == 1


# --- invalidation: exactly the matched keys ---------------------------------------

def index_of(name: str) -> list[str]:
    """The index a reader lists ``name`` under (see hospital.cache)."""
    family, _, rest = name.partition(":")
    if family == "doctors":
        return ["doctors:*"]
    if family == "slots":
        return [f"slots:{rest.split(':')[0]}:*"]
    if family == "user" and ":appts:" in name:
        return [f"user:{rest.split(':')[0]}:appts:*"]
    return []


def seed(app, raw, w) -> set[str]:
    """Cache entries of every family for both doctors and both patients, plus look-alikes,
    written as the readers write them."""
    a, b, ann, bob, day = w.ada.doctor.id, w.bo.doctor.id, w.ann.id, w.bob.id, w.day
    names = {"doctors:list:*:*:*:1:10", f"doctors:list:{a}:cardiology:*:2:10", "doctors:specialty:cardiology:*",
             "doctors:specializations", "doctors:clinics", f"doctor:{a}", f"doctor:{b}",
             f"slots:{b}:{day}", f"slots:{a}{a}:{day}",  # doctor 1 must not take doctor 11's keys
             f"user:{ann}:profile", f"user:{ann}:appts:upcoming:1:10", f"user:{ann}:appts:past:2:10",
             f"user:{bob}:profile", f"user:{bob}:appts:upcoming:1:10", f"user:{ann}{ann}:appts:upcoming:1:10"}
    names |= {f"slots:{a}:{day + timedelta(days=n)}" for n in range(3)}
    store = cache.store()
    for name in names:
        store.finish(name, {"seeded": name}, 600, None, [], [], index_of(name))
    # An index entry outside its pattern (it cannot happen, but if it did, it must not be deleted).
    raw.zadd(store.index_key(f"slots:{a}:*"), {store.k(f"doctor:{b}"): clock.time() * 1000 + 600_000})
    raw.set(f"doctors:list:*:*:*:1:10", b"not ours: no prefix")
    raw.set(f"other-app:slots:{a}:{day}", b"not ours")
    redis_lib.Redis.from_url(app.config["REDIS_URL"]).set(store.k(f"slots:{a}:{day}"), b"RQ's database")
    return names


def book_ann(w, hh=9, mm=0):
    return booking.book_appointment(w.ann.patient, local(w.day, hh, mm), w.ann, doctor_id=w.ada.doctor.id).appointment


def outsiders_survive(app, raw, w):
    a, day, prefix = w.ada.doctor.id, w.day, app.config["CACHE_KEY_PREFIX"]
    assert raw.get("doctors:list:*:*:*:1:10") and raw.get(f"other-app:slots:{a}:{day}")
    assert redis_lib.Redis.from_url(app.config["REDIS_URL"]).get(prefix + f"slots:{a}:{day}")


CHANGES = {
    # name: (set-up, change, keys it must remove — as functions of the world)
    "hours edited": (None, lambda w: schedule.add_exception(w.ada.doctor, w.day, "off"),
                     lambda w, names: {n for n in names if n.startswith(("doctors:", f"slots:{w.ada.doctor.id}:"))}),
    "booked": (None, book_ann,
               lambda w, names: {f"slots:{w.ada.doctor.id}:{w.day}", f"user:{w.ann.id}:appts:upcoming:1:10",
                                 f"user:{w.ann.id}:appts:past:2:10"}),
    "booked across midnight": (None, lambda w: booking.override_book(
                                   w.admin, w.ann.patient.id, w.ada.doctor.id, local(w.day, 23, 30), minutes=60),
                               lambda w, names: {f"slots:{w.ada.doctor.id}:{w.day}",
                                                 f"slots:{w.ada.doctor.id}:{w.day + timedelta(days=1)}",
                                                 f"user:{w.ann.id}:appts:upcoming:1:10",
                                                 f"user:{w.ann.id}:appts:past:2:10"}),
    "cancelled": (book_ann, lambda w: appointments.change_status(w.ann, w.setup.id, "cancelled"),
                  lambda w, names: {f"slots:{w.ada.doctor.id}:{w.day}", f"user:{w.ann.id}:appts:upcoming:1:10",
                                    f"user:{w.ann.id}:appts:past:2:10"}),
    "approved (the time stays taken)": (book_ann, lambda w: appointments.change_status(w.ada, w.setup.id, "approved"),
                                        lambda w, names: {f"user:{w.ann.id}:appts:upcoming:1:10",
                                                          f"user:{w.ann.id}:appts:past:2:10"}),
    "patient profile": (None, lambda w: accounts.update_patient_profile(w.ann, accounts.PatientDetails("Ann B")),
                        lambda w, names: {f"user:{w.ann.id}:profile"}),
    "doctor profile": (None, lambda w: accounts.update_doctor_profile(w.ada, "Dr. Ada K", "Heart doctor"),
                       lambda w, names: {n for n in names if n.startswith("doctors:") or ":appts:" in n}
                       | {f"doctor:{w.ada.doctor.id}"}),
}


@pytest.mark.parametrize("use_index", [True, False], ids=["index", "scan"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_each_change_removes_exactly_its_keys(app, raw, world, change, use_index, monkeypatch):
    monkeypatch.setattr(cache.store(), "use_index", use_index)  # CACHE_PATTERN_INDEX
    setup, apply, removed = CHANGES[change]
    world.setup = setup(world) if setup else None
    names = seed(app, raw, world)
    apply(world)
    gone = removed(world, names)
    assert gone and gone <= names
    assert value_keys(app, raw) == names - gone
    outsiders_survive(app, raw, world)


def test_an_index_forgets_expired_keys_and_outlives_its_live_ones(app, raw):
    store = cache.store()
    store.finish("slots:9:2030-01-01", [], 0.05, None, [], [], ["slots:9:*"])
    clock.sleep(0.1)
    store.finish("slots:9:2030-01-02", [], 60, None, [], [], ["slots:9:*"])
    index = store.index_key("slots:9:*")
    assert raw.zrange(index, 0, -1) == [store.k("slots:9:2030-01-02").encode()]  # it cannot grow without bound
    assert 60_000 * 0.98 < raw.pttl(index) <= 66_000


def test_a_rebuild_that_raced_a_change_is_not_stored(app, raw, world):
    """Read from the database, then a change commits and invalidates, then the
    rebuild finishes: storing it would keep the old data for the whole TTL."""
    def slow_build():
        data = {"items": [], "total": 0}  # what the database said before the change
        accounts.update_doctor_profile(world.ada, "Dr. Renamed", "")  # meanwhile, in another request
        return data
    cache._cached("doctors:list:test", "doctors", "CACHE_TTL_DOCTORS", slow_build, ["gen:doctors"], lock=True)
    assert "doctors:list:test" not in value_keys(app, raw)
    assert not list(raw.scan_iter(match=app.config["CACHE_KEY_PREFIX"] + "lock:*"))  # the lock was released


# --- one rebuild at a time ---------------------------------------------------------

def test_concurrent_misses_rebuild_once(app, world, monkeypatch):
    monkeypatch.setattr(cache.store(), "lock_wait", 5.0)
    builds, results, barrier = [], [], threading.Barrier(8)

    def slow_list(*args):
        builds.append(1)
        clock.sleep(0.2)  # a slow query: every other reader arrives while it runs
        return real_list(*args)
    real_list = cache.queries.list_doctors
    monkeypatch.setattr(cache.queries, "list_doctors", slow_list)

    def reader():
        with app.app_context():
            barrier.wait()
            results.append([d.name for d in cache.list_doctors().items])
            db.session.remove()
    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(builds) == 1
    assert results == [["Dr. Ada", "Dr. Bo"]] * 8


def test_a_stuck_rebuild_costs_a_short_wait_then_the_database(app, raw, world):
    prefix = app.config["CACHE_KEY_PREFIX"]
    raw.set(prefix + "lock:doctors:list:*:*:*:1:10", "someone else", px=5000)  # a rebuild that never finishes
    started = clock.monotonic()
    names = [d.name for d in cache.list_doctors().items]
    assert names == ["Dr. Ada", "Dr. Bo"]
    assert clock.monotonic() - started < app.config["CACHE_LOCK_WAIT"] + 0.3


# --- the clock, and changes visible on the next request ----------------------------

def test_an_ended_appointment_moves_to_past_although_the_list_was_cached(app, world):
    appointment = book_ann(world)
    before = appointment.start_at - timedelta(hours=1)
    assert [a.id for a in cache.patient_appointments(world.ann, "upcoming", now=before).items] == [appointment.id]
    assert cache.patient_appointments(world.ann, "past", now=before).total == 0
    after = appointment.end_at + timedelta(minutes=1)
    assert cache.patient_appointments(world.ann, "upcoming", now=after).total == 0
    assert [a.id for a in cache.patient_appointments(world.ann, "past", now=after).items] == [appointment.id]


def test_doctor_edits_hours_and_the_slot_picker_shows_them_next_request(app, world):
    pat = signed_in(app, "ann@example.com")
    doc = signed_in(app, "ada@example.com")
    ada, day = world.ada.doctor, world.day
    url = f"/patient/doctors/{ada.id}/slots?date={day}"
    before = pat.get(url, headers=HTMX).get_data(as_text=True)
    assert ">09:00</a>" in before and ">14:00</a>" not in before
    token = doc.get("/doctor/availability").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    added = doc.post("/doctor/availability/windows", headers={**HTMX, "X-CSRFToken": token},
                     data={"window-day": day.strftime("%A").lower(), "window-start": "14:00", "window-end": "15:00"})
    assert added.status_code == 200
    after = pat.get(url, headers=HTMX).get_data(as_text=True)
    assert ">09:00</a>" in after and ">14:00</a>" in after
    # Booking a time takes it off the picker at once, too (for everyone).
    book_ann(world, 14, 15)
    assert ">14:15</a>" not in pat.get(url, headers=HTMX).get_data(as_text=True)


def test_directory_and_profiles_follow_edits_at_once(app, client, world, make_user):
    assert [d["name"] for d in client.get("/api/doctors").json["items"]] == ["Dr. Ada", "Dr. Bo"]
    make_user("doctor", email="cy@example.com", name="Dr. Cy", specialization="Cardiology")
    assert [d["name"] for d in client.get("/api/doctors").json["items"]] == ["Dr. Ada", "Dr. Bo", "Dr. Cy"]
    h = bearer(client, "ann@example.com")
    assert client.get("/api/patients/me", headers=h).json["name"] == "Ann"
    assert client.put("/api/patients/me", headers=h, json={"name": "Ann Other"}).status_code == 200
    assert client.get("/api/patients/me", headers=h).json["name"] == "Ann Other"


# --- inactive users ----------------------------------------------------------------

def test_inactive_users_cached_pages_are_swept(app, raw, world, monkeypatch):
    monkeypatch.setattr(cache.store(), "last_activity", {})  # the app (and its store) outlive each test
    ann_client, bob_client = signed_in(app, "ann@example.com"), signed_in(app, "bob@example.com")
    for c in (ann_client, bob_client):
        assert c.get("/patient/appointments").status_code == 200
        assert c.get("/patient/").status_code == 200
    ann, bob, prefix = world.ann.id, world.bob.id, app.config["CACHE_KEY_PREFIX"]
    active = prefix + "meta:active"
    assert abs(raw.zscore(active, str(ann)) - clock.time()) < 5  # activity noted by the requests
    cache.list_doctors()  # shared entries are not any user's
    # Bob was last seen eleven minutes ago; Ann is active.
    raw.zadd(active, {str(bob): clock.time() - 660})
    removed = cache_sweep.sweep_inactive_users()
    keys = value_keys(app, raw)
    assert removed == 2 and not any(k.startswith(f"user:{bob}:") for k in keys)
    assert {f"user:{ann}:appts:upcoming:1:10", f"user:{ann}:appts:upcoming:1:3",
            "doctors:list:*:*:*:1:10"} <= keys
    assert raw.zscore(active, str(bob)) is None and raw.zscore(active, str(ann))
    # Activity is written at most once a minute per user and process, not per request.
    raw.delete(active)
    ann_client.get("/patient/appointments")
    assert raw.zscore(active, str(ann)) is None
    # Pages of users with no recorded activity at all (e.g. lost with a Redis restart) go too.
    assert cache_sweep.sweep_inactive_users() == 2


def test_the_sweep_runs_every_minute_from_the_cron_table():
    entry = next(e for e in CRON_TABLE if e.func == "hospital.jobs.cache_sweep.sweep_inactive_users")
    assert entry.cron == "* * * * *" and entry.kwargs == {}
    assert import_attribute(entry.func) is cache_sweep.sweep_inactive_users  # what the worker will resolve
