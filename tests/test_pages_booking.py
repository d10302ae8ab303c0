"""The booking pages through the test client: search, slot picker, confirm, appointments,
the doctor's dashboard and availability, the admin's list, override and booking on behalf."""
import re
from datetime import date, datetime, time, timedelta, timezone
from html import unescape
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from flask import g, request_started

from hospital.extensions import db
from hospital.models import Appointment, AvailabilityWindow, utcnow
from hospital.services import accounts, booking, schedule

from .conftest import csrf_token, login

PASSWORD = "correct-horse-9"
WEEKDAY_HOURS = [{"day": d, "start": "09:00", "end": "12:00"}
                 for d in ("monday", "tuesday", "wednesday", "thursday", "friday")]
HTMX = {"HX-Request": "true"}
LONDON = ZoneInfo("Europe/London")


def weekday_ahead(days: int = 3, tz=LONDON) -> date:
    """A weekday at least ``days`` ahead in the clinic's zone (well inside notice and horizon)."""
    day = utcnow().astimezone(tz).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hhmm: str, tz=LONDON) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm)).replace(tzinfo=tz).astimezone(timezone.utc)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def hidden(body: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"|name="{name}" value="([^"]*)"', body)
    assert match, f"no hidden {name}"
    return unescape(match.group(1) or match.group(2) or "")


def confirm_links(body: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a class="slot" href="([^"]+)"', body)]


@pytest.fixture(autouse=True)
def fresh_request_globals(app):
    """Each request starts with an empty ``g``, as in a real server.

    The ``app`` fixture keeps one app context open, which every test-client
    request reuses; without this, the signed-in user and the CSRF token that
    Flask-Login and Flask-WTF cache in ``g`` would leak from one client to another.
    """
    def clear(sender, **extra):
        g.__dict__.clear()
    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


@pytest.fixture
def doctor(make_user):
    user = make_user("doctor", email="ada@example.com", name="Dr. Ada Lovelace", specialization="Cardiology")
    schedule.replace_weekly_availability(user.doctor, WEEKDAY_HOURS)
    return user.doctor


@pytest.fixture
def patient(make_user):
    return make_user("patient", email="pat@example.com", name="Pat Patient").patient


@pytest.fixture
def admin(make_user):
    return make_user("admin", email="boss@example.com")


def signed_in(app, email):
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302
    return client


@pytest.fixture
def pat(app, patient):
    return signed_in(app, "pat@example.com")


def book_via_pages(client, doctor_id, day, slot_index=0, reason="Check-up"):
    """Open the doctor's day, follow a free time's link, confirm: the browser's two clicks."""
    page = text(client.get(f"/patient/doctors/{doctor_id}?date={day.isoformat()}"))
    confirm = client.get(confirm_links(page)[slot_index])
    assert confirm.status_code == 200
    body = text(confirm)
    data = {name: hidden(body, name) for name in ("start", "doctor_id", "specialization", "clinic_id", "date",
                                                  "idempotency_key", "csrf_token")}
    data["reason"] = reason
    return data, client.post("/patient/book", data=data)


# --- finding a doctor --------------------------------------------------------

def test_doctor_search_filters_by_specialty_clinic_and_name(app, pat, make_user):
    north = accounts.get_or_create_clinic("North Clinic", "America/New_York")
    make_user("doctor", name="Dr. Bea Heart", specialization="Cardiology")
    make_user("doctor", name="Dr. Cal Skin", specialization="Dermatology", clinic=north)
    db.session.commit()
    body = text(pat.get("/patient/doctors?specialization=Cardiology"))
    assert "Dr. Bea Heart" in body and "Dr. Cal Skin" not in body
    body = text(pat.get(f"/patient/doctors?clinic_id={north.id}"))
    assert "Dr. Cal Skin" in body and "Dr. Bea Heart" not in body
    fragment = pat.get("/patient/doctors?q=skin", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in text(fragment) and "Dr. Cal Skin" in text(fragment) and "1 doctor found" in text(fragment)
    assert pat.get("/patient/doctors?clinic_id=abc").status_code == 422


def test_doctor_search_is_paginated(app, pat, make_user):
    for n in range(12):
        make_user("doctor", name=f"Dr. Number {n:02d}")
    first = text(pat.get("/patient/doctors"))
    assert "12 doctors found" in first and "Page 1 of 2" in first and "Dr. Number 11" not in first
    second = text(pat.get("/patient/doctors?page=2"))
    assert "Dr. Number 11" in second and "Dr. Number 00" not in second


# --- the slot picker ---------------------------------------------------------

def test_doctor_page_lists_free_times_in_the_clinic_zone(app, pat, make_user):
    east = accounts.get_or_create_clinic("East Clinic", "America/New_York")
    user = make_user("doctor", name="Dr. East", clinic=east)
    schedule.replace_weekly_availability(user.doctor, WEEKDAY_HOURS)
    day = weekday_ahead(tz=ZoneInfo("America/New_York"))
    response = pat.get(f"/patient/doctors/{user.doctor.id}?date={day.isoformat()}")
    body = text(response)
    assert response.status_code == 200
    assert "America/New_York" in body
    assert ">09:00</a>" in body and ">11:45</a>" in body and ">12:00</a>" not in body
    links = confirm_links(body)
    assert len(links) == 12
    # The value booked is the UTC instant of 09:00 in New York.
    assert at(day, "09:00", ZoneInfo("America/New_York")).isoformat() in unquote(links[0])


def test_day_change_answers_htmx_with_the_fragment_and_the_page_url(pat, doctor):
    day = weekday_ahead()
    response = pat.get(f"/patient/doctors/{doctor.id}/slots?date={day.isoformat()}", headers=HTMX)
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="slot-picker"') and "<html" not in body
    assert response.headers["HX-Push-Url"] == f"/patient/doctors/{doctor.id}?date={day.isoformat()}"
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]
    # Without htmx the same address gives the whole page.
    assert "<html" in text(pat.get(f"/patient/doctors/{doctor.id}/slots?date={day.isoformat()}"))


@pytest.mark.parametrize("when, message", [
    (lambda today: today - timedelta(days=1), "That date is in the past"),
    (lambda today: today + timedelta(days=61), "Bookings open 60 days ahead"),
    (lambda today: "2026-13-45", "Enter a date like 2026-05-04"),
])
def test_bad_days_show_the_reason_in_the_picker(pat, doctor, when, message):
    today = utcnow().astimezone(LONDON).date()
    value = when(today)
    value = value if isinstance(value, str) else value.isoformat()
    for url, headers in [(f"/patient/doctors/{doctor.id}?date={value}", {}),
                         (f"/patient/doctors/{doctor.id}/slots?date={value}", HTMX)]:
        response = pat.get(url, headers=headers)
        assert response.status_code == 422
        assert message in text(response)
        assert confirm_links(text(response)) == []


def test_unknown_doctor_is_404(pat, doctor):
    day = weekday_ahead().isoformat()
    assert pat.get("/patient/doctors/9999").status_code == 404
    assert pat.get(f"/patient/doctors/9999/slots?date={day}", headers=HTMX).status_code == 404
    start = at(weekday_ahead(), "09:00").isoformat()
    assert pat.get("/patient/book/confirm", query_string={"doctor_id": 9999, "start": start}).status_code == 404


# --- booking -----------------------------------------------------------------

def test_patient_books_in_two_clicks_and_sees_the_confirmation(pat, doctor, patient):
    day = weekday_ahead()
    data, response = book_via_pages(pat, doctor.id, day, slot_index=2)
    assert response.status_code == 303
    appointment = db.session.scalar(db.select(Appointment))
    assert response.headers["Location"].endswith(f"/patient/appointments/{appointment.id}")
    assert (appointment.patient_id, appointment.doctor_id, appointment.status) == (patient.id, doctor.id, "pending")
    assert appointment.start_at == at(day, "09:30") and appointment.reason == "Check-up"
    page = text(pat.get(response.headers["Location"]))
    assert "Booked! Your request is pending Dr. Ada Lovelace's approval." in page
    assert "Pending" in page and "Test Clinic" in page and "Europe/London" in page
    assert f"{day:%A %-d %B %Y}, 09:30–09:45" in re.sub(r"<[^>]+>", "", page)
    assert "Check-up" in page and "Cancel appointment" in page


def test_double_submit_books_once(pat, doctor):
    data, first = book_via_pages(pat, doctor.id, weekday_ahead())
    second = pat.post("/patient/book", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1
    assert "You had already booked this appointment." in text(pat.get(second.headers["Location"]))


def test_a_time_taken_meanwhile_is_409_with_the_times_still_free(app, pat, doctor, make_user):
    day = weekday_ahead()
    data, _ = book_via_pages(pat, doctor.id, day)  # Pat gets 09:00
    make_user("patient", email="other@example.com")
    other = signed_in(app, "other@example.com")
    data.update(idempotency_key="another-key", csrf_token=csrf_token(other, "/patient/"))
    response = other.post("/patient/book", data=data)
    body = text(response)
    assert response.status_code == 409
    assert "Sorry, that time was just taken — here are the times still free." in body
    assert ">09:00</a>" not in body and ">09:15</a>" in body
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


def test_bad_booking_input(pat, doctor):
    day = weekday_ahead()
    data, _ = book_via_pages(pat, doctor.id, day)
    token = data["csrf_token"]
    # A reason that is too long: the confirm step again, text kept.
    response = pat.post("/patient/book", data={**data, "idempotency_key": "k2", "reason": "x" * 1001,
                                               "start": at(day, "10:00").isoformat()})
    assert response.status_code == 422 and "x" * 1001 in text(response)
    # Not on the doctor's grid, and in the past: the picker with the reason.
    response = pat.post("/patient/book", data={**data, "idempotency_key": "k3", "start": at(day, "09:07").isoformat()})
    assert response.status_code == 422 and "not one of the doctor's free times" in text(response)
    response = pat.post("/patient/book", data={**data, "idempotency_key": "k4",
                                               "start": (utcnow() - timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and "in the past" in text(response)
    # Unknown doctor: 404. No CSRF token: 400.
    assert pat.post("/patient/book", data={**data, "idempotency_key": "k5", "doctor_id": "9999"}).status_code == 404
    no_token = {k: v for k, v in data.items() if k != "csrf_token"}
    assert pat.post("/patient/book", data={**no_token, "idempotency_key": "k6"}).status_code == 400
    assert token and db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


def test_book_by_specialty_merges_doctors_and_says_who_was_assigned(app, pat, doctor, make_user):
    second = make_user("doctor", email="bob@example.com", name="Dr. Bob Beat", specialization="Cardiology").doctor
    schedule.replace_weekly_availability(second, [{"day": "monday", "start": "14:00", "end": "15:00"},
                                                  *WEEKDAY_HOURS])
    day = weekday_ahead()
    while day.weekday() != 0:
        day += timedelta(days=1)
    page = pat.get(f"/patient/book?specialization=cardiology&date={day.isoformat()}")
    body = text(page)
    assert page.status_code == 200 and "Europe/London" in body
    assert ">09:00</a>" in body and ">14:00</a>" in body  # Dr. Bob's extra Monday hour is merged in
    assert body.count(">09:00</a>") == 1
    link = next(link for link in confirm_links(body) if at(day, "14:00").isoformat() in unquote(link))
    confirm = text(pat.get(link))
    assert "The first available Cardiology doctor" in confirm
    data = {name: hidden(confirm, name) for name in ("start", "doctor_id", "specialization", "clinic_id", "date",
                                                     "idempotency_key", "csrf_token")}
    response = pat.post("/patient/book", data=data)
    assert response.status_code == 303
    assert "Booked! Dr. Bob Beat will see you." in text(pat.get(response.headers["Location"]))
    # The 14:00 hour now only has three times left, and 14:00 is gone.
    body = text(pat.get(f"/patient/book?specialization=Cardiology&date={day.isoformat()}"))
    assert ">14:00</a>" not in body and ">14:15</a>" in body


def test_book_by_specialty_bad_input(pat, doctor):
    day = weekday_ahead().isoformat()
    assert "Choose a specialty" in text(pat.get("/patient/book"))
    response = pat.get(f"/patient/book?specialization=Astrology&date={day}")
    assert response.status_code == 422 and "No doctor of that specialty is available." in text(response)
    elsewhere = accounts.get_or_create_clinic("Far Clinic", "Asia/Tokyo")
    db.session.commit()
    response = pat.get(f"/patient/book?specialization=Cardiology&clinic_id={elsewhere.id}&date={day}", headers=HTMX)
    assert response.status_code == 422 and "No doctor of that specialty works at that clinic." in text(response)
    response = pat.get(f"/patient/book?specialization=Cardiology&clinic_id={doctor.clinic_id}&date={day}")
    assert response.status_code == 200 and ">09:00</a>" in text(response)
    assert f"clinic_id={doctor.clinic_id}" in confirm_links(text(response))[0]


# --- my appointments ---------------------------------------------------------

def test_my_appointments_tabs_and_dashboard(app, pat, doctor, patient, admin):
    book_via_pages(pat, doctor.id, weekday_ahead())
    booking.override_book(admin, patient.id, doctor.id, utcnow() - timedelta(days=3), reason="Old visit")
    upcoming = text(pat.get("/patient/appointments"))
    assert "Dr. Ada Lovelace" in upcoming and "Pending" in upcoming and "Old visit" not in upcoming
    assert ">Cancel</button>" in upcoming
    past = text(pat.get("/patient/appointments?tab=past"))
    assert "Approved" in past and ">Cancel</button>" not in past
    dashboard = text(pat.get("/patient/"))
    assert "Book an appointment" in dashboard and "Dr. Ada Lovelace" in dashboard and "Pending" in dashboard


def test_cancel_swaps_the_row(pat, doctor):
    book_via_pages(pat, doctor.id, weekday_ahead())
    appointment = db.session.scalar(db.select(Appointment))
    token = csrf_token(pat, "/patient/appointments")
    response = pat.post(f"/patient/appointments/{appointment.id}/cancel", headers={**HTMX, "X-CSRFToken": token})
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<li class="appt-row" id="appointment-{appointment.id}"')
    assert "Cancelled" in body and ">Cancel</button>" not in body
    db.session.refresh(appointment)
    assert appointment.status == "cancelled"


def test_cancel_from_the_appointment_page_without_javascript(pat, doctor):
    book_via_pages(pat, doctor.id, weekday_ahead())
    appointment = db.session.scalar(db.select(Appointment))
    token = csrf_token(pat, f"/patient/appointments/{appointment.id}")
    response = pat.post(f"/patient/appointments/{appointment.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    page = text(pat.get(response.headers["Location"]))
    assert "Your appointment is cancelled." in page and "Cancelled" in page and "Cancel appointment" not in page


def test_too_late_cancel_is_409_with_the_reason(pat, doctor, patient, admin):
    soon = booking.override_book(admin, patient.id, doctor.id, utcnow() + timedelta(minutes=90))
    token = csrf_token(pat, "/patient/appointments")
    response = pat.post(f"/patient/appointments/{soon.id}/cancel", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 409
    assert "Too late to cancel online" in text(response) and "Approved" in text(response)
    page = pat.post(f"/patient/appointments/{soon.id}/cancel", data={"csrf_token": token})
    assert page.status_code == 409 and "Too late to cancel online" in text(page)
    assert "Online cancellation has closed" in text(pat.get(f"/patient/appointments/{soon.id}"))


def test_someone_elses_appointment_is_404(app, pat, doctor, make_user):
    book_via_pages(pat, doctor.id, weekday_ahead())
    appointment = db.session.scalar(db.select(Appointment))
    make_user("patient", email="nosy@example.com")
    nosy = signed_in(app, "nosy@example.com")
    assert nosy.get(f"/patient/appointments/{appointment.id}").status_code == 404
    token = csrf_token(nosy, "/patient/")
    assert nosy.post(f"/patient/appointments/{appointment.id}/cancel", headers={**HTMX, "X-CSRFToken": token}).status_code == 404
    db.session.refresh(appointment)
    assert appointment.status == "pending"


@pytest.mark.parametrize("role, path", [
    ("doctor", "/patient/doctors"), ("admin", "/patient/book"), ("patient", "/doctor/dashboard"),
    ("patient", "/doctor/availability"), ("patient", "/admin/appointments"), ("doctor", "/admin/appointments"),
    ("doctor", "/admin/appointments/new"), ("patient", "/admin/appointments/override"),
])
def test_other_roles_get_404(app, make_user, role, path):
    make_user(role, email=f"{role}-x@example.com")
    client = signed_in(app, f"{role}-x@example.com")
    assert client.get(path).status_code == 404


# --- the doctor's dashboard ----------------------------------------------------

def test_doctor_approves_a_request_with_htmx(app, pat, doctor, make_user):
    book_via_pages(pat, doctor.id, weekday_ahead())
    appointment = db.session.scalar(db.select(Appointment))
    doc = signed_in(app, "ada@example.com")
    dashboard = text(doc.get("/doctor/dashboard"))
    assert "Pat Patient" in dashboard and ">Approve</button>" in dashboard and ">Reject</button>" in dashboard
    token = csrf_token(doc, "/doctor/dashboard")
    response = doc.post(f"/doctor/appointments/{appointment.id}/status", data={"status": "approved"},
                        headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200 and "Approved" in text(response) and ">Approve</button>" not in text(response)
    db.session.refresh(appointment)
    assert appointment.status == "approved"
    # Approving again is an illegal move: the row again, with the reason (409).
    again = doc.post(f"/doctor/appointments/{appointment.id}/status", data={"status": "approved"},
                     headers={**HTMX, "X-CSRFToken": token})
    assert again.status_code == 409 and "cannot become approved" in text(again)
    # Another doctor cannot touch it.
    make_user("doctor", email="other-doc@example.com")
    other = signed_in(app, "other-doc@example.com")
    token = csrf_token(other, "/doctor/dashboard")
    assert other.post(f"/doctor/appointments/{appointment.id}/status", data={"status": "cancelled"},
                      headers={**HTMX, "X-CSRFToken": token}).status_code == 404


def test_doctor_dashboard_lists_today_and_the_next_days(app, doctor, patient, admin):
    today = utcnow().astimezone(LONDON).date()
    early = booking.override_book(admin, patient.id, doctor.id, at(today, "00:05"), reason="Early bird")
    later = booking.override_book(admin, patient.id, doctor.id, at(weekday_ahead(2), "10:00"))
    doc = signed_in(app, "ada@example.com")
    body = text(doc.get("/doctor/dashboard"))
    assert f"{today:%A %-d %B}" in body and "Early bird" in body
    assert ">Mark completed</button>" in body  # it has started, so the outcome can be recorded
    assert f"{later.local_start():%A %-d %B}" in body and early.id != later.id


# --- availability --------------------------------------------------------------

def test_doctor_edits_weekly_hours_with_htmx(app, doctor):
    doc = signed_in(app, "ada@example.com")
    page = text(doc.get("/doctor/availability"))
    assert "Weekly hours" in page and "Europe/London" in page and "09:00–12:00" in page
    token = csrf_token(doc, "/doctor/availability")
    headers = {**HTMX, "X-CSRFToken": token}
    added = doc.post("/doctor/availability/windows", headers=headers,
                     data={"window-day": "saturday", "window-start": "10:00", "window-end": "13:00"})
    assert added.status_code == 200 and "<html" not in text(added)
    assert "10:00–13:00" in text(added) and "Added Saturday 10:00" in added.headers["HX-Trigger"]
    window = db.session.scalar(db.select(AvailabilityWindow).where(AvailabilityWindow.weekday == 5))
    assert (window.start_time, window.end_time) == (time(10), time(13))
    # End before start: 422, field message, input kept.
    bad = doc.post("/doctor/availability/windows", headers=headers,
                   data={"window-day": "sunday", "window-start": "15:00", "window-end": "14:00"})
    assert bad.status_code == 422 and "Must be after the start" in text(bad)
    assert 'value="15:00"' in text(bad) and 'selected value="sunday"' in text(bad)
    # Overlap with an existing window: the reason at the top of the form.
    overlap = doc.post("/doctor/availability/windows", headers=headers,
                       data={"window-day": "saturday", "window-start": "12:00", "window-end": "14:00"})
    assert overlap.status_code == 422 and "Overlapping hours on Saturday" in text(overlap)
    missing = doc.post("/doctor/availability/windows", headers=headers, data={"window-day": "monday"})
    assert missing.status_code == 422 and "Enter a start time" in text(missing)
    removed = doc.post(f"/doctor/availability/windows/{window.id}/delete", headers=headers)
    assert removed.status_code == 200 and "10:00–13:00" not in text(removed)
    assert db.session.get(AvailabilityWindow, window.id) is None


def test_doctor_adds_days_off_and_extra_hours(app, doctor, make_user):
    doc = signed_in(app, "ada@example.com")
    headers = {**HTMX, "X-CSRFToken": csrf_token(doc, "/doctor/availability")}
    day = weekday_ahead()
    off = doc.post("/doctor/availability/exceptions", headers=headers,
                   data={"exception-day": day.isoformat(), "exception-kind": "off", "exception-note": "Conference"})
    assert off.status_code == 200 and "whole day" in text(off) and "Conference" in text(off)
    pat_view = schedule.free_slots(doctor, day)
    assert pat_view == []
    extra = doc.post("/doctor/availability/exceptions", headers=headers,
                     data={"exception-day": day.isoformat(), "exception-kind": "extra",
                           "exception-start": "18:00", "exception-end": "19:00"})
    assert extra.status_code == 200 and "Extra hours" in text(extra) and "18:00–19:00" in text(extra)
    assert len(schedule.free_slots(doctor, day)) == 4
    no_times = doc.post("/doctor/availability/exceptions", headers=headers,
                        data={"exception-day": day.isoformat(), "exception-kind": "extra"})
    assert no_times.status_code == 422 and "Required for extra hours" in text(no_times)
    past = doc.post("/doctor/availability/exceptions", headers=headers,
                    data={"exception-day": "2020-01-01", "exception-kind": "off"})
    assert past.status_code == 422 and "Choose today or a later date" in text(past) and 'value="2020-01-01"' in text(past)
    exception_id = int(re.search(r"/availability/exceptions/(\d+)/delete", text(extra)).group(1))
    # Another doctor cannot remove it.
    make_user("doctor", email="other-doc@example.com")
    other = signed_in(app, "other-doc@example.com")
    other_headers = {**HTMX, "X-CSRFToken": csrf_token(other, "/doctor/availability")}
    assert other.post(f"/doctor/availability/exceptions/{exception_id}/delete", headers=other_headers).status_code == 404
    removed = doc.post(f"/doctor/availability/exceptions/{exception_id}/delete", headers=headers)
    assert removed.status_code == 200


def test_availability_works_without_javascript(app, doctor):
    doc = signed_in(app, "ada@example.com")
    token = csrf_token(doc, "/doctor/availability")
    response = doc.post("/doctor/availability/windows",
                        data={"window-day": "sunday", "window-start": "08:00", "window-end": "09:00", "csrf_token": token})
    assert response.status_code == 303
    assert "Added Sunday 08:00–09:00." in text(doc.get("/doctor/availability"))
    bad = doc.post("/doctor/availability/windows",
                   data={"window-day": "sunday", "window-start": "x", "csrf_token": token})
    assert bad.status_code == 422 and "<html" in text(bad)


# --- admin -------------------------------------------------------------------

@pytest.fixture
def boss(app, admin):
    return signed_in(app, "boss@example.com")


def test_admin_filters_and_pages_appointments(app, boss, doctor, patient, admin, make_user):
    other = make_user("doctor", name="Dr. Other").doctor
    day = weekday_ahead()
    first = booking.override_book(admin, patient.id, doctor.id, at(day, "09:00"), status="pending")
    booking.override_book(admin, patient.id, other.id, at(day, "09:00"))
    body = text(boss.get("/admin/appointments?status=pending"))
    assert "1 appointment" in body and f"appointment-{first.id}" in body
    body = text(boss.get(f"/admin/appointments?doctor_id={other.id}"))
    assert "Dr. Other" in body and "1 appointment" in body
    fragment = boss.get(f"/admin/appointments?date_from={day.isoformat()}&date_to={day.isoformat()}", headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in text(fragment) and "2 appointments" in text(fragment)
    assert "0 appointments" in text(boss.get(f"/admin/appointments?date_from={(day + timedelta(days=1)).isoformat()}"))
    bad = boss.get("/admin/appointments?date_from=2026-05-02&date_to=2026-05-01")
    assert bad.status_code == 422 and "Must be on or after the start date" in text(bad)
    assert boss.get("/admin/appointments?status=bogus").status_code == 422
    for n in range(10):
        booking.override_book(admin, patient.id, other.id, at(day, "13:00") + timedelta(minutes=15 * n))
    paged = text(boss.get("/admin/appointments?page=2"))
    assert "Page 2 of 2" in paged and "12 appointments" in paged


def test_admin_changes_status_with_htmx(boss, doctor, patient, admin):
    appointment = booking.override_book(admin, patient.id, doctor.id, at(weekday_ahead(), "09:00"), status="pending")
    headers = {**HTMX, "X-CSRFToken": csrf_token(boss, "/admin/appointments")}
    response = boss.post(f"/admin/appointments/{appointment.id}/status", data={"status": "rejected"}, headers=headers)
    assert response.status_code == 200 and text(response).lstrip().startswith(f'<tr id="appointment-{appointment.id}"')
    assert "Rejected" in text(response)
    again = boss.post(f"/admin/appointments/{appointment.id}/status", data={"status": "approved"}, headers=headers)
    assert again.status_code == 409 and "cannot become approved" in text(again)


def test_admin_override_books_outside_hours_but_never_twice(boss, doctor, patient):
    day = weekday_ahead()
    token = csrf_token(boss, "/admin/appointments/override")
    form = {"patient_id": patient.id, "doctor_id": doctor.id, "start": f"{day.isoformat()}T19:30",
            "minutes": "30", "status": "approved", "reason": "Urgent", "csrf_token": token}
    response = boss.post("/admin/appointments/override", data=form)
    assert response.status_code == 303
    appointment = db.session.scalar(db.select(Appointment))
    assert appointment.start_at == at(day, "19:30") and appointment.end_at == at(day, "20:00")
    assert "Booked Pat Patient with Dr. Ada Lovelace" in text(boss.get(response.headers["Location"]))
    clash = boss.post("/admin/appointments/override", data={**form, "start": f"{day.isoformat()}T19:45"})
    assert clash.status_code == 409
    assert "The doctor already has an appointment at that time" in text(clash) and f"{day.isoformat()}T19:45" in text(clash)
    missing = boss.post("/admin/appointments/override", data={**form, "patient_id": "", "start": ""})
    assert missing.status_code == 422 and "Choose a patient" in text(missing) and "Enter a date and time" in text(missing)
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


def test_admin_books_on_someones_behalf(boss, doctor, patient, admin):
    day = weekday_ahead()
    assert "Choose a patient and a doctor" in text(boss.get("/admin/appointments/new"))
    page = text(boss.get(f"/admin/appointments/new?patient_id={patient.id}&doctor_id={doctor.id}&date={day.isoformat()}"))
    links = confirm_links(page)
    assert links and "/admin/appointments/new/confirm" in links[0]
    confirm = text(boss.get(links[1]))
    assert "Book for Pat Patient" in confirm
    data = {name: hidden(confirm, name) for name in ("start", "doctor_id", "patient_id", "date",
                                                     "idempotency_key", "csrf_token")}
    response = boss.post("/admin/appointments/new", data=data)
    assert response.status_code == 303
    appointment = db.session.scalar(db.select(Appointment))
    assert (appointment.patient_id, appointment.created_by_id, appointment.status) == (patient.id, admin.id, "pending")
    assert appointment.start_at == at(day, "09:15")
    taken = boss.post("/admin/appointments/new", data={**data, "idempotency_key": "again"})
    assert taken.status_code == 409 and "Sorry, that time was just taken" in text(taken)
    assert boss.get(f"/admin/appointments/new/confirm?patient_id=9999&doctor_id={doctor.id}&start={data['start']}").status_code == 404
