"""Chat in two real browsers: live both ways, an XSS payload stays text, history after reload, live inbox."""
import pytest
from playwright.sync_api import expect

from hospital.chat.push import publish
from hospital.services import chat

from .browser import browser, new_page  # noqa: F401  (fixtures)
from .test_browser_accounts import sign_in
from .test_chat import XSS, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-9"


def open_chat(page, path):
    page.goto(path)
    panel = page.locator("[data-chat]")
    expect(panel).to_have_attribute("data-live", "connected")
    return panel


def test_patient_and_doctor_chat_live_and_xss_stays_text(new_page, world):
    patient, doctor = new_page(), new_page()
    sign_in(patient, "pat@example.com", PASSWORD)
    sign_in(doctor, "doc@example.com", PASSWORD)
    patient_panel = open_chat(patient, f"/patient/appointments/{world.appointment_id}")  # the panel loads with the page
    doctor_panel = open_chat(doctor, f"/chat/connect?appointment_id={world.appointment_id}")

    box = patient_panel.get_by_label("Message to")
    box.fill(XSS)
    expect(doctor_panel.locator("[data-chat-typing]")).to_have_text("Pat Patient is typing…")
    box.press("Enter")
    for panel in (patient_panel, doctor_panel):
        expect(panel.locator(".chat-body")).to_have_text(XSS)  # shown as text, live on the doctor's side
        expect(panel.locator(".chat-log img, .chat-log script")).to_have_count(0)
    expect(box).to_have_value("")
    expect(patient_panel.locator(".chat-msg.mine")).to_have_count(1)

    doctor_panel.get_by_label("Message to").fill("Please bring your test results.")
    doctor_panel.get_by_role("button", name="Send").click()
    expect(patient_panel.locator(".chat-msg:not(.mine) .chat-body")).to_have_text("Please bring your test results.")
    expect(patient_panel.locator(".chat-msg.mine [data-chat-read]")).to_be_visible()  # the doctor read it

    for page in (patient, doctor):
        assert page.evaluate("typeof window.__xss") == "undefined"  # no script ran
        page.reload()
        panel = page.locator("[data-chat]")
        expect(panel.locator(".chat-body")).to_have_text([XSS, "Please bring your test results."])
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.console_errors == []


def test_empty_message_shows_an_error_and_the_doctor_can_close(new_page, world):
    patient, doctor = new_page(), new_page()
    sign_in(patient, "pat@example.com", PASSWORD)
    sign_in(doctor, "doc@example.com", PASSWORD)
    patient_panel = open_chat(patient, f"/chat/connect?appointment_id={world.appointment_id}")
    doctor_panel = open_chat(doctor, f"/chat/connect?appointment_id={world.appointment_id}")
    patient_panel.get_by_label("Message to").fill("   ")
    patient_panel.get_by_label("Message to").press("Enter")
    expect(patient_panel.locator("[data-chat-error]")).to_have_text("Write a message first.")

    doctor.once("dialog", lambda dialog: dialog.accept())
    doctor_panel.get_by_role("button", name="Close chat").click()
    expect(doctor.locator("[data-chat-closed]")).to_be_visible()
    expect(patient.locator("[data-chat-closed]")).to_be_visible()  # redrawn live on the patient's side
    expect(patient.get_by_label("Message to")).to_have_count(0)
    assert patient.console_errors == [] and doctor.console_errors == []


def test_doctor_dashboard_inbox_updates_live(app, new_page, world):
    doctor = new_page()
    sign_in(doctor, "doc@example.com", PASSWORD)
    doctor.goto("/doctor/dashboard")
    card = doctor.locator(".chat-dash")
    expect(card).to_contain_text("No conversations yet")
    expect(doctor.locator("body[data-chat-live=connected]")).to_be_attached()
    stored, view = chat.post_message(world.patient, world.appointment_id, "Running ten minutes late")
    publish(view, stored)  # as the socket handler does after storing
    expect(card.locator(".chat-inbox-list li.unread")).to_contain_text("Running ten minutes late")
    expect(card.locator(".count")).to_have_text("1")
