"""Booking: with a chosen doctor, or by specialty with automatic assignment.

The database has the last word on double booking: a unique index over
(doctor, start) for active appointments. The loser of a race gets
:class:`Conflict`; a repeated idempotency key returns the first appointment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..errors import Conflict, InvalidInput, NotFound
from ..events import appointment_booked, appointment_status_changing, emit, emit_in_transaction
from ..extensions import db
from ..models import ACTIVE_STATUSES, Appointment, AppointmentEvent, Doctor, Patient, User, utcnow
from .policy import booking_policy
from .schedule import check_bookable_day, free_slots_for

log = logging.getLogger(__name__)
MAX_REASON = 1000


@dataclass
class BookingResult:
    appointment: Appointment
    created: bool   # False when an idempotency key matched an earlier booking
    assigned: bool  # True when the system chose the doctor


def _aware(start: datetime) -> datetime:
    if start.tzinfo is None:
        raise InvalidInput("The start time needs a UTC offset", {"start": ["Use ISO 8601 with an offset, e.g. 2026-05-04T09:00:00+01:00"]})
    return start.astimezone(timezone.utc)


def _existing(patient_id: int, key: str | None) -> Appointment | None:
    if not key:
        return None
    return db.session.scalar(select(Appointment).where(Appointment.patient_id == patient_id,
                                                       Appointment.idempotency_key == key))


def find_doctors(specialization: str, clinic_id: int | None = None) -> list[Doctor]:
    query = (select(Doctor).options(joinedload(Doctor.clinic))
             .where(func.lower(Doctor.specialization) == specialization.strip().lower()))
    if clinic_id:
        query = query.where(Doctor.clinic_id == clinic_id)
    return list(db.session.scalars(query.order_by(Doctor.id)))


def _rank_by_load(doctors: list[Doctor], start: datetime) -> list[Doctor]:
    """Least booked that (clinic-local) day first; ties go to whoever was assigned least recently."""
    ids = [d.id for d in doctors]
    day_lo = start - timedelta(hours=24)
    day_hi = start + timedelta(hours=24)
    rows = db.session.execute(select(Appointment.doctor_id, Appointment.start_at).where(
        Appointment.doctor_id.in_(ids), Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.start_at >= day_lo, Appointment.start_at < day_hi)).all()
    load = {i: 0 for i in ids}
    by_id = {d.id: d for d in doctors}
    for doctor_id, booked_start in rows:
        tz = by_id[doctor_id].clinic.tz
        if booked_start.astimezone(tz).date() == start.astimezone(tz).date():
            load[doctor_id] += 1
    last = dict(db.session.execute(select(Appointment.doctor_id, func.max(Appointment.created_at))
                                   .where(Appointment.doctor_id.in_(ids)).group_by(Appointment.doctor_id)).all())
    epoch = datetime.min.replace(tzinfo=start.tzinfo)
    return sorted(doctors, key=lambda d: (load[d.id], last.get(d.id) or epoch, d.id))


def _insert(patient: Patient, doctor: Doctor, start: datetime, end: datetime, reason: str,
            key: str | None, actor: User, status: str = "pending", note: str = "") -> Appointment:
    appointment = Appointment(patient_id=patient.id, doctor_id=doctor.id, clinic_id=doctor.clinic_id,
                              start_at=start, end_at=end, status=status, reason=reason,
                              idempotency_key=key, created_by_id=actor.id)
    appointment.events.append(AppointmentEvent(from_status=None, to_status=status, actor_id=actor.id, note=note))
    db.session.add(appointment)
    db.session.flush()  # the id, for the in-transaction event (an IntegrityError here is the caller's race)
    emit_in_transaction(appointment_status_changing, appointment_id=appointment.id, from_status=None,
                        to_status=status, actor_id=actor.id)
    db.session.commit()
    return appointment


def _booked(appointment: Appointment, actor: User) -> None:
    log.info("appointment booked", extra={"appointment_id": appointment.id, "doctor_id": appointment.doctor_id,
                                          "patient_id": appointment.patient_id, "actor_id": actor.id,
                                          "status": appointment.status})
    emit(appointment_booked, appointment_id=appointment.id, doctor_id=appointment.doctor_id,
         patient_id=appointment.patient_id, start=appointment.start_at, actor_id=actor.id,
         event_id=appointment.events[0].id)


def book_appointment(patient: Patient, start: datetime, actor: User, *, doctor_id: int | None = None,
                     specialization: str | None = None, clinic_id: int | None = None, reason: str = "",
                     idempotency_key: str | None = None, now: datetime | None = None) -> BookingResult:
    """Book ``start`` for ``patient`` with a doctor, or with any doctor of a specialty.

    Raises :class:`NotFound` (unknown doctor), :class:`InvalidInput` (past,
    beyond the horizon, not on the grid, unknown specialty, bad reason) and
    :class:`Conflict` (the time is taken).
    """
    now = now or utcnow()
    start = _aware(start)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput("Reason too long", {"reason": [f"At most {MAX_REASON} characters"]})
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 64):
        raise InvalidInput("Bad idempotency key", {"idempotency_key": ["1 to 64 characters"]})
    earlier = _existing(patient.id, idempotency_key)
    if earlier:
        return BookingResult(earlier, created=False, assigned=False)

    if doctor_id is not None:
        doctor = db.session.get(Doctor, doctor_id, options=[joinedload(Doctor.clinic)])
        if doctor is None:
            raise NotFound("No such doctor", {"doctor_id": ["Unknown doctor"]})
        candidates = [doctor]
    elif specialization:
        candidates = find_doctors(specialization, clinic_id)
        if not candidates:
            raise InvalidInput("No doctor has that specialty", {"specialization": ["Unknown specialty"]})
    else:
        raise InvalidInput("Choose a doctor or a specialty", {"doctor_id": ["Give doctor_id or specialization"]})

    policy = booking_policy()
    for doctor in candidates:
        check_bookable_day(doctor, start.astimezone(doctor.clinic.tz).date(), now, policy)
    by_day = defaultdict(list)
    for doctor in candidates:
        by_day[start.astimezone(doctor.clinic.tz).date()].append(doctor)
    free = {}
    for day, doctors in by_day.items():
        free.update(free_slots_for(doctors, day, now, policy))
    open_slots = {d.id: next((s for s in free[d.id] if s.start == start), None) for d in candidates}
    available = [d for d in candidates if open_slots[d.id]]
    if not available:
        _explain_unavailable(candidates, start, now, policy)
    ranked = _rank_by_load(available, start) if doctor_id is None else available
    for doctor in ranked:
        slot = open_slots[doctor.id]
        try:
            appointment = _insert(patient, doctor, slot.start, slot.end, reason, idempotency_key, actor)
        except IntegrityError:
            db.session.rollback()
            earlier = _existing(patient.id, idempotency_key)
            if earlier:
                return BookingResult(earlier, created=False, assigned=False)
            continue  # lost the race for this doctor: try the next one
        _booked(appointment, actor)
        return BookingResult(appointment, created=True, assigned=doctor_id is None)
    raise Conflict("That time was just taken. Please choose another time.", {"start": ["No longer available"]})


def _explain_unavailable(candidates: list[Doctor], start: datetime, now: datetime, policy) -> None:
    """Raise the right error: taken (409) or not a bookable time (422)."""
    for doctor in candidates:
        day = start.astimezone(doctor.clinic.tz).date()
        grid = free_slots_for([doctor], day, now, policy, include_busy=True)[doctor.id]
        if any(s.start == start for s in grid):
            raise Conflict("That time is already booked. Please choose another time.", {"start": ["Already booked"]})
    if start < now + policy.min_notice:
        raise InvalidInput("That time is too soon", {"start": [f"Book at least {int(policy.min_notice.total_seconds() // 60)} minutes ahead"]})
    raise InvalidInput("That time is not one of the doctor's free times", {"start": ["Not on the doctor's schedule"]})


def override_book(actor: User, patient_id: int, doctor_id: int, start: datetime, minutes: int | None = None,
                  reason: str = "", status: str = "approved") -> Appointment:
    """Admin booking outside normal hours. Still never two active appointments
    overlapping at one doctor (checked here; same-start races settled by the index)."""
    if actor.role != "admin":
        raise NotFound("Not found")
    start = _aware(start)
    patient = db.session.get(Patient, patient_id)
    doctor = db.session.get(Doctor, doctor_id)
    if patient is None:
        raise NotFound("No such patient", {"patient_id": ["Unknown patient"]})
    if doctor is None:
        raise NotFound("No such doctor", {"doctor_id": ["Unknown doctor"]})
    minutes = minutes or doctor.consultation_minutes
    if not 5 <= minutes <= 480:
        raise InvalidInput("Length must be 5 to 480 minutes", {"minutes": ["5 to 480"]})
    if status not in ("pending", "approved"):
        raise InvalidInput("Status must be pending or approved", {"status": ["pending or approved"]})
    end = start + timedelta(minutes=minutes)
    clash = db.session.scalar(select(Appointment.id).where(
        Appointment.doctor_id == doctor.id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.start_at < end, Appointment.end_at > start))
    if clash:
        raise Conflict("The doctor already has an appointment at that time", {"start": ["Overlaps another appointment"]})
    try:
        appointment = _insert(patient, doctor, start, end, (reason or "").strip()[:MAX_REASON], None, actor,
                              status=status, note="admin override")
    except IntegrityError:
        db.session.rollback()
        raise Conflict("The doctor already has an appointment at that time", {"start": ["Already booked"]}) from None
    _booked(appointment, actor)
    return appointment
