"""Accounts and the people behind them (patients and doctors)."""
from __future__ import annotations

import secrets
from datetime import date

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

ROLES = ("patient", "doctor", "admin")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """A sign-in identity. ``email`` is stored lower-cased and unique.

    ``session_token`` is part of the Flask-Login id: signing out rotates it,
    so a copied session cookie (or bearer token) stops working.
    """

    __tablename__ = "users"
    # Stored lower-cased, so the plain unique index is case-insensitive.
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(db.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(db.String(255))
    role: Mapped[str] = mapped_column(db.Enum(*ROLES, name="user_role", native_enum=False, create_constraint=True, length=16))
    active: Mapped[bool] = mapped_column(default=True)
    session_token: Mapped[str] = mapped_column(db.String(64), default=new_session_token)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, nullable=True)

    patient: Mapped["Patient | None"] = relationship(back_populates="user", uselist=False)
    doctor: Mapped["Doctor | None"] = relationship(back_populates="user", uselist=False)

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def display_name(self) -> str:
        profile = self.patient or self.doctor
        return profile.name if profile else self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Patient(db.Model):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(db.String(120))
    phone: Mapped[str | None] = mapped_column(db.String(32))
    date_of_birth: Mapped[date | None] = mapped_column(db.Date)

    user: Mapped[User] = relationship(back_populates="patient")


class Doctor(db.Model):
    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(120))
    specialization: Mapped[str] = mapped_column(db.String(80), index=True)
    bio: Mapped[str] = mapped_column(db.Text, default="")
    consultation_minutes: Mapped[int] = mapped_column(default=15)

    user: Mapped[User] = relationship(back_populates="doctor")
    clinic = relationship("Clinic")
