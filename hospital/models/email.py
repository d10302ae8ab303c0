"""The email outbox: every email is a row first, written in the transaction that causes it.

A row moves ``queued`` → ``sending`` → ``sent`` | ``failed``; a failed attempt
with attempts left puts it back to ``queued`` with ``next_attempt_at`` set.
``dedupe_key`` (e.g. ``confirmed:42``, ``reminder-24h:42``) makes "sent once"
a database fact.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

EMAIL_STATUSES = ("queued", "sending", "sent", "failed")
EMAIL_KINDS = ("confirmed", "rejected", "reminder", "daily_summary")


class EmailMessage(db.Model):
    __tablename__ = "email_messages"
    __table_args__ = (
        # The sweep: queued rows that are due, and "sending" rows left by a killed worker.
        Index("ix_email_messages_status_next_attempt", "status", "next_attempt_at"),
        # The daily summary: a clinic's failed emails of a day.
        Index("ix_email_messages_clinic_status", "clinic_id", "status", "last_attempt_at"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_valid"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(32))
    recipient: Mapped[str] = mapped_column(db.String(254))
    subject: Mapped[str] = mapped_column(db.String(200))
    body_text: Mapped[str] = mapped_column(db.Text)
    body_html: Mapped[str | None] = mapped_column(db.Text)
    status: Mapped[str] = mapped_column(db.String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(db.String(500))
    dedupe_key: Mapped[str | None] = mapped_column(db.String(160), unique=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    # When the row is due: the sweep re-enqueues queued rows well past it.
    next_attempt_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_attempt_at = mapped_column(UTCDateTime, nullable=True)
    sent_at = mapped_column(UTCDateTime, nullable=True)

    clinic = relationship("Clinic")

    def to_payload(self) -> dict:
        """What the monitoring API shows (no bodies: they may hold patient details)."""
        return {"id": self.id, "kind": self.kind, "recipient": self.recipient, "subject": self.subject,
                "status": self.status, "attempts": self.attempts, "last_error": self.last_error,
                "dedupe_key": self.dedupe_key, "appointment_id": self.appointment_id, "clinic_id": self.clinic_id,
                "created_at": self.created_at.isoformat(),
                "last_attempt_at": self.last_attempt_at.isoformat() if self.last_attempt_at else None,
                "sent_at": self.sent_at.isoformat() if self.sent_at else None}
