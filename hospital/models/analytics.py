"""Counters behind the admin's analytics page, exact and rebuildable.

Written in the transaction of the appointment change they count (see
:mod:`hospital.services.analytics_counters`); ``flask analytics rebuild``
recomputes them from ``appointments`` after a change made behind the ORM's back
(raw SQL, database cascades, a clinic moved to another time zone).

:class:`AnalyticsCounter` counts appointments by the clinic-local day they were
*booked* (``created_at``), at two grains — a day, and a calendar month — so
that any period of whole days reads its full months and at most two partial
months of days: two years of a busy hospital cost a few thousand rows, not a
million. Three metrics, one ``key`` each:

====== ========================================= ==========================
metric key                                       used for
====== ========================================= ==========================
total  ``all``                                    bookings per day
status the appointment's current status           counts by status
doctor the doctor's id                            busiest doctors
hour   ``<weekday>:<HH>`` of the booked time      weekday × hour heatmap
       (clinic-local, 0 = Monday)
====== ========================================= ==========================

:class:`PatientBookingTotal` is each patient's all-time number of bookings: an
upper bound that lets the most active patients of a long period be found
exactly without counting every appointment (see :mod:`hospital.services.analytics`).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .appointment import Appointment

METRICS = ("total", "status", "doctor", "hour")
GRAINS = ("day", "month")


class AnalyticsCounter(db.Model):
    __tablename__ = "analytics_counters"
    __table_args__ = (
        CheckConstraint("metric IN ('total', 'status', 'doctor', 'hour')", name="metric_valid"),
        CheckConstraint("grain IN ('day', 'month')", name="grain_valid"),
    )

    # Key order = the index order: a period's buckets of one metric, every clinic, are one range.
    metric: Mapped[str] = mapped_column(db.String(8), primary_key=True)
    grain: Mapped[str] = mapped_column(db.String(8), primary_key=True)
    bucket: Mapped[date] = mapped_column(primary_key=True)  # the day, or the first day of the month
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(db.String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class PatientBookingTotal(db.Model):
    __tablename__ = "patient_booking_totals"
    __table_args__ = (Index("ix_patient_booking_totals_count", "count", "patient_id"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


# The most active patients: a short period's bookings in time order, and a
# candidate patient's bookings in a period, both answered from the index alone.
Index("ix_appointments_created", Appointment.created_at, postgresql_include=["clinic_id", "patient_id"])
Index("ix_appointments_patient_created", Appointment.patient_id, Appointment.created_at,
      postgresql_include=["clinic_id"])
