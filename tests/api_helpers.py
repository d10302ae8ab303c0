"""Shared set-up for the booking API tests: a small world of doctors, patients and an admin with tokens."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hospital.extensions import db
from hospital.models import WEEKDAYS, Appointment
from hospital.services import accounts, schedule

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
PASSWORD = "correct-horse-9"


def working_day(days_ahead: int = 3) -> date:
    """A Monday-to-Friday date at least ``days_ahead`` days from now."""
    day = datetime.now(timezone.utc).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hh: int, mm: int = 0, tz: ZoneInfo = LONDON) -> str:
    """ISO 8601 of a clinic-local wall-clock time, with the clinic's offset."""
    return datetime.combine(day, time(hh, mm)).replace(tzinfo=tz).isoformat()


def bearer(client, email: str) -> dict:
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@dataclass
class World:
    day: date
    adams: object  # cardiology, London
    baker: object  # cardiology, London
    cole: object   # dermatology, New York
    ann: object
    bob: object
    admin: object
    h: dict        # auth headers by name


@pytest.fixture
def world(app, client, make_user) -> World:
    london = accounts.get_or_create_clinic("Test Clinic", "Europe/London")
    new_york = accounts.get_or_create_clinic("West Clinic", "America/New_York")
    db.session.commit()
    users = {
        "adams": make_user("doctor", email="adams@example.com", name="Dr Adams", clinic=london,
                           specialization="Cardiology"),
        "baker": make_user("doctor", email="baker@example.com", name="Dr Baker", clinic=london,
                           specialization="Cardiology"),
        "cole": make_user("doctor", email="cole@example.com", name="Dr Cole", clinic=new_york,
                          specialization="Dermatology"),
        "ann": make_user("patient", email="ann@example.com", name="Ann"),
        "bob": make_user("patient", email="bob@example.com", name="Bob"),
        "admin": make_user("admin", email="admin@example.com"),
    }
    day = working_day()
    for name in ("adams", "baker", "cole"):
        schedule.replace_weekly_availability(users[name].doctor, [
            {"day": WEEKDAYS[day.weekday()], "start": "09:00", "end": "12:00"}])
    headers = {name: bearer(client, f"{name}@example.com") for name in users}
    return World(day, users["adams"].doctor, users["baker"].doctor, users["cole"].doctor,
                 users["ann"].patient, users["bob"].patient, users["admin"], headers)


def book(client, w: World, who: str = "ann", **body):
    body.setdefault("start", at(w.day, 9))
    if "specialization" not in body:
        body.setdefault("doctor_id", w.adams.id)
    headers = dict(w.h[who])
    if "key" in body:
        headers["Idempotency-Key"] = body.pop("key")
    return client.post("/api/appointments/book", json=body, headers=headers)


def assert_problem(response, status: int, field: str | None = None, detail: str = ""):
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert detail in body["detail"], body
    if field:
        assert field in body.get("errors", {}), body


def count_appointments() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))
