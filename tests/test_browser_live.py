"""Live updates in a real browser: the doctor's approval shows up on the patient's open page."""
import pytest
from playwright.sync_api import expect

from hospital.services import appointments, booking

from .browser import browser, new_page  # noqa: F401  (fixtures)
from .factories import doctor_with_hours, local, next_weekday
from .test_browser_accounts import sign_in

pytestmark = pytest.mark.browser


def test_toast_and_bell_update_without_reload(app, new_page, make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment

    page = new_page()
    sign_in(page, "pat@example.com", "correct-horse-9")
    page.goto("/patient/appointments")
    expect(page.locator("body[data-live=connected]")).to_be_attached()
    page.evaluate("window.__marker = 'same page'")  # proves no reload happened

    appointments.change_status(doctor, appointment.id, "approved")  # in another process, as the doctor

    expect(page.locator(".toast").filter(has_text="was confirmed")).to_be_visible()
    expect(page.locator(".bell-count")).to_have_text("1")
    expect(page.get_by_text("approved", exact=False).first).to_be_visible()
    assert page.evaluate("window.__marker") == "same page"
    assert page.console_errors == []
