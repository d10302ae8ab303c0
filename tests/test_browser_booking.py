"""Booking in a real browser: a patient books, the doctor approves with htmx, the patient sees it;
a doctor edits their weekly hours without a page reload."""
import re
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


def weekday_ahead(days=3):
    day = utcnow().astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def mark_page(page):
    """Tag the current document: the tag survives htmx swaps but not a reload."""
    page.evaluate("document.documentElement.dataset.marker = 'same-page'")


def still_same_page(page) -> bool:
    return page.evaluate("document.documentElement.dataset.marker") == "same-page"


def test_patient_books_doctor_approves_patient_sees_approved(app, new_page, make_user):
    doctor = make_user("doctor", email="doc@example.com", name="Dr. Browser", specialization="Cardiology").doctor
    schedule.replace_weekly_availability(doctor, HOURS)
    make_user("patient", email="pat@example.com", name="Pat Browser")
    day = weekday_ahead()

    patient = new_page()
    sign_in(patient, "pat@example.com")
    patient.get_by_role("link", name="Doctors").click()
    patient.get_by_label("Specialty").select_option("Cardiology")
    patient.get_by_role("link", name="Dr. Browser", exact=True).click()
    expect(patient.get_by_role("heading", name="Dr. Browser")).to_be_visible()
    mark_page(patient)
    patient.get_by_label("Day", exact=True).fill(day.isoformat())  # htmx swaps in that day's times
    expect(patient.get_by_role("heading", name=f"Free times on {day:%A %-d %B %Y}")).to_be_visible()
    expect(patient.get_by_text("Europe/London").first).to_be_visible()
    assert still_same_page(patient)
    assert patient.url.endswith(f"?date={day.isoformat()}")  # the address follows the day
    patient.get_by_role("link", name=re.compile(r"^Book 09:30 ")).click()
    expect(patient.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    patient.get_by_label("Reason for the visit (optional)").fill("Chest pain when running")
    patient.get_by_role("button", name="Confirm booking").click()
    expect(patient.get_by_role("heading", name="Appointment with Dr. Browser")).to_be_visible()
    expect(patient.get_by_text("Booked! Your request is pending Dr. Browser's approval.")).to_be_visible()
    patient.get_by_role("link", name="My appointments").first.click()
    expect(patient.locator("body[data-live=connected]")).to_be_attached()
    mark_page(patient)
    row = patient.locator(".appt-row", has_text="Dr. Browser")
    expect(row).to_contain_text(f"{day:%a %-d %b %Y} · 09:30–09:45")
    expect(row.locator(".badge")).to_have_text("Pending")

    doc = new_page()
    sign_in(doc, "doc@example.com")
    requests = doc.locator("section", has=doc.get_by_role("heading", name=re.compile("^Requests")))
    expect(requests).to_contain_text("Pat Browser")
    expect(requests).to_contain_text("Chest pain when running")
    mark_page(doc)
    requests.get_by_role("button", name=re.compile(r"^Approve: Pat Browser")).click()
    # The row turns approved in place (and the live refresh then files it under the coming days).
    row = doc.locator(".appt-row", has_text="Pat Browser")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(doc.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    assert still_same_page(doc)

    # The patient's open page changes live: a toast, the bell, the row — no reload.
    expect(patient.locator(".toast").filter(has_text="was confirmed")).to_be_visible()
    expect(patient.locator(".bell-count")).to_have_text("1")
    expect(patient.locator(".appt-row", has_text="Dr. Browser").locator(".badge")).to_have_text("Approved")
    assert still_same_page(patient)
    assert patient.console_errors == [] and doc.console_errors == []


def test_doctor_edits_weekly_hours_without_a_reload(app, new_page, make_user):
    make_user("doctor", email="doc@example.com", name="Dr. Hours")
    page = new_page(width=390, height=844)  # on a phone
    sign_in(page, "doc@example.com")
    page.get_by_role("link", name="Availability").click()
    expect(page.get_by_role("heading", name="Your availability")).to_be_visible()
    mark_page(page)
    hours = page.locator("#weekly-hours")
    hours.get_by_label("Day").select_option("saturday")
    hours.get_by_label("From").fill("10:00")
    hours.get_by_label("Until").fill("13:00")
    hours.get_by_role("button", name="Add hours").click()
    saturday = page.locator(".week-row", has_text="Saturday")
    expect(saturday).to_contain_text("10:00–13:00")
    expect(page.locator("#toasts")).to_contain_text("Added Saturday 10:00–13:00.")
    # A mistake comes back in place with the field named and the input kept.
    hours.get_by_label("From").fill("15:00")
    hours.get_by_label("Until").fill("14:00")
    hours.get_by_role("button", name="Add hours").click()
    expect(hours.get_by_text("Must be after the start")).to_be_visible()
    expect(hours.get_by_label("From")).to_have_value("15:00")
    saturday.get_by_role("button", name="Remove Saturday 10:00–13:00").click()
    expect(saturday).to_contain_text("Not working")
    assert still_same_page(page)
    page.reload()
    expect(page.locator(".week-row", has_text="Saturday")).to_contain_text("Not working")
    assert page.console_errors == []
