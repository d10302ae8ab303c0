"""Stored notifications, the bell and list pages, reminders and admin pushes (in-process)."""
from datetime import timedelta

import pytest

from hospital.errors import InvalidInput, NotFound
from hospital.extensions import db
from hospital.jobs import reminders
from hospital.models import Notification
from hospital.services import appointments, booking, notifications

from .conftest import csrf_token, login
from .factories import doctor_with_hours, local, next_weekday


@pytest.fixture
def booked(make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    return doctor, patient, appointment


def texts(user):
    return [n.text for n in Notification.query.filter_by(user_id=user.id).order_by(Notification.id)]


def test_booking_notifies_the_doctor_and_approval_the_patient(booked):
    doctor, patient, appointment = booked
    assert texts(doctor) == [f"New request from Pat Patient for {texts(doctor)[0].split(' for ', 1)[1]}"]
    appointments.change_status(doctor, appointment.id, "approved")
    [message] = texts(patient)
    assert "was confirmed" in message and doctor.doctor.name in message
    assert notifications.unread_count(patient.id) == 1


def test_patient_cancellation_notifies_the_doctor_not_the_patient(booked):
    doctor, patient, appointment = booked
    appointments.change_status(patient, appointment.id, "cancelled", now=appointment.start_at - timedelta(days=1))
    assert texts(patient) == []
    assert "Pat Patient's appointment" in texts(doctor)[-1] and "cancelled" in texts(doctor)[-1]


def test_bell_list_and_mark_read(client, booked):
    doctor, patient, appointment = booked
    appointments.change_status(doctor, appointment.id, "approved")
    login(client, "pat@example.com", "correct-horse-9")
    bell = client.get("/notifications/bell").get_data(as_text=True)
    assert "1 unread" in bell and "was confirmed" in bell
    page = client.get("/notifications/").get_data(as_text=True)
    assert "was confirmed" in page
    note = Notification.query.filter_by(user_id=patient.id).one()
    token = csrf_token(client, "/notifications/")
    response = client.post(f"/notifications/{note.id}/read", data={"csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "notifications-changed"
    assert notifications.unread_count(patient.id) == 0
    assert "0 unread" in client.get("/notifications/bell").get_data(as_text=True)


def test_someone_elses_notification_is_404(client, booked, make_user):
    doctor, patient, appointment = booked
    note = Notification.query.filter_by(user_id=doctor.id).first()
    make_user("patient", email="other@example.com")
    login(client, "other@example.com", "correct-horse-9")
    response = client.post(f"/notifications/{note.id}/read", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert response.status_code == 404
    assert db.session.get(Notification, note.id).read_at is None


def test_missed_returns_only_newer_own_notifications(booked):
    doctor, patient, appointment = booked
    appointments.change_status(doctor, appointment.id, "approved")
    [first] = notifications.missed(patient.id, 0)
    notifications.notify([patient.id], "message", "Second")
    assert [n.text for n in notifications.missed(patient.id, first.id)] == ["Second"]
    assert all(n.user_id == patient.id for n in notifications.missed(patient.id, 0))


def test_live_reminder_is_sent_once_and_only_when_due(booked):
    doctor, patient, appointment = booked
    appointments.change_status(doctor, appointment.id, "approved")
    start = appointment.start_at
    assert reminders.send_live_reminder(appointment.id, now=start - timedelta(hours=1)) is False
    assert reminders.send_live_reminder(appointment.id, now=start - timedelta(minutes=14)) is True
    reminders.send_live_reminder(appointment.id, now=start - timedelta(minutes=13))
    assert reminders.sweep_live_reminders(now=start - timedelta(minutes=12)) == 1  # due, but deduplicated
    assert sum("Reminder" in t for t in texts(patient)) == 1
    assert sum("Reminder" in t for t in texts(doctor)) == 1


def test_cancelled_appointment_gets_no_reminder(booked):
    doctor, patient, appointment = booked
    appointments.change_status(doctor, appointment.id, "approved")
    appointments.change_status(doctor, appointment.id, "cancelled")
    assert reminders.send_live_reminder(appointment.id, now=appointment.start_at - timedelta(minutes=10)) is False


def test_approval_schedules_the_reminder_job_and_cancel_removes_it(app, booked):
    from rq.job import Job

    from hospital.jobs.queue import get_queue, redis_connection

    doctor, patient, appointment = booked
    appointments.change_status(doctor, appointment.id, "approved")
    queue = get_queue()
    assert reminders.job_id(appointment.id) in queue.scheduled_job_registry.get_job_ids()
    job = Job.fetch(reminders.job_id(appointment.id), connection=redis_connection())
    assert job.args == (appointment.id,)
    appointments.change_status(doctor, appointment.id, "cancelled")
    assert reminders.job_id(appointment.id) not in queue.scheduled_job_registry.get_job_ids()


def test_admin_push_to_role_and_user(make_user):
    admin = make_user("admin")
    patients = [make_user("patient") for _ in range(3)]
    doctor = make_user("doctor")
    assert notifications.admin_push(admin, "Clinic closes at 5pm", role="patient") == 3
    assert texts(doctor) == []
    notifications.admin_push(admin, "Hello doctor", user_id=doctor.id)
    assert texts(doctor) == ["Hello doctor"]
    with pytest.raises(NotFound):
        notifications.admin_push(patients[0], "spam", role="patient")
    with pytest.raises(InvalidInput):
        notifications.admin_push(admin, "", role="patient")
    with pytest.raises(InvalidInput):
        notifications.admin_push(admin, "x", user_id=doctor.id, role="patient")
