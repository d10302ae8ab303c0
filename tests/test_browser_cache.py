"""In a real browser against the production server (gunicorn, Redis cache): a doctor
edits their hours and the patient's slot picker shows them on the next request."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from hospital.models import utcnow
from hospital.services import schedule

from .browser import browser, new_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-9"
HOURS = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("monday", "tuesday", "wednesday", "thursday", "friday")]


def sign_in(page, email):
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Sign out").or_(page.get_by_role("button", name="Sign out"))).to_be_visible()


def test_new_hours_show_in_the_patients_slot_picker_on_the_next_request(app, new_page, make_user):
    doctor = make_user("doctor", email="doc@example.com", name="Dr. Cached").doctor
    schedule.replace_weekly_availability(doctor, HOURS)
    make_user("patient", email="pat@example.com", name="Pat Cached")
    day = utcnow().astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)

    patient = new_page()
    sign_in(patient, "pat@example.com")
    patient.goto(f"/patient/doctors/{doctor.id}?date={day.isoformat()}")
    picker = patient.locator("#slot-picker")
    expect(picker.get_by_role("link", name=f"Book 09:00 on {day:%A %-d %B}")).to_be_visible()
    expect(picker.get_by_role("link", name=f"Book 14:00 on {day:%A %-d %B}")).to_have_count(0)  # cached now

    doc = new_page()
    sign_in(doc, "doc@example.com")
    doc.goto("/doctor/availability")
    hours = doc.locator("#weekly-hours")
    hours.locator("#window-day").select_option(day.strftime("%A").lower())
    hours.get_by_label("From").fill("14:00")
    hours.get_by_label("Until").fill("15:00")
    hours.get_by_role("button", name="Add hours").click()
    expect(doc.locator(".week-row", has_text=day.strftime("%A"))).to_contain_text("14:00–15:00")

    patient.get_by_role("button", name="Show").click()  # the next request for the same day (htmx)
    expect(picker.get_by_role("link", name=f"Book 14:00 on {day:%A %-d %B}")).to_be_visible()
    expect(picker.get_by_role("link", name=f"Book 09:00 on {day:%A %-d %B}")).to_be_visible()
    assert patient.console_errors == [] and doc.console_errors == []
