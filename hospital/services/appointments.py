"""The appointment lifecycle: who may see an appointment and how its status moves.

:data:`TRANSITIONS` is the one transition table; :func:`change_status` is the
one function that applies it.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..errors import Conflict, InvalidInput, NotFound
from ..events import appointment_status_changed, appointment_status_changing, emit, emit_in_transaction
from ..extensions import db
from ..models import STATUSES, Appointment, AppointmentEvent, Doctor, Patient, User, utcnow
from .policy import booking_policy

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"completed", "no_show", "cancelled"}),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "completed": frozenset(),
    "no_show": frozenset(),
}
# Outcomes that only make sense once the appointment has started.
AFTER_START = frozenset({"completed", "no_show"})


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, ())


def visible_to(user: User, appointment: Appointment) -> bool:
    """Patients see their own, doctors the ones they hold, admins all."""
    if user.role == "admin":
        return True
    if user.role == "patient":
        return user.patient is not None and appointment.patient_id == user.patient.id
    if user.role == "doctor":
        return user.doctor is not None and appointment.doctor_id == user.doctor.id
    return False


def get_appointment(user: User, appointment_id: int, for_update: bool = False) -> Appointment:
    """The appointment if ``user`` may see it; otherwise 404 (it is not theirs to know about)."""
    query = (select(Appointment).where(Appointment.id == appointment_id)
             .options(joinedload(Appointment.doctor).joinedload(Doctor.clinic),
                      joinedload(Appointment.patient).joinedload(Patient.user)))
    if for_update:
        query = query.with_for_update(of=Appointment)
    appointment = db.session.scalar(query)
    if appointment is None or not visible_to(user, appointment):
        raise NotFound("No such appointment")
    return appointment


def allowed_actions(user: User, appointment: Appointment, now: datetime | None = None) -> list[str]:
    """The statuses ``user`` may move this appointment to now (for buttons)."""
    now = now or utcnow()
    return [to for to in sorted(TRANSITIONS[appointment.status]) if _refusal(user, appointment, to, now) is None]


def _refusal(user: User, appointment: Appointment, to_status: str, now: datetime) -> str | None:
    """Why ``user`` may not make this change now, or None when allowed."""
    if user.role == "patient":
        if to_status != "cancelled":
            return "Patients can only cancel their appointments"
        notice = booking_policy().cancellation_notice
        if now > appointment.start_at - notice:
            hours = notice.total_seconds() / 3600
            return (f"Too late to cancel online: appointments can be cancelled up to {hours:g} hours "
                    "before they start. Please call the clinic.")
    if to_status in AFTER_START and now < appointment.start_at:
        return f"The appointment has not started yet, so it cannot be marked {to_status.replace('_', ' ')}"
    return None


def change_status(user: User, appointment_id: int, to_status: str, note: str = "",
                  now: datetime | None = None) -> Appointment:
    """Move an appointment to ``to_status`` on behalf of ``user``.

    Checks, in order: the appointment is visible to the user (404), the status
    exists (422), the move is in :data:`TRANSITIONS` (409), and the user's
    role allows it now (409 with the reason). Writes an :class:`AppointmentEvent`
    in the same transaction and emits ``appointment_status_changed`` after commit.
    """
    now = now or utcnow()
    if to_status not in STATUSES:
        raise InvalidInput(f"Unknown status {to_status!r}", {"status": [f"One of: {', '.join(STATUSES)}"]})
    if len(note or "") > 500:
        raise InvalidInput("Note too long", {"note": ["At most 500 characters"]})
    appointment = get_appointment(user, appointment_id, for_update=True)
    from_status = appointment.status
    if not can_transition(from_status, to_status):
        db.session.rollback()
        raise Conflict(f"A {from_status.replace('_', ' ')} appointment cannot become {to_status.replace('_', ' ')}",
                       current_status=from_status)
    refusal = _refusal(user, appointment, to_status, now)
    if refusal:
        db.session.rollback()
        raise Conflict(refusal, current_status=from_status)
    appointment.status = to_status
    event = AppointmentEvent(appointment=appointment, from_status=from_status, to_status=to_status,
                             actor_id=user.id, note=(note or "").strip())
    db.session.add(event)
    emit_in_transaction(appointment_status_changing, appointment_id=appointment.id, from_status=from_status,
                        to_status=to_status, actor_id=user.id)  # e.g. the outbox email, in this transaction
    db.session.commit()
    log.info("appointment status changed", extra={
        "appointment_id": appointment.id, "from_status": from_status, "to_status": to_status,
        "actor_id": user.id, "event_id": event.id})
    emit(appointment_status_changed, appointment_id=appointment.id, doctor_id=appointment.doctor_id,
         patient_id=appointment.patient_id, start=appointment.start_at, from_status=from_status,
         to_status=to_status, actor_id=user.id, event_id=event.id)
    return appointment
