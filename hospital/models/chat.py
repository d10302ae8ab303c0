"""Chat about an appointment: its messages, and whether the doctor closed it."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

MAX_BODY = 2000


class ChatMessage(db.Model):
    """One message, stored before it is pushed to anyone.

    ``read_at`` is when the other party (the recipient) read it; a message has
    exactly one recipient because a chat has two writers, patient and doctor.
    ``sender_id`` survives the sender's account being deleted as NULL, so the
    conversation stays with the appointment.
    """

    __tablename__ = "chat_messages"
    __table_args__ = (
        # History pages, catch-up after a reconnect ("after id") and the inbox's last message.
        Index("ix_chat_messages_appointment_id_id", "appointment_id", "id"),
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_BODY}", name="body_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(db.Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime, nullable=True)


class ChatClosure(db.Model):
    """A closed chat: the doctor ended it and it is read-only from then on.

    Kept in its own table (one row per closed appointment chat) so the
    appointments table carries nothing chat-specific.
    """

    __tablename__ = "chat_closures"

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
