"""Reminders: live ones 15 minutes before an approved appointment, and the day-before email.

Live: scheduled with RQ ``enqueue_at`` under a job id per appointment when it is
approved, cancelled with it, and backed by a sweep that catches anything the
queue lost. A notification dedupe key makes each reminder go out once.

Email: :func:`queue_day_reminders` runs hourly from the cron table and queues an
outbox row per appointment (dedupe key ``reminder-24h:<appointment>``).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..formatting import local_time
from ..models import Appointment, Doctor, EmailMessage, Patient, utcnow
from ..services import appointment_emails
from ..services.notifications import notify
from .queue import get_queue, redis_connection

log = logging.getLogger(__name__)
LEAD = timedelta(minutes=15)


def job_id(appointment_id: int) -> str:
    return f"reminder-15m-{appointment_id}"


def schedule_live_reminder(appointment_id: int, start: datetime) -> None:
    when = max(start - LEAD, utcnow())
    try:
        get_queue().enqueue_at(when, send_live_reminder, appointment_id, job_id=job_id(appointment_id))
    except redis.RedisError:
        log.warning("could not schedule reminder for appointment %s; the sweep will send it", appointment_id)


def cancel_live_reminder(appointment_id: int) -> None:
    try:
        job = Job.fetch(job_id(appointment_id), connection=redis_connection())
        job.cancel()
        job.delete()
    except NoSuchJobError:
        pass
    except redis.RedisError:
        log.warning("could not cancel reminder job for appointment %s (it re-checks the status)", appointment_id)


def send_live_reminder(appointment_id: int, now: datetime | None = None) -> bool:
    """Remind patient and doctor if the appointment is still approved and due
    within 15 minutes. Safe to run twice: the dedupe key sends once."""
    now = now or utcnow()
    row = db.session.execute(select(Appointment, Doctor, Patient).join(Doctor, Appointment.doctor_id == Doctor.id)
                             .join(Patient, Appointment.patient_id == Patient.id)
                             .where(Appointment.id == appointment_id)).first()
    if row is None:
        return False
    appointment, doctor, patient = row
    if appointment.status != "approved" or not (now <= appointment.start_at <= now + LEAD + timedelta(minutes=1)):
        return False
    when = local_time(appointment.start_at, doctor.clinic.tz)
    payload = {"id": appointment.id, "start": appointment.start_at.isoformat(), "minutes": LEAD.seconds // 60}
    notify([patient.user_id], "reminder", f"Reminder: your appointment with {doctor.name} starts at {when}",
           f"/patient/appointments/{appointment.id}", appointment.id, dedupe=f"reminder-15m:{appointment.id}",
           live_event="reminder", live_payload=payload)
    notify([doctor.user_id], "reminder", f"Reminder: {patient.name} at {when}", "/doctor/dashboard",
           appointment.id, dedupe=f"reminder-15m:{appointment.id}", live_event="reminder", live_payload=payload)
    return True


def sweep_live_reminders(now: datetime | None = None) -> int:
    """Send every due reminder the queue may have lost (runs every minute)."""
    now = now or utcnow()
    due = db.session.scalars(select(Appointment.id).where(
        Appointment.status == "approved", Appointment.start_at >= now, Appointment.start_at <= now + LEAD))
    return sum(send_live_reminder(appointment_id, now) for appointment_id in list(due))


# --- the day-before reminder email -------------------------------------------------

DAY_AHEAD = timedelta(hours=24)


def queue_day_reminders(now: datetime | None = None) -> int:
    """Queue the 24-hour reminder email for every approved appointment starting
    in the next 24 hours that has none yet (runs hourly; safe to run twice: the
    dedupe key ``reminder-24h:<appointment>`` queues each reminder once).
    Returns how many were queued; they are enqueued for sending after the commit."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Appointment).where(
        Appointment.status == "approved", Appointment.start_at > now, Appointment.start_at <= now + DAY_AHEAD)
        .options(joinedload(Appointment.doctor).joinedload(Doctor.clinic),
                 joinedload(Appointment.patient).joinedload(Patient.user)).order_by(Appointment.start_at)))
    keys = {appointment_emails.reminder_key(a.id) for a in due}
    done = set(db.session.scalars(select(EmailMessage.dedupe_key).where(EmailMessage.dedupe_key.in_(keys))))
    queued = sum(appointment_emails.queue_reminder(a) is not None
                 for a in due if appointment_emails.reminder_key(a.id) not in done)
    db.session.commit()
    if queued:
        log.info("queued %d day-before reminder email(s)", queued)
    return queued
