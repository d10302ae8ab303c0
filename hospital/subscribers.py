"""Side effects of domain events, all in one place.

Each subscriber runs after the service's commit, in the same process. A
failing side effect is logged and never undoes the committed change.
"""
from __future__ import annotations


from sqlalchemy import select

from . import cache, events
from .extensions import db
from .formatting import local_time
from .jobs import reminders
from .models import Appointment, Doctor, Patient
from .realtime import emit, role_room
from .services import appointment_emails, emails, notifications, stream


def _people(appointment_id: int):
    return db.session.execute(
        select(Appointment, Doctor, Patient).join(Doctor, Appointment.doctor_id == Doctor.id)
        .join(Patient, Appointment.patient_id == Patient.id).where(Appointment.id == appointment_id)).first()


def _live_payload(appointment: Appointment, from_status: str | None) -> dict:
    return {"id": appointment.id, "status": appointment.status, "from": from_status,
            "start": appointment.start_at.isoformat(), "doctor_id": appointment.doctor_id}


@events.safe_subscriber
def on_booked(appointment_id, actor_id, event_id=None, **_):
    appointment, doctor, patient = _people(appointment_id)
    when = local_time(appointment.start_at, doctor.clinic.tz)
    notifications.notify([doctor.user_id], "appointment_booked", f"New request from {patient.name} for {when}",
                         "/doctor/dashboard", appointment.id, live_event="appointment_booked",
                         live_payload=_live_payload(appointment, None))
    if event_id:
        stream.publish(event_id)
    emit("appointment_changed", {"id": appointment.id, "status": appointment.status}, role_room("admin"))


STATUS_WORDS = {"approved": "confirmed", "rejected": "declined", "cancelled": "cancelled",
                "completed": "marked completed", "no_show": "marked as missed"}


@events.safe_subscriber
def on_status_changed(appointment_id, from_status, to_status, actor_id, event_id, **_):
    appointment, doctor, patient = _people(appointment_id)
    when = local_time(appointment.start_at, doctor.clinic.tz)
    live = _live_payload(appointment, from_status)
    recipients = [u for u in (patient.user_id, doctor.user_id) if u != actor_id]
    for user_id in recipients:
        if user_id == patient.user_id:
            text = f"Your appointment with {doctor.name} on {when} was {STATUS_WORDS[to_status]}"
            link = f"/patient/appointments/{appointment.id}"
        else:
            text = f"{patient.name}'s appointment on {when} was {STATUS_WORDS[to_status]}"
            link = "/doctor/dashboard"
        notifications.notify([user_id], "appointment_status", text, link, appointment.id,
                             live_event="appointment_status", live_payload=live)
    stream.publish(event_id)
    emit("appointment_changed", {"id": appointment.id, "status": to_status}, role_room("admin"))
    if to_status == "approved":
        reminders.schedule_live_reminder(appointment.id, appointment.start_at)
    elif from_status == "approved":
        reminders.cancel_live_reminder(appointment.id)


def on_status_changing(sender, appointment_id, to_status, **_):
    """In the transaction: queue the patient's "confirmed"/"rejected" email (outbox row).
    Not wrapped in events.safe_subscriber on purpose: if the email cannot be queued, the change does not commit."""
    appointment_emails.queue_status_email(appointment_id, to_status)


def connect() -> None:
    """Subscribe the handlers (idempotent: blinker keeps one connection per receiver)."""
    cache.connect()  # invalidation runs before every other subscriber
    events.appointment_status_changing.connect(on_status_changing)
    emails.install_outbox_hooks()  # outbox rows are enqueued for sending after their commit
    events.appointment_booked.connect(on_booked)
    events.appointment_status_changed.connect(on_status_changed)
