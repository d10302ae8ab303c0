"""Helpers that set up doctors with hours and find bookable times."""
from datetime import date, datetime, time, timedelta, timezone

from hospital.services import accounts, schedule

WEEKDAY_HOURS = [{"day": d, "start": "09:00", "end": "12:00"}
                 for d in ("monday", "tuesday", "wednesday", "thursday", "friday")]


def next_weekday(days_ahead: int = 3, today: date | None = None) -> date:
    """A Monday–Friday date at least ``days_ahead`` days from today."""
    day = (today or datetime.now(timezone.utc).date()) + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def doctor_with_hours(make_user, email=None, specialization="General Practice", clinic_name="Test Clinic",
                      tz="Europe/London", hours=WEEKDAY_HOURS):
    clinic = accounts.get_or_create_clinic(clinic_name, tz)
    user = make_user("doctor", email=email, clinic=clinic, specialization=specialization)
    schedule.replace_weekly_availability(user.doctor, hours)
    return user


def local(day: date, hh: int, mm: int, tz) -> datetime:
    return datetime.combine(day, time(hh, mm)).replace(tzinfo=tz).astimezone(timezone.utc)
