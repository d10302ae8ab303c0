"""The appointment status stream: every status change, fed through Redis pub/sub.

Web processes subscribe; any process that commits a change publishes. A
client resumes with the last event id it saw: :func:`replay` reads the event
log (the ``appointment_events`` table), so nothing is missed.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Appointment, AppointmentEvent, User

log = logging.getLogger(__name__)
CHANNEL = "hospital:stream:appointments"


def event_payload(event: AppointmentEvent, appointment: Appointment) -> dict:
    return {"id": event.id, "appointment_id": appointment.id, "from": event.from_status, "to": event.to_status,
            "actor_id": event.actor_id, "at": event.created_at.isoformat(), "note": event.note,
            "doctor_id": appointment.doctor_id, "patient_id": appointment.patient_id,
            "start": appointment.start_at.isoformat()}


@dataclass(frozen=True)
class Audience:
    """Whose changes a stream may show, detached from any database session."""

    role: str
    patient_id: int | None = None
    doctor_id: int | None = None


def audience_of(user: User) -> Audience:
    return Audience(user.role, user.patient.id if user.patient else None, user.doctor.id if user.doctor else None)


def can_see(audience: Audience, payload: dict) -> bool:
    """Patients see their own appointments' changes, doctors theirs, admins all."""
    if audience.role == "admin":
        return True
    if audience.role == "patient":
        return audience.patient_id is not None and payload["patient_id"] == audience.patient_id
    return audience.doctor_id is not None and payload["doctor_id"] == audience.doctor_id


def publish(event_id: int) -> None:
    """Publish a committed event; a Redis failure is logged (replay covers it)."""
    row = db.session.execute(select(AppointmentEvent, Appointment).join(Appointment)
                             .where(AppointmentEvent.id == event_id)).first()
    if row is None:
        return
    try:
        connection(current_app.config).publish(CHANNEL, json.dumps(event_payload(*row)))
    except redis.RedisError:
        log.warning("could not publish appointment event %s to the stream", event_id)


def replay(audience: Audience, after_id: int, limit: int = 500) -> list[dict]:
    """Events after ``after_id`` that ``audience`` may see, oldest first."""
    query = (select(AppointmentEvent, Appointment).join(Appointment)
             .where(AppointmentEvent.id > after_id).order_by(AppointmentEvent.id).limit(limit))
    if audience.role == "patient":
        query = query.where(Appointment.patient_id == (audience.patient_id or -1))
    elif audience.role == "doctor":
        query = query.where(Appointment.doctor_id == (audience.doctor_id or -1))
    return [event_payload(event, appointment) for event, appointment in db.session.execute(query)]


def latest_event_id() -> int:
    return db.session.scalar(select(AppointmentEvent.id).order_by(AppointmentEvent.id.desc()).limit(1)) or 0


def connection(config) -> redis.Redis:
    return redis.Redis.from_url(config["REDIS_URL"], socket_connect_timeout=config["REDIS_SOCKET_TIMEOUT"] * 4)
