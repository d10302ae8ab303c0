"""Doctors' working hours: weekly windows and dated exceptions (clinic-local times)."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXCEPTION_KINDS = ("off", "extra")


class AvailabilityWindow(db.Model):
    """A weekly window: every ``weekday`` (0 = Monday) from ``start`` to ``end``."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        Index("ix_availability_windows_doctor_weekday", "doctor_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]

    @property
    def day_name(self) -> str:
        return WEEKDAYS[self.weekday]


class AvailabilityException(db.Model):
    """A dated change: ``off`` (whole day when no times, else that span) or ``extra`` hours."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        CheckConstraint("kind IN ('off', 'extra')", name="kind_valid"),
        CheckConstraint("(start_time IS NULL AND end_time IS NULL) OR start_time < end_time", name="times_valid"),
        CheckConstraint("kind = 'off' OR start_time IS NOT NULL", name="extra_has_times"),
        Index("ix_availability_exceptions_doctor_day", "doctor_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(db.String(8))
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    note: Mapped[str] = mapped_column(db.String(200), default="")
