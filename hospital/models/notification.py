"""Stored notifications: every live push is a row first, so nothing is lost offline."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(db.String(40))
    text: Mapped[str] = mapped_column(db.String(500))
    link: Mapped[str | None] = mapped_column(db.String(300))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    # Makes "sent once" a database fact (e.g. "reminder-15m:<appointment>:<user>").
    dedupe_key: Mapped[str | None] = mapped_column(db.String(120), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime, nullable=True)

    def to_payload(self) -> dict:
        """The small JSON pushed over Socket.IO and returned by the API."""
        return {"id": self.id, "kind": self.kind, "text": self.text, "link": self.link,
                "appointment_id": self.appointment_id, "created_at": self.created_at.isoformat(),
                "read": self.read_at is not None}
