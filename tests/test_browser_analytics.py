"""The analytics page in a real browser: it moves while a patient books and a doctor approves elsewhere."""
import re

import pytest
from playwright.sync_api import expect

from hospital.services import appointments, booking

from .browser import browser, new_page  # noqa: F401  (fixtures)
from .factories import doctor_with_hours, local, next_weekday
from .test_browser_accounts import sign_in

pytestmark = pytest.mark.browser


def test_admin_watches_numbers_and_charts_change_without_reload(app, new_page, make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    make_user("admin", email="boss@example.com")

    page = new_page()
    sign_in(page, "boss@example.com", "correct-horse-9")
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    expect(page.locator("body[data-analytics=connected]")).to_be_attached()
    expect(page.locator("body[data-charts-total='0']")).to_be_attached()  # the charts drew from the JSON
    page.evaluate("window.__marker = 'same page'")
    total = page.locator("[data-figure=total]")
    expect(total).to_have_text("0")

    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    expect(total).to_have_text("1")
    expect(page.locator("[data-figure=pending]")).to_have_text("1")
    expect(page.locator("body[data-charts-total='1']")).to_be_attached()
    expect(page.locator("[data-figure=top_patients]")).to_contain_text("Pat Patient")

    appointments.change_status(doctor, appointment.id, "approved")
    expect(page.locator("[data-figure=approved]")).to_have_text("1")
    expect(page.locator("[data-figure=pending]")).to_have_text("0")

    page.locator("select[name=period]").select_option("today")  # htmx swaps the figures and updates the address
    expect(page).to_have_url(re.compile(r"/admin/analytics\?period=today$"))
    expect(page.locator(".period-line")).to_contain_text("(1 day)")
    expect(total).to_have_text("1")
    assert page.evaluate("window.__marker") == "same page"
    assert page.console_errors == []
