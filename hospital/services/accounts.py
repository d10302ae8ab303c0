"""Accounts: registration, sign-in, profiles and API tokens."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, InvalidInput, NotFound
from ..events import emit, profile_updated
from ..extensions import db
from ..models import Clinic, Doctor, Patient, User, utcnow
from ..models.user import new_session_token

log = logging.getLogger(__name__)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


@functools.cache
def _hasher_with(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def _hasher() -> PasswordHasher:
    """argon2 with the app's cost settings (argon2-cffi's defaults unless configured;
    the test config lowers them so suites stay fast)."""
    config = current_app.config
    return _hasher_with(config.get("ARGON2_TIME_COST", 3), config.get("ARGON2_MEMORY_COST", 65536))


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verifying against this keeps "unknown email" as slow as "wrong password".
    return hasher.hash("not-a-real-password")
TOKEN_SALT = "api-token"


@dataclass
class PatientDetails:
    name: str
    phone: str | None = None
    date_of_birth: date | None = None


def normalise_email(raw: str) -> str:
    """Validate syntax (no DNS lookup) and return the lower-cased address."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("Enter a valid email address", {"email": [f"Enter a valid email address: {exc}"]}) from exc
    return result.normalized.lower()


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput("Password too short",
                           {"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters"]})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("Password too long",
                           {"password": [f"Use at most {MAX_PASSWORD_LENGTH} characters"]})


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _check_profile(details: PatientDetails) -> PatientDetails:
    name = (details.name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("Enter your name", {"name": ["Enter a name of 1 to 120 characters"]})
    phone = (details.phone or "").strip() or None
    if phone and len(phone) > 32:
        raise InvalidInput("Phone number too long", {"phone": ["At most 32 characters"]})
    if details.date_of_birth and details.date_of_birth > date.today():
        raise InvalidInput("Date of birth is in the future", {"date_of_birth": ["Cannot be in the future"]})
    return PatientDetails(name, phone, details.date_of_birth)


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists",
                    {"email": ["An account with this email already exists"]})


def register_patient(email: str, password: str, details: PatientDetails) -> User:
    """Create a patient account and profile in one transaction.

    Raises :class:`InvalidInput` for a bad email, weak password or name, and
    :class:`Conflict` when the email is taken (checked case-insensitively; the
    unique index settles a race).
    """
    email = normalise_email(email)
    check_password_strength(password)
    details = _check_profile(details)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise _email_taken()
    user = User(email=email, password_hash=hash_password(password), role="patient")
    user.patient = Patient(name=details.name, phone=details.phone, date_of_birth=details.date_of_birth)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise _email_taken() from exc
    log.info("user registered", extra={"user_id": user.id, "role": "patient"})
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (never says which part was wrong)."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = None
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    try:
        hasher = _hasher()
        hasher.verify(user.password_hash if user else _dummy_hash(hasher), password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = utcnow()
    db.session.commit()
    return user


def sign_out(user: User) -> None:
    """Rotate the session token so copies of the old cookie or bearer token stop working."""
    user.session_token = new_session_token()
    db.session.commit()


def load_session_user(session_id: str) -> User | None:
    """Flask-Login loader: ``"<id>:<session token>"`` -> active user or None."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def update_patient_profile(user: User, details: PatientDetails) -> Patient:
    """Edit the caller's own patient profile."""
    if user.patient is None:
        raise NotFound("No patient profile")
    details = _check_profile(details)
    user.patient.name = details.name
    user.patient.phone = details.phone
    user.patient.date_of_birth = details.date_of_birth
    db.session.commit()
    emit(profile_updated, user_id=user.id, kind="patient", profile_id=user.patient.id)
    return user.patient


def update_doctor_profile(user: User, name: str, bio: str) -> Doctor:
    """Edit the caller's own doctor profile (name and bio)."""
    if user.doctor is None:
        raise NotFound("No doctor profile")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("Enter your name", {"name": ["Enter a name of 1 to 120 characters"]})
    if len(bio or "") > 4000:
        raise InvalidInput("Bio too long", {"bio": ["At most 4,000 characters"]})
    user.doctor.name = name
    user.doctor.bio = (bio or "").strip()
    db.session.commit()
    emit(profile_updated, user_id=user.id, kind="doctor", profile_id=user.doctor.id)
    return user.doctor


def get_or_create_clinic(name: str, timezone: str) -> Clinic:
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == name))
    if clinic is None:
        clinic = Clinic(name=name, timezone=timezone)
        db.session.add(clinic)
        db.session.flush()
    return clinic


def create_user(email: str, password: str, role: str, name: str | None = None,
                clinic: Clinic | None = None, specialization: str | None = None) -> User:
    """Create any kind of account (used by the CLI and demo data)."""
    email = normalise_email(email)
    check_password_strength(password)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise _email_taken()
    user = User(email=email, password_hash=hash_password(password), role=role)
    display = name or email.split("@")[0].replace(".", " ").title()
    if role == "patient":
        user.patient = Patient(name=display)
    elif role == "doctor":
        if clinic is None or not specialization:
            raise InvalidInput("A doctor needs a clinic and a specialization")
        user.doctor = Doctor(name=display, clinic=clinic, specialization=specialization)
    db.session.add(user)
    db.session.commit()
    if user.doctor is not None:  # a new doctor changes the directory
        emit(profile_updated, user_id=user.id, kind="doctor", profile_id=user.doctor.id)
    return user


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def issue_token(user: User, secret_key: str) -> str:
    """A signed bearer token carrying the user id and session token."""
    return _serializer(secret_key).dumps({"uid": user.id, "st": user.session_token})


def user_from_token(token: str, secret_key: str, max_age: int) -> User | None:
    """The active user a bearer token names, or None if it is bad, expired or revoked."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    return load_session_user(f"{data.get('uid')}:{data.get('st')}")
