"""The chat inbox: a doctor's (or a patient's) conversations, latest first, with unread counts."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Appointment, ChatClosure, ChatMessage, Doctor, Patient, User


@dataclass(frozen=True)
class InboxEntry:
    appointment: Appointment
    last: ChatMessage
    unread: int
    closed: bool


def inbox(user: User, limit: int = 50) -> list[InboxEntry]:
    """The user's conversations (a doctor's or a patient's), latest activity first, with unread counts."""
    if user.role == "doctor" and user.doctor is not None:
        mine = Appointment.doctor_id == user.doctor.id
    elif user.role == "patient" and user.patient is not None:
        mine = Appointment.patient_id == user.patient.id
    else:
        return []
    unread = func.count(ChatMessage.id).filter(and_(ChatMessage.read_at.is_(None), or_(
        ChatMessage.sender_id != user.id, ChatMessage.sender_id.is_(None))))
    stats = (select(ChatMessage.appointment_id, func.max(ChatMessage.id).label("last_id"), unread.label("unread"))
             .join(Appointment, Appointment.id == ChatMessage.appointment_id).where(mine)
             .group_by(ChatMessage.appointment_id).subquery())
    rows = db.session.execute(
        select(Appointment, ChatMessage, stats.c.unread, ChatClosure.appointment_id)
        .join(stats, stats.c.appointment_id == Appointment.id).join(ChatMessage, ChatMessage.id == stats.c.last_id)
        .outerjoin(ChatClosure, ChatClosure.appointment_id == Appointment.id)
        .options(joinedload(Appointment.patient).joinedload(Patient.user),
                 joinedload(Appointment.doctor).joinedload(Doctor.clinic))
        .order_by(stats.c.last_id.desc()).limit(limit))
    return [InboxEntry(a, m, n, closed is not None) for a, m, n, closed in rows]


def unread_total(user: User) -> int:
    return sum(entry.unread for entry in inbox(user))
