"""Read-side queries for lists: doctors, and appointments per role.

Each loads what its page shows in a fixed number of queries (no N+1).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Appointment, Clinic, Doctor, Patient, utcnow
from .pagination import Page, paginate


def _with_people(query):
    return query.options(joinedload(Appointment.doctor).joinedload(Doctor.clinic),
                         joinedload(Appointment.patient).joinedload(Patient.user),
                         joinedload(Appointment.clinic))


def doctors_query(specialization: str | None = None, clinic_id: int | None = None, q: str | None = None):
    query = select(Doctor).join(Doctor.clinic).options(joinedload(Doctor.clinic), joinedload(Doctor.user))
    if specialization:
        query = query.where(func.lower(Doctor.specialization) == specialization.strip().lower())
    if clinic_id:
        query = query.where(Doctor.clinic_id == clinic_id)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(Doctor.name).like(like), func.lower(Doctor.specialization).like(like)))
    return query.order_by(Doctor.name, Doctor.id)


def list_doctors(specialization=None, clinic_id=None, q=None, page=None, per_page=None) -> Page:
    return paginate(doctors_query(specialization, clinic_id, q), page, per_page)


def specializations() -> list[str]:
    return list(db.session.scalars(select(Doctor.specialization).distinct().order_by(Doctor.specialization)))


def clinics() -> list[Clinic]:
    return list(db.session.scalars(select(Clinic).order_by(Clinic.name)))


def get_doctor(doctor_id: int) -> Doctor | None:
    return db.session.get(Doctor, doctor_id, options=[joinedload(Doctor.clinic)])


def patient_appointments(patient: Patient, scope: str = "upcoming", page=None, per_page=None,
                         now: datetime | None = None) -> Page:
    """A patient's upcoming (soonest first) or past (latest first) appointments."""
    now = now or utcnow()
    query = _with_people(select(Appointment).where(Appointment.patient_id == patient.id))
    if scope == "past":
        query = query.where(Appointment.end_at <= now).order_by(Appointment.start_at.desc(), Appointment.id.desc())
    else:
        query = query.where(Appointment.end_at > now).order_by(Appointment.start_at, Appointment.id)
    return paginate(query, page, per_page)


def local_day_bounds(day: date, tz) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time()).replace(tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=tz)


def doctor_day(doctor: Doctor, day: date) -> list[Appointment]:
    lo, hi = local_day_bounds(day, doctor.clinic.tz)
    return list(db.session.scalars(_with_people(select(Appointment).where(
        Appointment.doctor_id == doctor.id, Appointment.start_at >= lo, Appointment.start_at < hi))
        .order_by(Appointment.start_at, Appointment.id)).unique())


def doctor_pending(doctor: Doctor, now: datetime | None = None) -> list[Appointment]:
    now = now or utcnow()
    return list(db.session.scalars(_with_people(select(Appointment).where(
        Appointment.doctor_id == doctor.id, Appointment.status == "pending", Appointment.start_at > now))
        .order_by(Appointment.start_at)).unique())


def doctor_upcoming(doctor: Doctor, days: int = 7, now: datetime | None = None) -> list[Appointment]:
    """Approved appointments after today, for the next ``days`` days."""
    now = now or utcnow()
    today = now.astimezone(doctor.clinic.tz).date()
    lo, _ = local_day_bounds(today + timedelta(days=1), doctor.clinic.tz)
    hi, _ = local_day_bounds(today + timedelta(days=days + 1), doctor.clinic.tz)
    return list(db.session.scalars(_with_people(select(Appointment).where(
        Appointment.doctor_id == doctor.id, Appointment.status == "approved",
        Appointment.start_at >= lo, Appointment.start_at < hi)).order_by(Appointment.start_at)).unique())


def doctor_appointments(doctor: Doctor, status: str | None = None, page=None, per_page=None) -> Page:
    query = _with_people(select(Appointment).where(Appointment.doctor_id == doctor.id))
    if status:
        query = query.where(Appointment.status == status)
    return paginate(query.order_by(Appointment.start_at.desc(), Appointment.id.desc()), page, per_page)


@dataclass
class AppointmentFilters:
    status: str | None = None
    doctor_id: int | None = None
    clinic_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def search_appointments(filters: AppointmentFilters, page=None, per_page=None) -> Page:
    """Every appointment matching the admin's filters, latest first. Dates are UTC days."""
    query = _with_people(select(Appointment))
    if filters.status:
        query = query.where(Appointment.status == filters.status)
    if filters.doctor_id:
        query = query.where(Appointment.doctor_id == filters.doctor_id)
    if filters.clinic_id:
        query = query.where(Appointment.clinic_id == filters.clinic_id)
    if filters.date_from:
        query = query.where(Appointment.start_at >= datetime.combine(filters.date_from, time()).replace(tzinfo=utcnow().tzinfo))
    if filters.date_to:
        query = query.where(Appointment.start_at < datetime.combine(filters.date_to + timedelta(days=1), time()).replace(tzinfo=utcnow().tzinfo))
    return paginate(query.order_by(Appointment.start_at.desc(), Appointment.id.desc()), page, per_page)


def doctor_choices() -> list[Doctor]:
    """Every doctor with their clinic, by name (admin pickers and filters)."""
    return list(db.session.scalars(select(Doctor).options(joinedload(Doctor.clinic)).order_by(Doctor.name, Doctor.id)))


def patient_choices(limit: int = 1000) -> list[Patient]:
    """Patients with their accounts, by name (the admin's patient picker)."""
    return list(db.session.scalars(select(Patient).options(joinedload(Patient.user))
                                   .order_by(Patient.name, Patient.id).limit(limit)))


def get_patient(patient_id: int) -> Patient | None:
    return db.session.get(Patient, patient_id, options=[joinedload(Patient.user)])


def patient_next_end(patient_id: int, now: datetime) -> datetime | None:
    """When the patient's next unfinished appointment ends: it then moves from upcoming to past."""
    return db.session.scalar(select(func.min(Appointment.end_at)).where(
        Appointment.patient_id == patient_id, Appointment.end_at > now))


def appointment_span(appointment_id: int) -> tuple[datetime, datetime, str, int] | None:
    """(start, end, the doctor's clinic time zone, the patient's user id) of an appointment, or None."""
    row = db.session.execute(
        select(Appointment.start_at, Appointment.end_at, Clinic.timezone, Patient.user_id)
        .join(Doctor, Appointment.doctor_id == Doctor.id).join(Clinic, Doctor.clinic_id == Clinic.id)
        .join(Patient, Appointment.patient_id == Patient.id).where(Appointment.id == appointment_id)).first()
    return tuple(row) if row else None
