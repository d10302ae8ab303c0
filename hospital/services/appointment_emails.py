"""What patients are emailed about their appointments: confirmed, rejected, the 24-hour reminder.

Each function adds an outbox row to the current transaction (see
:mod:`hospital.services.emails`) under a dedupe key, so an appointment gets
each email at most once.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..formatting import local_time
from ..models import Appointment, Doctor, EmailMessage, Patient
from . import emails

# status -> (kind, subject). Other statuses send no email (the in-app notification covers them).
STATUS_EMAILS = {
    "approved": ("confirmed", "Your appointment with {doctor} is confirmed"),
    "rejected": ("rejected", "Your appointment request with {doctor} was declined"),
}
REMINDER_SUBJECT = "Reminder: your appointment with {doctor} on {when}"


def _load(appointment_id: int) -> Appointment | None:
    return db.session.scalar(select(Appointment).where(Appointment.id == appointment_id).options(
        joinedload(Appointment.doctor).joinedload(Doctor.clinic),
        joinedload(Appointment.patient).joinedload(Patient.user)))


def context(appointment: Appointment) -> dict:
    """What the appointment templates show: names, clinic-local time, a link."""
    clinic = appointment.doctor.clinic
    return {"patient_name": appointment.patient.name, "doctor_name": appointment.doctor.name,
            "specialization": appointment.doctor.specialization, "clinic_name": clinic.name,
            "when": local_time(appointment.start_at, clinic.tz), "reason": appointment.reason,
            "appointment_id": appointment.id, "path": f"/patient/appointments/{appointment.id}"}


def queue_status_email(appointment_id: int, to_status: str) -> EmailMessage | None:
    """Queue "confirmed" or "rejected" for the patient, in the caller's transaction."""
    if to_status not in STATUS_EMAILS:
        return None
    appointment = _load(appointment_id)
    if appointment is None:
        return None
    kind, subject = STATUS_EMAILS[to_status]
    return emails.queue(appointment.patient.user.email, kind, subject.format(doctor=appointment.doctor.name), kind,
                        context(appointment), dedupe_key=f"{kind}:{appointment.id}", appointment_id=appointment.id,
                        clinic_id=appointment.clinic_id)


def reminder_key(appointment_id: int) -> str:
    return f"reminder-24h:{appointment_id}"


def queue_reminder(appointment: Appointment) -> EmailMessage | None:
    """Queue the day-before reminder once (a concurrent run's row wins)."""
    details = context(appointment)
    return emails.queue_once(appointment.patient.user.email, "reminder",
                             REMINDER_SUBJECT.format(doctor=details["doctor_name"], when=details["when"]), "reminder",
                             details, dedupe_key=reminder_key(appointment.id),
                             appointment_id=appointment.id, clinic_id=appointment.clinic_id)
