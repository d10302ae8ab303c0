"""The cache: its key scheme, the cached readers and the invalidators.

Values live in the cache's own Redis database under ``CACHE_KEY_PREFIX``
(``hospital:cache:``) and are plain data (dicts, lists of UTC spans), never ORM
objects. Readers cache data, not views: a page and its htmx fragment render
from the same data but never share a key.

Key scheme (TTL from config, each stretched by up to ``CACHE_TTL_JITTER``)::

  doctors:list:<clinic>:<specialty>:<q>:<page>:<per_page>  a directory page        CACHE_TTL_DOCTORS (5 min)
  doctors:specialty:<specialty>:<clinic>                   doctors to book by specialty     "
  doctors:specializations | doctors:clinics                directory filter options         "
  doctor:<doctor_id>                                       a doctor's public profile  CACHE_TTL_DOCTOR (1 h)
  slots:<doctor_id>:<YYYY-MM-DD>                           the doctor's free-time grid that
                                                           clinic-local day           CACHE_TTL_SLOTS (60 s)
  user:<user_id>:profile                                   a patient's own profile    CACHE_TTL_PATIENT (1 h)
  user:<user_id>:appts:<upcoming|past>:<page>:<per_page>   a patient's appointment pages
                                                                                CACHE_TTL_APPOINTMENTS (5 min)

``*`` in a list key means "any"; free text is lower-cased and percent-encoded,
so no key carries a glob character or a stray colon. The free-time grid is the
day's free (start, end) spans without the minimum-notice cut, which depends on
the clock and is applied per request (:func:`hospital.services.slots.pick_slots`).

Bookkeeping keys, never matched by the patterns below: ``gen:<scope>``
(counters each invalidation moves; a rebuild that raced an invalidation is not
stored), ``lock:<key>`` (one rebuild at a time), ``idx:<pattern>`` (sorted set of
the keys written under ``doctors:*``, ``slots:<id>:*`` or ``user:<id>:appts:*``:
deleting one of those costs what it removes, not a SCAN of the whole cache),
``meta:stats`` (hash of ``<family>:hits|misses``), ``meta:active`` (sorted set:
user id -> last seen). Other patterns are deleted with SCAN + UNLINK in batches;
never KEYS, never FLUSHDB.

Invalidation, hooked to :mod:`hospital.events` (they run before any other subscriber)::

  availability_changed        doctors:*  slots:<doctor>:*
  appointment_booked          slots:<doctor>:<each local day it covers>  user:<patient's user>:appts:*
  appointment_status_changed  the same; the slots only when the time is freed or taken
  profile_updated (patient)   user:<user>:profile
  profile_updated (doctor)    doctor:<id>  doctors:*  user:*:appts:* (the lists show the doctor's name)
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g

from . import events
from .cachestore import MISSING, CacheStore
from .extensions import cache as flask_cache
from .models import ACTIVE_STATUSES, utcnow
from .services import queries, schedule
from .services.booking import find_doctors
from .services.pagination import Page, page_args
from .services.policy import BookingPolicy, booking_policy
from .services.slots import Slot, pick_slots
from .services.snapshots import (DoctorView, PatientView, clinic_data, clinic_view, doctor_data, doctor_view,
                                 appointment_data, appointment_view, patient_data, patient_view)

STATS_KEY = "meta:stats"
ACTIVE_KEY = "meta:active"
FAMILIES = ("doctors:*", "doctor:*", "slots:*", "user:*")  # everything cached, for a purge
ACTIVITY_EVERY = 60  # seconds: one activity write per user per process at most this often


def init_app(app: Flask) -> None:
    """Bind a :class:`CacheStore` to the app's Flask-Caching Redis client and note user activity."""
    backend = app.extensions["cache"][flask_cache]
    app.extensions["hospital_cache"] = CacheStore(backend, app.config, STATS_KEY, list(FAMILIES))
    app.after_request(_note_activity)


def store() -> CacheStore:
    return current_app.extensions["hospital_cache"]


def _text(value: str | None) -> str:
    return "*" if value is None or value == "" else quote(value.strip().lower(), safe="")


def _cached(key: str, family: str, ttl: str, build, guards: list[str], lock: bool = False, usable=None,
            index: str | None = None):
    """The value under ``key``, else ``build()`` (stored unless an invalidation raced it).

    With ``lock`` only one process rebuilds; the others wait briefly for its
    value, then read the database themselves. ``usable(value)`` may reject a
    value that went stale with the clock; ``index`` names the pattern whose
    index lists the key.
    """
    s = store()
    value = s.read_many([key])[0]
    if value is not MISSING and (usable is None or usable(value)):
        s.count(family, True)
        return value
    s.count(family, False)
    started = s.begin(key, guards, lock)
    if started is None:  # someone else is rebuilding it
        value = s.wait_for(key)
        return build() if value is MISSING or (usable and not usable(value)) else value
    value = build()
    if started is not MISSING and value is not None:
        s.finish(key, value, current_app.config[ttl], started[0], guards, started[1], [index] if index else [])
    return value


# --- the doctor directory ----------------------------------------------------

def list_doctors(specialization=None, clinic_id=None, q=None, page=None, per_page=None) -> Page:
    """:func:`queries.list_doctors`, cached; items are :class:`DoctorView`."""
    page, per_page = page_args(page, per_page)
    key = f"doctors:list:{clinic_id or '*'}:{_text(specialization)}:{_text(q)}:{page}:{per_page}"

    def build():
        found = queries.list_doctors(specialization, clinic_id, q, page, per_page)
        return {"items": [doctor_data(d) for d in found.items], "total": found.total}
    data = _cached(key, "doctors", "CACHE_TTL_DOCTORS", build, ["gen:doctors"], lock=True, index="doctors:*")
    return Page([doctor_view(d) for d in data["items"]], page, per_page, data["total"])


def doctors_of_specialty(specialization: str, clinic_id: int | None = None) -> list[DoctorView]:
    """:func:`booking.find_doctors`, cached (reading only: booking itself asks the database)."""
    key = f"doctors:specialty:{_text(specialization)}:{clinic_id or '*'}"
    data = _cached(key, "doctors", "CACHE_TTL_DOCTORS",
                   lambda: [doctor_data(d) for d in find_doctors(specialization, clinic_id)], ["gen:doctors"], lock=True,
                   index="doctors:*")
    return [doctor_view(d) for d in data]


def specializations() -> list[str]:
    return _cached("doctors:specializations", "doctors", "CACHE_TTL_DOCTORS", queries.specializations, ["gen:doctors"],
                   index="doctors:*")


def clinics():
    data = _cached("doctors:clinics", "doctors", "CACHE_TTL_DOCTORS",
                   lambda: [clinic_data(c) for c in queries.clinics()], ["gen:doctors"], index="doctors:*")
    return [clinic_view(c) for c in data]


def get_doctor(doctor_id: int) -> DoctorView | None:
    """A doctor's public profile with their clinic, or None."""
    def build():
        doctor = queries.get_doctor(doctor_id)
        return doctor_data(doctor) if doctor else None
    data = _cached(f"doctor:{doctor_id}", "doctor", "CACHE_TTL_DOCTOR", build, [f"gen:doctor:{doctor_id}"], lock=True)
    return doctor_view(data) if data else None


# --- free times --------------------------------------------------------------

def _slots_key(doctor_id: int, day: date) -> str:
    return f"slots:{doctor_id}:{day.isoformat()}"


def free_slots(doctors: list, day: date, now: datetime | None = None,
               policy: BookingPolicy | None = None) -> dict[int, list[Slot]]:
    """:func:`schedule.free_slots_for` with each doctor's grid for ``day`` from the cache.

    ``doctors`` may be models or :class:`DoctorView`. Grids missing from the
    cache are read in one batch (three queries) and stored.
    """
    now, policy = now or utcnow(), policy or booking_policy()
    if len(doctors) == 1:  # the doctor page: a hot key, rebuilt by one process at a time
        d = doctors[0]
        grids = {d.id: _cached(_slots_key(d.id, day), "slots", "CACHE_TTL_SLOTS",
                               lambda: schedule.slot_candidates([d], day)[d.id], [f"gen:slots:{d.id}"], lock=True,
                               index=f"slots:{d.id}:*")}
    else:
        grids = _grids(doctors, day)
    earliest = now + policy.min_notice
    return {d.id: pick_slots(grids[d.id], earliest, d.id) for d in doctors}


def _grids(doctors: list, day: date) -> dict[int, list]:
    s = store()
    grids, missing = {}, []
    for d, value in zip(doctors, s.read_many([_slots_key(d.id, day) for d in doctors])):
        s.count("slots", value is not MISSING)
        if value is MISSING:
            missing.append(d)
        else:
            grids[d.id] = value
    if missing:
        started = {d.id: s.begin(_slots_key(d.id, day), [f"gen:slots:{d.id}"], lock=False) for d in missing}
        built = schedule.slot_candidates(missing, day)
        for d in missing:
            grids[d.id] = built[d.id]
            if started[d.id] not in (None, MISSING):
                s.finish(_slots_key(d.id, day), built[d.id], current_app.config["CACHE_TTL_SLOTS"], None,
                         [f"gen:slots:{d.id}"], started[d.id][1], [f"slots:{d.id}:*"])
    return grids


def free_slots_of(doctor, day: date, now: datetime | None = None) -> list[Slot]:
    """One doctor's free slots, after checking the day is bookable (:func:`schedule.free_slots`)."""
    now, policy = now or utcnow(), booking_policy()
    schedule.check_bookable_day(doctor, day, now, policy)
    return free_slots([doctor], day, now, policy)[doctor.id]


# --- a patient's own data ----------------------------------------------------

def patient_profile(user) -> PatientView | None:
    """The signed-in patient's profile (``user`` is their account)."""
    def build():
        return patient_data(user, user.patient) if user.patient else None
    data = _cached(f"user:{user.id}:profile", "profile", "CACHE_TTL_PATIENT", build, [f"gen:user:{user.id}"])
    return patient_view(data) if data else None


def patient_appointments(user, scope: str = "upcoming", page=None, per_page=None,
                         now: datetime | None = None) -> Page:
    """:func:`queries.patient_appointments` for ``user``'s patient, cached; items are views.

    A page is rebuilt once one of the patient's appointments has ended since it
    was stored (it moves from upcoming to past).
    """
    now = now or utcnow()
    page, per_page = page_args(page, per_page)

    def build():
        found = queries.patient_appointments(user.patient, scope, page, per_page, now)
        return {"items": [appointment_data(a) for a in found.items], "total": found.total,
                "valid_until": queries.patient_next_end(user.patient.id, now)}
    data = _cached(f"user:{user.id}:appts:{scope}:{page}:{per_page}", "appointments", "CACHE_TTL_APPOINTMENTS",
                   build, [f"gen:user:{user.id}", "gen:doctors"], index=f"user:{user.id}:appts:*",
                   usable=lambda v: v["valid_until"] is None or now < v["valid_until"])
    return Page([appointment_view(a) for a in data["items"]], page, per_page, data["total"])


# --- invalidation ------------------------------------------------------------

def invalidate_doctor_schedule(doctor_id: int) -> int:
    return store().invalidate([f"gen:slots:{doctor_id}", "gen:doctors"], indexed=["doctors:*", f"slots:{doctor_id}:*"])


def invalidate_appointment(appointment_id: int, doctor_id: int, slots: bool = True) -> int:
    """The doctor's grid on each clinic-local day the appointment covers, and its patient's lists."""
    span = queries.appointment_span(appointment_id)
    if span is None:  # gone already: drop more rather than leave anything stale
        return store().invalidate([f"gen:slots:{doctor_id}"], [], ["user:*:appts:*"], [f"slots:{doctor_id}:*"])
    else:
        start, end, tz_name, user_id = span
        tz = ZoneInfo(tz_name)
        first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        guards = [f"gen:user:{user_id}"] + ([f"gen:slots:{doctor_id}"] if slots else [])
        keys = [_slots_key(doctor_id, day) for day in days] if slots else []
    return store().invalidate(guards, keys, indexed=[f"user:{user_id}:appts:*"])


def invalidate_profile(user_id: int, kind: str, profile_id: int) -> int:
    if kind == "patient":
        return store().invalidate([f"gen:user:{user_id}"], [f"user:{user_id}:profile"])
    # Every patient's appointment lists show the doctor's name: a SCAN, but names rarely change.
    return store().invalidate([f"gen:doctor:{profile_id}", "gen:doctors"], [f"doctor:{profile_id}"],
                              ["user:*:appts:*"], ["doctors:*"])


@events.safe_subscriber
def on_availability_changed(doctor_id, **_):
    invalidate_doctor_schedule(doctor_id)


@events.safe_subscriber
def on_booked(appointment_id, doctor_id, **_):
    invalidate_appointment(appointment_id, doctor_id)


@events.safe_subscriber
def on_status_changed(appointment_id, doctor_id, from_status, to_status, **_):
    invalidate_appointment(appointment_id, doctor_id, slots=(from_status in ACTIVE_STATUSES) != (to_status in ACTIVE_STATUSES))


@events.safe_subscriber
def on_profile_updated(user_id, kind, profile_id, **_):
    invalidate_profile(user_id, kind, profile_id)


def connect() -> None:
    """Subscribe the invalidators, ahead of every other subscriber (a live push must
    never send a browser to fetch what the cache still holds from before)."""
    events.connect_first(events.availability_changed, on_availability_changed)
    events.connect_first(events.appointment_booked, on_booked)
    events.connect_first(events.appointment_status_changed, on_status_changed)
    events.connect_first(events.profile_updated, on_profile_updated)


# --- inactive users and statistics -------------------------------------------

def _note_activity(response):
    """After each request by a signed-in user (session or bearer token), at most once a minute."""
    user = g.get("api_user") or g.get("_login_user")
    if user is not None and user.is_authenticated:
        note_activity(user.id)
    return response


def note_activity(user_id: int, now: float | None = None) -> None:
    store().touch(ACTIVE_KEY, str(user_id), now or time.time(), every=ACTIVITY_EVERY)


def sweep_inactive_users(now: float | None = None) -> int:
    """Drop every ``user:<id>:*`` entry of users not seen for ``CACHE_INACTIVE_AFTER``
    seconds (one SCAN whatever the number of users); returns the keys removed."""
    cutoff = (now or time.time()) - current_app.config["CACHE_INACTIVE_AFTER"]
    return store().sweep_idle("user:*", ACTIVE_KEY, cutoff, owner=lambda key: key.split(":")[1])


def cache_stats() -> dict[str, dict]:
    """Hits and misses per key family since the last reset: ``{family: {hits, misses, hit_ratio}}``.

    Families: doctors (directory lists and options), doctor (profiles), slots,
    profile (patients' own), appointments (patients' lists).
    """
    return store().stats()


def reset_stats() -> None:
    store().reset_stats()
