"""Appointments and their event log."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

STATUSES = ("pending", "approved", "rejected", "cancelled", "completed", "no_show")
# Statuses that hold the doctor's time: at most one such appointment per doctor and start.
ACTIVE_STATUSES = ("pending", "approved")
_ACTIVE_SQL = text("status IN ('pending', 'approved')")


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        # No double booking, enforced by the database on PostgreSQL and SQLite alike.
        Index("uq_appointments_doctor_start_active", "doctor_id", "start_at", unique=True,
              postgresql_where=_ACTIVE_SQL, sqlite_where=_ACTIVE_SQL),
        # A double-submitted form or retried API call creates one appointment.
        Index("uq_appointments_patient_idempotency", "patient_id", "idempotency_key", unique=True),
        Index("ix_appointments_doctor_start", "doctor_id", "start_at"),
        Index("ix_appointments_patient_start", "patient_id", "start_at"),
        Index("ix_appointments_clinic_start", "clinic_id", "start_at"),
        Index("ix_appointments_status_start", "status", "start_at"),
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'cancelled', 'completed', 'no_show')",
                        name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    start_at = mapped_column(UTCDateTime, nullable=False)
    end_at = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(db.String(16), default="pending")
    reason: Mapped[str] = mapped_column(db.Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(db.String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    patient = relationship("Patient")
    doctor = relationship("Doctor")
    clinic = relationship("Clinic")
    events = relationship("AppointmentEvent", back_populates="appointment", order_by="AppointmentEvent.id",
                          cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def local_start(self):
        return self.start_at.astimezone(self.clinic.tz)

    def local_end(self):
        return self.end_at.astimezone(self.clinic.tz)


class AppointmentEvent(db.Model):
    """One row per status change: the history of every appointment."""

    __tablename__ = "appointment_events"
    __table_args__ = (Index("ix_appointment_events_appointment", "appointment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(db.String(16))
    to_status: Mapped[str] = mapped_column(db.String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(db.String(500), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    appointment = relationship("Appointment", back_populates="events")
    actor = relationship("User")
