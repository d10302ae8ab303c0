"""Emails through a real worker process (RQ Retry + RQ's scheduler) into a real SMTP server
that fails the first N deliveries with 451; retry delays are 1 s here (EMAIL_RETRY_INTERVALS)."""
import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hospital.devtools.mailsink import MailSink
from hospital.devtools.servers import free_port
from hospital.extensions import db
from hospital.jobs import emails as email_jobs
from hospital.jobs.queue import get_queue
from hospital.models import EmailMessage, Notification, utcnow
from hospital.services import appointments, booking

from .api_helpers import bearer
from .conftest import csrf_token, login
from .email_support import ROOT, email_state, messages_to, wait_until, worker_process
from .factories import doctor_with_hours, local, next_weekday


@pytest.fixture
def people(app, make_user, monkeypatch):
    # The enqueuing process fixes the Retry delays (web and worker share this setting in production).
    monkeypatch.setitem(app.config, "EMAIL_RETRY_INTERVALS", [1, 1])
    admin = make_user("admin", email="boss@example.com")
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    return admin, doctor, patient, appointment


def approve(doctor, appointment) -> int:
    appointments.change_status(doctor, appointment.id, "approved")
    return db.session.scalar(select(EmailMessage.id).where(EmailMessage.appointment_id == appointment.id))


def test_two_refusals_then_delivered_on_the_third_attempt(app, settings, people, tmp_path):
    admin, doctor, patient, appointment = people
    with MailSink(free_port(), fail_first=2) as sink:
        message_id = approve(doctor, appointment)
        with worker_process(settings, sink.port, tmp_path / "worker.log"):
            wait_until(lambda: email_state(message_id).status == "sent", 30, message="the email to be sent")
        status, attempts, last_error = email_state(message_id)
        assert attempts == 3 and last_error is None
        assert sink.handler.attempts == 3
        [message] = messages_to(sink, "pat@example.com")
        assert "is confirmed" in message["Subject"]


def test_three_refusals_fail_the_email_notify_admins_and_show_on_the_monitoring_page(
        app, client, settings, people, tmp_path):
    admin, doctor, patient, appointment = people
    log = tmp_path / "worker.log"
    with MailSink(free_port(), fail_first=3) as sink:
        message_id = approve(doctor, appointment)
        with worker_process(settings, sink.port, log):
            wait_until(lambda: email_state(message_id).status == "failed", 30, message="the email to fail")
            status, attempts, last_error = email_state(message_id)
            assert attempts == 3 and sink.handler.attempts == 3 and sink.messages == []
            assert last_error.startswith("451 4.3.0 Temporary failure")
            wait_until(lambda: db.session.rollback() or Notification.query.filter_by(
                user_id=admin.id, kind="email_failed").count() == 1, 10, message="the admins' notification")

            login(client, "boss@example.com", "correct-horse-9")
            page = client.get("/admin/notifications?status=failed").get_data(as_text=True)
            assert "pat@example.com" in page and "451 4.3.0 Temporary failure" in page
            assert 'data-label="Attempts"><div>3</div>' in page
            api = client.get("/api/admin/notifications?status=failed", headers=bearer(client, "boss@example.com")).json
            assert api["counts"]["failed"] == 1 and api["items"][0]["attempts"] == 3

            # The server works again: the admin's retry button sends it (fresh attempts).
            response = client.post(f"/admin/notifications/{message_id}/retry", headers={"HX-Request": "true"},
                                   data={"csrf_token": csrf_token(client, "/admin/notifications")})
            assert response.status_code == 200
            wait_until(lambda: email_state(message_id).status == "sent", 30, message="the retried email")
        assert email_state(message_id).attempts == 1
        assert len(messages_to(sink, "pat@example.com")) == 1
    assert "WARNING" in log.read_text() and "failed after 3 attempt(s)" in log.read_text()


def test_approving_on_the_doctors_page_puts_a_confirmation_in_the_mailbox(app, client, settings, people, tmp_path):
    admin, doctor, patient, appointment = people
    with MailSink(free_port(), tmp_path / "mail") as sink, worker_process(settings, sink.port, tmp_path / "worker.log"):
        login(client, "doc@example.com", "correct-horse-9")
        token = csrf_token(client, "/doctor/dashboard")
        response = client.post(f"/doctor/appointments/{appointment.id}/status",
                               data={"status": "approved", "csrf_token": token}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        [message] = wait_until(lambda: messages_to(sink, "pat@example.com"), 30, message="the confirmation")
    assert message["Subject"] == f"Your appointment with {doctor.doctor.name} is confirmed"
    assert "Hello Pat Patient" in message.get_body(preferencelist=("plain",)).get_content()
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1  # the dev mailbox folder


def test_redis_down_at_commit_the_sweep_sends_it_once_redis_is_back(app, settings, people, tmp_path):
    admin, doctor, patient, appointment = people
    real = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    try:
        message_id = approve(doctor, appointment)  # commits; enqueueing fails quietly
    finally:
        app.config["REDIS_URL"] = real
    assert email_state(message_id).status == "queued" and get_queue().count == 0
    with MailSink(free_port()) as sink, worker_process(settings, sink.port, tmp_path / "worker.log"):
        # What the cron scheduler's minute sweep does once the row is overdue.
        assert email_jobs.sweep_outbox(utcnow() + timedelta(minutes=2)) == 1
        wait_until(lambda: email_state(message_id).status == "sent", 30, message="the swept email")
        assert email_jobs.sweep_outbox(utcnow() + timedelta(minutes=2)) == 0
        assert len(messages_to(sink, "pat@example.com")) == 1


class StallFirstDelivery:
    """SMTP handler: the first DATA hangs (the worker is killed meanwhile) and is never accepted;
    later ones are accepted."""

    def __init__(self):
        self.stalled = threading.Event()
        self.released = threading.Event()
        self.accepted = []

    async def handle_DATA(self, server, session, envelope):
        if not self.stalled.is_set():
            self.stalled.set()
            for _ in range(300):  # at most 30 s, or until the test releases it
                if self.released.is_set():
                    break
                await asyncio.sleep(0.1)
            return "451 4.3.0 Too late"
        self.accepted.append(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def test_a_worker_killed_mid_send_leaves_the_email_to_the_sweep_and_it_goes_out_once(app, settings, people, tmp_path):
    admin, doctor, patient, appointment = people
    handler = StallFirstDelivery()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        message_id = approve(doctor, appointment)
        env = {**os.environ, "HOSPITAL_ENV": "test", "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
               "REDIS_URL": settings["REDIS_URL"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(controller.port)}
        # Its own session, so the kill takes RQ's scheduler child process too.
        doomed = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert handler.stalled.wait(30), "the worker never reached the SMTP server"
        finally:
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=10)
        assert email_state(message_id)[:2] == ("sending", 1)  # the row shows where it stopped
        assert email_jobs.sweep_outbox(utcnow() + timedelta(minutes=11)) == 1  # past EMAIL_STALE_SENDING
        with worker_process(settings, controller.port, tmp_path / "worker.log"):
            wait_until(lambda: email_state(message_id).status == "sent", 30, message="the rescued email")
        assert email_state(message_id).attempts == 2
        assert handler.accepted == [["pat@example.com"]]
    finally:
        handler.released.set()
        controller.stop()
