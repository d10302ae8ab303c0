"""Demo data for trying the app: idempotent, safe to run on every start."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import AvailabilityWindow, Doctor, User
from . import accounts, schedule

DEMO_PASSWORD = "demo-password"
CLINICS = [("Riverside General", "Europe/London"), ("Harbor Medical Center", "America/New_York")]
DOCTORS = [
    ("dr.jones@example.com", "Dr. Emma Jones", "Cardiology", 0),
    ("dr.patel@example.com", "Dr. Ravi Patel", "Cardiology", 1),
    ("dr.garcia@example.com", "Dr. Lucia Garcia", "Dermatology", 0),
    ("dr.kim@example.com", "Dr. Min-jun Kim", "Dermatology", 1),
    ("dr.okafor@example.com", "Dr. Chidi Okafor", "Pediatrics", 0),
    ("dr.nielsen@example.com", "Dr. Freja Nielsen", "Pediatrics", 1),
    ("dr.smith@example.com", "Dr. John Smith", "General Practice", 0),
    ("dr.rossi@example.com", "Dr. Marco Rossi", "General Practice", 1),
    ("dr.tanaka@example.com", "Dr. Yuki Tanaka", "Orthopedics", 0),
]
PATIENTS = ["Alice Brown", "Bob Wilson", "Carol Davis", "Dan Miller", "Eve Moore", "Frank Taylor",
            "Grace Anderson", "Henry Thomas", "Ivy Jackson", "Jack White", "Kate Harris", "Liam Martin"]
ADMIN_EMAIL = "admin@example.com"


def patient_email(name: str) -> str:
    return name.split()[0].lower() + "@example.com"


def _ensure(email: str, **kwargs) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    return user or accounts.create_user(email, DEMO_PASSWORD, **kwargs)


def seed_demo() -> list[tuple[str, str]]:
    """Create the demo clinics and accounts if missing; return (role, email) logins."""
    clinics = [accounts.get_or_create_clinic(name, tz) for name, tz in CLINICS]
    db.session.commit()
    logins = [("admin", _ensure(ADMIN_EMAIL, role="admin", name="Clinic Admin").email)]
    for email, name, specialization, clinic_index in DOCTORS:
        _ensure(email, role="doctor", name=name, clinic=clinics[clinic_index], specialization=specialization)
        logins.append(("doctor", email))
    for name in PATIENTS:
        _ensure(patient_email(name), role="patient", name=name)
        logins.append(("patient", patient_email(name)))
    _seed_schedules()
    return logins


WEEKLY_HOURS = [{"day": day, "start": start, "end": end}
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                for start, end in (("09:00", "12:00"), ("13:00", "17:00"))]


def _seed_schedules() -> None:
    """Weekday hours for every demo doctor who has none yet."""
    with_hours = set(db.session.scalars(select(AvailabilityWindow.doctor_id).distinct()))
    emails = [email for email, *_ in DOCTORS]
    for doctor in db.session.scalars(select(Doctor).join(Doctor.user).where(User.email.in_(emails))):
        if doctor.id not in with_hours:
            schedule.replace_weekly_availability(doctor, WEEKLY_HOURS)
