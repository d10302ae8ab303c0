"""The admins' daily summary email: one per clinic and day, at ``DAILY_SUMMARY_HOUR`` clinic time.

The cron table runs :func:`send_daily_summaries` every hour (cron works in UTC,
clinics do not). A clinic whose local hour has reached the configured one gets
its summary for the local date, once: the dedupe key is
``daily-summary:<clinic>:<date>:<admin>``. Using "reached" rather than "equals"
means a scheduler that was down at that hour still sends the summary later that day.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Appointment, Clinic, EmailMessage, User, utcnow
from ..services import emails

log = logging.getLogger(__name__)
SUMMARY_STATUSES = ("approved", "pending", "rejected")


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where the clinic-local ``day`` starts and ends (23 or 25 hours across DST)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return start, end


def summary_counts(clinic: Clinic, day: date) -> dict[str, int]:
    """The clinic's appointments on its local ``day`` by status (approved, pending,
    rejected), and its emails that failed during the day before."""
    start, end = day_bounds(day, clinic.tz)
    by_status = dict(db.session.execute(
        select(Appointment.status, func.count()).where(
            Appointment.clinic_id == clinic.id, Appointment.status.in_(SUMMARY_STATUSES),
            Appointment.start_at >= start, Appointment.start_at < end).group_by(Appointment.status)).all())
    y_start, y_end = day_bounds(day - timedelta(days=1), clinic.tz)
    failed = db.session.scalar(select(func.count()).select_from(EmailMessage).where(
        EmailMessage.clinic_id == clinic.id, EmailMessage.status == "failed",
        EmailMessage.last_attempt_at >= y_start, EmailMessage.last_attempt_at < y_end))
    return {**{status: by_status.get(status, 0) for status in SUMMARY_STATUSES}, "failed_emails": failed or 0}


def summary_key(clinic_id: int, day: date, admin_id: int) -> str:
    return f"daily-summary:{clinic_id}:{day.isoformat()}:{admin_id}"


def send_daily_summaries(now: datetime | None = None) -> int:
    """Queue today's summary for every clinic whose local hour has reached the
    configured one, to every active admin; returns how many were queued."""
    now = now or utcnow()
    hour = current_app.config["DAILY_SUMMARY_HOUR"]
    admins = list(db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))
                                     .order_by(User.id)))
    queued = 0
    for clinic in db.session.scalars(select(Clinic).order_by(Clinic.id)).all():
        local = now.astimezone(clinic.tz)
        if local.hour < hour or not admins:
            continue
        day = local.date()
        keys = {summary_key(clinic.id, day, admin.id): admin for admin in admins}
        done = set(db.session.scalars(select(EmailMessage.dedupe_key).where(EmailMessage.dedupe_key.in_(keys))))
        if len(done) == len(keys):
            continue
        context = {"clinic_name": clinic.name, "timezone": clinic.timezone, "day": day,
                   "day_label": f"{day:%A} {day.day} {day:%B %Y}", "counts": summary_counts(clinic, day)}
        subject = f"Daily summary for {clinic.name}, {day:%a} {day.day} {day:%b %Y}"
        for key, admin in keys.items():
            if key not in done and emails.queue_once(admin.email, "daily_summary", subject, "daily_summary",
                                                     context, dedupe_key=key, clinic_id=clinic.id):
                queued += 1
    db.session.commit()
    if queued:
        log.info("queued %d daily summary email(s)", queued)
    return queued
