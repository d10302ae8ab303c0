"""Plain-data snapshots of rows, for the cache, and small read-only views over them.

The cache stores dicts (never ORM objects: they drag a session along and go
stale silently). Templates and API schemas read the views exactly as they read
the models (``doctor.clinic.name``, ``appointment.local_start()``), so a page
renders the same from a cache hit as from the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..models import ACTIVE_STATUSES, Appointment, Clinic, Doctor, Patient, User


@dataclass(frozen=True)
class ClinicView:
    id: int
    name: str
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class DoctorView:
    id: int
    name: str
    specialization: str
    bio: str
    consultation_minutes: int
    clinic: ClinicView

    @property
    def clinic_id(self) -> int:
        return self.clinic.id


@dataclass(frozen=True)
class AppointmentView:
    id: int
    status: str
    start_at: datetime
    end_at: datetime
    doctor_id: int
    patient_id: int
    doctor: DoctorView
    clinic: ClinicView
    reason: str

    @property
    def clinic_id(self) -> int:
        return self.clinic.id

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def local_start(self) -> datetime:
        return self.start_at.astimezone(self.clinic.tz)

    def local_end(self) -> datetime:
        return self.end_at.astimezone(self.clinic.tz)


@dataclass(frozen=True)
class AccountView:
    email: str


@dataclass(frozen=True)
class PatientView:
    id: int
    user_id: int
    name: str
    phone: str | None
    date_of_birth: date | None
    user: AccountView


# --- rows -> dicts (what the cache stores) -----------------------------------

def clinic_data(clinic: Clinic) -> dict:
    return {"id": clinic.id, "name": clinic.name, "timezone": clinic.timezone}


def doctor_data(doctor: Doctor) -> dict:
    return {"id": doctor.id, "name": doctor.name, "specialization": doctor.specialization, "bio": doctor.bio or "",
            "consultation_minutes": doctor.consultation_minutes, "clinic": clinic_data(doctor.clinic)}


def appointment_data(appointment: Appointment) -> dict:
    return {"id": appointment.id, "status": appointment.status, "start_at": appointment.start_at,
            "end_at": appointment.end_at, "doctor_id": appointment.doctor_id, "patient_id": appointment.patient_id,
            "doctor": doctor_data(appointment.doctor), "clinic": clinic_data(appointment.clinic),
            "reason": appointment.reason or ""}


def patient_data(user: User, patient: Patient) -> dict:
    return {"id": patient.id, "user_id": user.id, "name": patient.name, "phone": patient.phone,
            "date_of_birth": patient.date_of_birth, "email": user.email}


# --- dicts -> views -----------------------------------------------------------

def clinic_view(data: dict) -> ClinicView:
    return ClinicView(data["id"], data["name"], data["timezone"])


def doctor_view(data: dict) -> DoctorView:
    return DoctorView(data["id"], data["name"], data["specialization"], data["bio"], data["consultation_minutes"],
                      clinic_view(data["clinic"]))


def appointment_view(data: dict) -> AppointmentView:
    return AppointmentView(data["id"], data["status"], data["start_at"], data["end_at"], data["doctor_id"],
                           data["patient_id"], doctor_view(data["doctor"]), clinic_view(data["clinic"]), data["reason"])


def patient_view(data: dict) -> PatientView:
    return PatientView(data["id"], data["user_id"], data["name"], data["phone"], data["date_of_birth"],
                       AccountView(data["email"]))
