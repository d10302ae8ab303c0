"""Doctors' availability: editing windows and exceptions, and reading free times.

:func:`free_slots_for` is the one function that computes free times: the
day's grid from :func:`slot_candidates`, cut by the minimum notice. Booking
uses it directly; pages and the API read the same grid through
:mod:`hospital.cache`.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from ..errors import InvalidInput, NotFound
from ..events import availability_changed, emit
from ..extensions import db
from ..models import (ACTIVE_STATUSES, WEEKDAYS, Appointment, AvailabilityException, AvailabilityWindow,
                      Doctor, utcnow)
from .policy import BookingPolicy, booking_policy
from .slots import Slot, candidate_slots, pick_slots

log = logging.getLogger(__name__)


# --- reading ---------------------------------------------------------------

def check_bookable_day(doctor: Doctor, day: date, now: datetime, policy: BookingPolicy) -> None:
    """Refuse days in the past or beyond the booking horizon (clinic time)."""
    today = now.astimezone(doctor.clinic.tz).date()
    if day < today:
        raise InvalidInput("That date is in the past", {"date": ["Choose today or a later date"]})
    if day > today + timedelta(days=policy.horizon_days):
        raise InvalidInput(f"Bookings open {policy.horizon_days} days ahead",
                           {"date": [f"Choose a date within {policy.horizon_days} days"]})


def slot_candidates(doctors: list[Doctor], day: date, include_busy: bool = False) -> dict[int, list[tuple]]:
    """Per doctor id, the day's grid of (start, end) UTC spans clear of time off
    and (unless ``include_busy``) of active appointments.

    Three queries whatever the number of doctors. The result does not depend on
    the clock, which is what :mod:`hospital.cache` stores as a doctor's free times.
    """
    ids = [d.id for d in doctors]
    if not ids:
        return {}
    weekly: dict[int, list] = defaultdict(list)
    for w in db.session.scalars(select(AvailabilityWindow).where(
            AvailabilityWindow.doctor_id.in_(ids), AvailabilityWindow.weekday == day.weekday())):
        weekly[w.doctor_id].append((w.start_time, w.end_time))
    extra: dict[int, list] = defaultdict(list)
    off: dict[int, list] = defaultdict(list)
    for e in db.session.scalars(select(AvailabilityException).where(
            AvailabilityException.doctor_id.in_(ids), AvailabilityException.day == day)):
        if e.kind == "extra":
            extra[e.doctor_id].append((e.start_time, e.end_time))
        else:
            off[e.doctor_id].append((e.start_time, e.end_time) if e.start_time else None)
    busy: dict[int, list] = defaultdict(list)
    if not include_busy:
        # A local day spans at most 26 hours of UTC; a day either side is plenty.
        lo = datetime.combine(day - timedelta(days=1), time()).replace(tzinfo=timezone.utc)
        hi = lo + timedelta(days=3)
        for doctor_id, start, end in db.session.execute(select(
                Appointment.doctor_id, Appointment.start_at, Appointment.end_at).where(
                Appointment.doctor_id.in_(ids), Appointment.status.in_(ACTIVE_STATUSES),
                Appointment.start_at < hi, Appointment.end_at > lo)):
            busy[doctor_id].append((start, end))
    return {d.id: candidate_slots(day, d.clinic.tz, d.consultation_minutes, weekly[d.id], extra[d.id],
                                  off[d.id], busy[d.id])
            for d in doctors}


def free_slots_for(doctors: list[Doctor], day: date, now: datetime | None = None,
                   policy: BookingPolicy | None = None, include_busy: bool = False) -> dict[int, list[Slot]]:
    """Free slots per doctor id on the clinic-local ``day``, read from the database.

    With ``include_busy`` the booked times are kept (the doctor's grid), used
    to tell "taken" from "not on the grid". Booking uses this directly (never
    the cache); pages use :func:`hospital.cache.free_slots`, built on the same parts.
    """
    now = now or utcnow()
    policy = policy or booking_policy()
    earliest = now + policy.min_notice
    return {doctor_id: pick_slots(candidates, earliest, doctor_id)
            for doctor_id, candidates in slot_candidates(doctors, day, include_busy).items()}


def free_slots(doctor: Doctor, day: date, now: datetime | None = None) -> list[Slot]:
    """Free slots of one doctor, after checking the day is bookable."""
    now = now or utcnow()
    policy = booking_policy()
    check_bookable_day(doctor, day, now, policy)
    return free_slots_for([doctor], day, now, policy)[doctor.id]


def weekly_windows(doctor: Doctor) -> list[AvailabilityWindow]:
    return list(db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.doctor_id == doctor.id)
                                   .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_time)))


def upcoming_exceptions(doctor: Doctor, today: date) -> list[AvailabilityException]:
    return list(db.session.scalars(select(AvailabilityException).where(
        AvailabilityException.doctor_id == doctor.id, AvailabilityException.day >= today)
        .order_by(AvailabilityException.day, AvailabilityException.start_time)))


# --- editing ---------------------------------------------------------------

def parse_weekday(value) -> int:
    if isinstance(value, int) and 0 <= value <= 6:
        return value
    name = str(value).strip().lower()
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    raise InvalidInput(f"Unknown day {value!r}", {"day": [f"Use one of: {', '.join(WEEKDAYS)}"]})


def parse_time(value, field: str) -> time:
    if isinstance(value, time):
        return value
    try:
        parsed = time.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{field} must be a time like 09:00", {field: ["Use HH:MM, e.g. 09:00"]}) from None
    return parsed.replace(second=0, microsecond=0)


def _check_span(start: time, end: time) -> None:
    if start >= end:
        raise InvalidInput("The end must be after the start", {"end": ["Must be after the start"]})


def _check_no_overlap(spans: list[tuple[int, time, time]]) -> None:
    by_day = defaultdict(list)
    for weekday, start, end in spans:
        by_day[weekday].append((start, end))
    for weekday, day_spans in by_day.items():
        day_spans.sort()
        for (s1, e1), (s2, e2) in zip(day_spans, day_spans[1:]):
            if s2 < e1:
                raise InvalidInput(f"Overlapping hours on {WEEKDAYS[weekday].title()}",
                                   {"availability": [f"{s1:%H:%M}–{e1:%H:%M} overlaps {s2:%H:%M}–{e2:%H:%M}"]})


def _changed(doctor: Doctor) -> None:
    db.session.commit()
    log.info("availability changed", extra={"doctor_id": doctor.id})
    emit(availability_changed, doctor_id=doctor.id, clinic_id=doctor.clinic_id)


def replace_weekly_availability(doctor: Doctor, entries: list[dict]) -> list[AvailabilityWindow]:
    """Replace the doctor's weekly schedule with ``[{"day", "start", "end"}, …]`` (clinic time)."""
    spans = []
    for entry in entries:
        start, end = parse_time(entry.get("start"), "start"), parse_time(entry.get("end"), "end")
        _check_span(start, end)
        spans.append((parse_weekday(entry.get("day")), start, end))
    _check_no_overlap(spans)
    db.session.execute(AvailabilityWindow.__table__.delete().where(AvailabilityWindow.doctor_id == doctor.id))
    windows = [AvailabilityWindow(doctor_id=doctor.id, weekday=d, start_time=s, end_time=e) for d, s, e in spans]
    db.session.add_all(windows)
    _changed(doctor)
    return windows


def add_window(doctor: Doctor, day, start, end) -> AvailabilityWindow:
    """Add one weekly window; refuses overlaps with the doctor's other windows."""
    weekday, start, end = parse_weekday(day), parse_time(start, "start"), parse_time(end, "end")
    _check_span(start, end)
    existing = [(w.weekday, w.start_time, w.end_time) for w in weekly_windows(doctor)]
    _check_no_overlap(existing + [(weekday, start, end)])
    window = AvailabilityWindow(doctor_id=doctor.id, weekday=weekday, start_time=start, end_time=end)
    db.session.add(window)
    _changed(doctor)
    return window


def remove_window(doctor: Doctor, window_id: int) -> None:
    window = db.session.get(AvailabilityWindow, window_id)
    if window is None or window.doctor_id != doctor.id:
        raise NotFound("No such window")
    db.session.delete(window)
    _changed(doctor)


def add_exception(doctor: Doctor, day: date, kind: str, start=None, end=None, note: str = "") -> AvailabilityException:
    """A day off (whole day without times, or a span), or extra hours on a date."""
    if kind not in ("off", "extra"):
        raise InvalidInput("Choose day off or extra hours", {"kind": ["Must be 'off' or 'extra'"]})
    start = parse_time(start, "start") if start not in (None, "") else None
    end = parse_time(end, "end") if end not in (None, "") else None
    if (start is None) != (end is None):
        raise InvalidInput("Give both a start and an end, or neither", {"end": ["Give both times or neither"]})
    if start is not None:
        _check_span(start, end)
    elif kind == "extra":
        raise InvalidInput("Extra hours need a start and an end", {"start": ["Required for extra hours"]})
    if len(note or "") > 200:
        raise InvalidInput("Note too long", {"note": ["At most 200 characters"]})
    exception = AvailabilityException(doctor_id=doctor.id, day=day, kind=kind, start_time=start,
                                      end_time=end, note=(note or "").strip())
    db.session.add(exception)
    _changed(doctor)
    return exception


def remove_exception(doctor: Doctor, exception_id: int) -> None:
    exception = db.session.get(AvailabilityException, exception_id)
    if exception is None or exception.doctor_id != doctor.id:
        raise NotFound("No such exception")
    db.session.delete(exception)
    _changed(doctor)
