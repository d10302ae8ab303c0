"""Done when: a doctor approves in the browser and the confirmation lands in the mailbox
(production server command, a real worker process, the SMTP sink)."""
import re

import pytest
from playwright.sync_api import expect

from hospital.services import booking

from .browser import browser, new_page  # noqa: F401  (fixtures)
from .email_support import messages_to, wait_until, worker_process
from .factories import doctor_with_hours, local, next_weekday

pytestmark = pytest.mark.browser


def test_doctor_approves_in_the_browser_and_the_patient_gets_the_confirmation(app, new_page, make_user,
                                                                               settings, mail_sink):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="mia.mailbox@example.com", name="Mia Mailbox")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id)
    with worker_process(settings, mail_sink.port):
        page = new_page()
        page.goto("/auth/login")
        page.get_by_label("Email").fill("doc@example.com")
        page.get_by_label("Password").fill("correct-horse-9")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name=re.compile(r"^Approve: Mia Mailbox")).click()
        expect(page.locator(".appt-row", has_text="Mia Mailbox").locator(".badge")).to_have_text("Approved")
        [message] = wait_until(lambda: messages_to(mail_sink, "mia.mailbox@example.com"), 20,
                               message="the confirmation email")
    assert message["Subject"] == f"Your appointment with {doctor.doctor.name} is confirmed"
    assert "Hello Mia Mailbox" in message.get_body(preferencelist=("plain",)).get_content()
