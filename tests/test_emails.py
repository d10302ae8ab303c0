"""The email outbox in one process: queued with the change, sent by the job (real SMTP sink),
failures classified, reminders and summaries once, the sweep, the cron table."""
from datetime import datetime, timedelta, timezone

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq_scheduler import Scheduler
from sqlalchemy import select
from werkzeug.utils import import_string

from hospital.devtools.servers import free_port
from hospital.extensions import db
from hospital.jobs import emails as email_jobs
from hospital.jobs.queue import get_queue, redis_connection
from hospital.jobs.reminders import queue_day_reminders
from hospital.jobs.schedule import CRON_TABLE, ID_PREFIX, register
from hospital.models import Appointment, EmailMessage, Notification, utcnow
from hospital.services import appointment_emails, appointments, booking, emails

from .email_support import add_appointment, messages_to, private_sink
from .factories import doctor_with_hours, local, next_weekday


def run_queued_jobs() -> None:
    """Run what is in the queue now, in this process (as a worker would)."""
    connection = redis_connection()
    SimpleWorker([get_queue(connection)], connection=connection).work(burst=True)


@pytest.fixture
def people(make_user):
    admin = make_user("admin", email="admin@example.com")
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    return admin, doctor, patient, appointment


def outbox():
    db.session.expire_all()
    return list(db.session.scalars(select(EmailMessage).order_by(EmailMessage.id)))


def test_approval_queues_the_confirmation_with_the_change_and_enqueues_it_after_commit(people):
    admin, doctor, patient, appointment = people
    assert outbox() == []  # a pending booking sends no email
    appointments.change_status(doctor, appointment.id, "approved")
    [row] = outbox()
    assert (row.kind, row.recipient, row.status, row.attempts) == ("confirmed", "pat@example.com", "queued", 0)
    assert row.dedupe_key == f"confirmed:{appointment.id}" and row.appointment_id == appointment.id
    assert "is confirmed" in row.subject and doctor.doctor.name in row.subject
    job = Job.fetch(emails.job_id(row.id), connection=redis_connection())
    assert job.func_name == "hospital.jobs.emails.send_email" and job.args == (row.id,)
    assert job.retries_left == 2 and job.retry_intervals == [30, 120]


def test_rejection_emails_the_patient_and_cancellation_does_not(people, make_user):
    admin, doctor, patient, appointment = people
    appointments.change_status(doctor, appointment.id, "rejected")
    assert [(m.kind, m.recipient) for m in outbox()] == [("rejected", "pat@example.com")]
    second = booking.book_appointment(patient.patient, appointment.start_at, patient, doctor_id=doctor.doctor.id)
    appointments.change_status(patient, second.appointment.id, "cancelled",
                               now=appointment.start_at - timedelta(days=2))
    assert len(outbox()) == 1


def test_admin_override_booking_that_is_approved_sends_the_confirmation(people):
    admin, doctor, patient, appointment = people
    start = appointment.start_at + timedelta(hours=10)  # outside hours
    override = booking.override_book(admin, patient.patient.id, doctor.doctor.id, start)
    assert [(m.kind, m.appointment_id) for m in outbox()] == [("confirmed", override.id)]


def test_no_email_means_no_change(people, monkeypatch):
    """Same transaction: if the email cannot be queued, the approval does not commit either."""
    admin, doctor, patient, appointment = people

    def broken(*args, **kwargs):
        raise RuntimeError("template broken")

    monkeypatch.setattr(emails, "render", broken)
    with pytest.raises(RuntimeError):
        appointments.change_status(doctor, appointment.id, "approved")
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).status == "pending"
    assert outbox() == []


def test_the_job_sends_once_through_smtp(app, people):
    admin, doctor, patient, appointment = people
    appointments.change_status(doctor, appointment.id, "approved")
    [row] = outbox()
    with private_sink(app) as sink:
        assert email_jobs.send_email(row.id) == "sent"
        assert email_jobs.send_email(row.id) == "skipped"  # RQ is at-least-once: a second run does nothing
        run_queued_jobs()  # the job enqueued at commit also finds nothing to do
        [message] = messages_to(sink, "pat@example.com")
    row = outbox()[0]
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None) and row.sent_at is not None
    assert message["Subject"] == row.subject
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Your appointment is confirmed" in text and appointment.local_start().strftime("%H:%M") in text
    assert f"/patient/appointments/{appointment.id}" in text
    assert "confirmed" in message.get_body(preferencelist=("html",)).get_content()


def test_invalid_recipient_fails_at_once_without_retry(app, people):
    admin = people[0]
    emails.queue("not-an-address", "confirmed", "Hello", "confirmed", appointment_emails.context(people[3]))
    db.session.commit()
    [row] = outbox()
    with private_sink(app) as sink:
        assert email_jobs.send_email(row.id) == "failed"  # returns: RQ has nothing to retry
        assert sink.handler.attempts == 0
    row = outbox()[0]
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("Invalid recipient address 'not-an-address'")
    [note] = Notification.query.filter_by(user_id=admin.id, kind="email_failed").all()
    assert "not-an-address" in note.text and note.link == "/admin/notifications?status=failed"


def test_a_4xx_answer_is_retried_later_and_the_row_counts_attempts(app, people):
    admin, doctor, patient, appointment = people
    appointments.change_status(doctor, appointment.id, "approved")
    [row] = outbox()
    with private_sink(app, fail_first=1) as sink:
        with pytest.raises(email_jobs.EmailDeferred):
            email_jobs.send_email(row.id)
        row = outbox()[0]
        assert (row.status, row.attempts) == ("queued", 1) and row.last_error.startswith("451")
        assert row.next_attempt_at > utcnow() + timedelta(seconds=25)  # the first retry interval
        assert email_jobs.send_email(row.id) == "sent"
        assert len(messages_to(sink, "pat@example.com")) == 1
    assert outbox()[0].attempts == 2


def test_an_unreachable_server_is_a_temporary_failure(app, people):
    admin, doctor, patient, appointment = people
    appointments.change_status(doctor, appointment.id, "approved")
    state = app.extensions["mail"]
    previous, state.port = state.port, free_port()  # nothing listens there
    try:
        with pytest.raises(email_jobs.EmailDeferred):
            email_jobs.send_email(outbox()[0].id)
    finally:
        state.port = previous
    row = outbox()[0]
    assert row.status == "queued" and "ConnectionRefused" in row.last_error


def test_the_hourly_reminder_job_run_twice_sends_each_reminder_once(app, people, make_user):
    admin, doctor, patient, appointment = people
    other = make_user("patient", email="other@example.com")
    now = utcnow().replace(microsecond=0)
    soon = add_appointment(patient, doctor, now + timedelta(hours=20))
    add_appointment(other, doctor, now + timedelta(hours=30))                    # not within 24 h
    add_appointment(other, doctor, now + timedelta(hours=5), status="pending")   # not approved
    with private_sink(app) as sink:
        assert queue_day_reminders(now) == 1
        run_queued_jobs()
        assert queue_day_reminders(now + timedelta(hours=1)) == 0
        run_queued_jobs()
        [message] = messages_to(sink, "pat@example.com")
        assert messages_to(sink, "other@example.com") == []
    assert message["Subject"].startswith(f"Reminder: your appointment with {doctor.doctor.name}")
    [row] = [m for m in outbox() if m.kind == "reminder"]
    assert (row.status, row.dedupe_key) == ("sent", f"reminder-24h:{soon.id}")


def test_the_sweep_sends_what_was_committed_while_redis_was_down(app, people):
    admin, doctor, patient, appointment = people
    real = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # Redis unreachable at commit
    try:
        appointments.change_status(doctor, appointment.id, "approved")
    finally:
        app.config["REDIS_URL"] = real
    assert db.session.get(Appointment, appointment.id).status == "approved"  # the change is not held back
    [row] = outbox()
    assert row.status == "queued" and get_queue().count == 0
    assert email_jobs.sweep_outbox() == 0  # not overdue yet: its own job may still be coming
    later = utcnow() + timedelta(minutes=2)
    assert email_jobs.sweep_outbox(later) == 1
    assert email_jobs.sweep_outbox(later) == 0  # its job is queued now: not enqueued twice
    with private_sink(app) as sink:
        run_queued_jobs()
        assert len(messages_to(sink, "pat@example.com")) == 1
    assert outbox()[0].status == "sent"


def test_the_sweep_recovers_rows_left_sending_by_a_killed_worker(people):
    admin, doctor, patient, appointment = people
    appointments.change_status(doctor, appointment.id, "approved")
    get_queue().empty()
    [row] = outbox()
    long_ago = utcnow() - timedelta(minutes=20)
    row.status, row.attempts, row.last_attempt_at = "sending", 1, long_ago
    db.session.commit()
    assert email_jobs.sweep_outbox() == 1
    row = outbox()[0]
    assert (row.status, row.attempts) == ("queued", 1)
    assert Job.fetch(emails.job_id(row.id), connection=redis_connection()).retries_left == 1  # 2 attempts left
    row.status, row.attempts, row.last_attempt_at = "sending", 3, long_ago
    db.session.commit()
    email_jobs.sweep_outbox()
    assert outbox()[0].status == "failed" and "may or may not" in outbox()[0].last_error


def test_cron_registration_twice_leaves_one_entry_per_job_and_cancels_removed_ones(app):
    connection = redis_connection()
    queue_name = app.config["RQ_QUEUE"]
    scheduler = Scheduler(queue_name=queue_name, connection=connection)
    register(scheduler, queue_name)
    register(scheduler, queue_name)
    ids = [job.id for job in scheduler.get_jobs()]
    assert sorted(ids) == sorted(ID_PREFIX + entry.id for entry in CRON_TABLE)
    by_id = {entry.id: entry for entry in CRON_TABLE}
    assert by_id["email-outbox-sweep"].cron == "* * * * *"
    assert by_id["email-reminders-24h"].cron.startswith("0 ") and by_id["daily-summary"].cron.endswith(" * * * *")
    for entry in CRON_TABLE:
        assert callable(import_string(entry.func))
    # When an entry comes due the scheduler can fetch it, queue a run, and keep the entry for next time.
    sweep = next(job for job in scheduler.get_jobs() if job.id == ID_PREFIX + "email-outbox-sweep")
    scheduler.change_execution_time(sweep, datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=5))
    scheduler.enqueue_jobs()
    assert ID_PREFIX + "email-outbox-sweep" in get_queue().job_ids
    assert len(list(scheduler.get_jobs())) == len(CRON_TABLE)
    register(scheduler, queue_name, [entry for entry in CRON_TABLE if entry.id != "daily-summary"])
    remaining = [job.id for job in scheduler.get_jobs()]
    assert ID_PREFIX + "daily-summary" not in remaining and len(remaining) == len(CRON_TABLE) - 1
