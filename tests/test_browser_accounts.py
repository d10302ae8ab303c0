"""A newcomer in a real browser: register, sign out, sign in; demo staff reach their dashboards."""
import pytest
from playwright.sync_api import expect

from hospital.services import demo

from .browser import browser, new_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def sign_in(page, email, password):
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_register_sign_out_and_in(app, new_page):
    page = new_page()
    page.goto("/")
    page.get_by_role("button", name="Create a patient account").click()
    page.get_by_label("Full name").fill("Browser Person")
    page.get_by_label("Email").fill("browser@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Use at least 10 characters")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Browser Person")
    page.get_by_label("Password").fill("long-enough-pw")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Hello, Browser Person")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    sign_in(page, "browser@example.com", "wrong-password")
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    sign_in(page, "browser@example.com", "long-enough-pw")
    expect(page.get_by_role("heading", name="Hello, Browser Person")).to_be_visible()
    assert page.console_errors == []


def test_demo_doctor_and_admin_reach_their_dashboards(app, new_page):
    demo.seed_demo()
    doctor = new_page()
    sign_in(doctor, "dr.jones@example.com", demo.DEMO_PASSWORD)
    expect(doctor.get_by_role("heading", name="Dr. Emma Jones")).to_be_visible()
    assert doctor.url.endswith("/doctor/dashboard")
    admin = new_page(width=390, height=844)  # phone-sized
    sign_in(admin, "admin@example.com", demo.DEMO_PASSWORD)
    expect(admin.get_by_role("heading", name="Clinic administration")).to_be_visible()
    admin.goto("/doctor/dashboard")
    expect(admin.get_by_role("heading", name="Not Found")).to_be_visible()
    assert doctor.console_errors == [] and admin.console_errors == []
