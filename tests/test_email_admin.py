"""What admins see of emails: the daily summary, the monitoring page and API, the dev mailbox."""
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hospital import create_app
from hospital.config import TestConfig
from hospital.devtools.mailsink import MailSink
from hospital.devtools.servers import free_port
from hospital.extensions import db
from hospital.jobs import emails as email_jobs
from hospital.jobs.reports import day_bounds, send_daily_summaries
from hospital.models import Appointment, EmailMessage, utcnow
from hospital.services import accounts, emails

from .api_helpers import bearer
from .conftest import csrf_token, login
from .email_support import add_appointment, private_sink

LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")


def failed_email(clinic_id, at, status="failed", recipient="x@example.com", kind="confirmed", error="451 try later"):
    row = EmailMessage(kind=kind, recipient=recipient, subject="S", body_text="T", status=status, attempts=3,
                       last_error=error if status == "failed" else None, clinic_id=clinic_id, last_attempt_at=at)
    db.session.add(row)
    db.session.commit()
    return row


def test_daily_summary_counts_match_the_database(app, make_user):
    london = accounts.get_or_create_clinic("Test Clinic", "Europe/London")
    new_york = accounts.get_or_create_clinic("West Clinic", "America/New_York")
    db.session.commit()
    make_user("admin", email="boss@example.com")
    retired = make_user("admin", email="retired@example.com")
    retired.active = False
    doc = make_user("doctor", email="doc@example.com", clinic=london)
    ny_doc = make_user("doctor", email="nydoc@example.com", clinic=new_york)
    pat = make_user("patient", email="pat@example.com")
    day = datetime(2026, 6, 10).date()

    def at(hh, mm=0, tz=LONDON, d=day):
        return datetime(d.year, d.month, d.day, hh, mm, tzinfo=tz).astimezone(timezone.utc)

    for n, status in enumerate(["approved", "approved", "pending", "rejected", "cancelled"]):
        add_appointment(pat, doc, at(9 + n), status=status)
    add_appointment(pat, doc, at(23, 45), status="approved")                          # late evening: same local day
    add_appointment(pat, doc, at(0, 15, d=day + timedelta(days=1)), status="approved")  # tomorrow
    add_appointment(pat, ny_doc, at(9, tz=NEW_YORK), status="approved")                 # another clinic
    failed_email(london.id, at(12, d=day - timedelta(days=1)))
    failed_email(london.id, at(0, 30, d=day - timedelta(days=1)))
    failed_email(london.id, at(1, 0))                                                   # today, not yesterday
    failed_email(london.id, at(12, d=day - timedelta(days=1)), status="sent")
    failed_email(new_york.id, at(12, tz=NEW_YORK, d=day - timedelta(days=1)))

    seven_thirty = at(7, 30)  # 02:30 in New York: only London is due
    assert send_daily_summaries(seven_thirty) == 1
    assert send_daily_summaries(seven_thirty + timedelta(hours=1)) == 0  # once per clinic and day
    [row] = db.session.scalars(select(EmailMessage).where(EmailMessage.kind == "daily_summary")).all()
    assert row.recipient == "boss@example.com" and row.clinic_id == london.id
    assert row.dedupe_key.startswith(f"daily-summary:{london.id}:2026-06-10:")

    start, end = day_bounds(day, LONDON)
    expected = dict(db.session.execute(select(Appointment.status, func.count()).where(
        Appointment.clinic_id == london.id, Appointment.start_at >= start, Appointment.start_at < end)
        .group_by(Appointment.status)).all())
    y_start, y_end = day_bounds(day - timedelta(days=1), LONDON)
    expected_failed = db.session.scalar(select(func.count()).select_from(EmailMessage).where(
        EmailMessage.clinic_id == london.id, EmailMessage.status == "failed",
        EmailMessage.last_attempt_at >= y_start, EmailMessage.last_attempt_at < y_end))
    assert (expected["approved"], expected["pending"], expected["rejected"], expected_failed) == (3, 1, 1, 2)
    for label, count in (("Approved", 3), ("Pending", 1), ("Rejected", 1)):
        assert re.search(rf"{label}:\s+{count}\n", row.body_text), (label, row.body_text)
    assert "Emails that failed yesterday: 2" in row.body_text and "status=failed" in row.body_text
    assert "Wednesday 10 June 2026" in row.subject + row.body_text

    assert send_daily_summaries(at(7, 5, tz=NEW_YORK)) == 1  # New York's morning
    assert "Approved: 1\n" in db.session.scalars(select(EmailMessage).where(
        EmailMessage.clinic_id == new_york.id, EmailMessage.kind == "daily_summary")).one().body_text


def test_monitoring_page_shows_failures_filters_and_retries(app, client, make_user):
    make_user("admin", email="boss@example.com")
    failed = failed_email(None, utcnow(), recipient="ann@example.com", error="451 4.3.0 Temporary failure")
    failed_email(None, utcnow(), status="sent", recipient="bob@example.com", kind="reminder")
    login(client, "boss@example.com", "correct-horse-9")
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert 'data-count="failed">1<' in page and 'data-count="sent">1<' in page
    assert "ann@example.com" in page and "451 4.3.0 Temporary failure" in page and "Retry" in page
    assert 'href="/admin/notifications"' in page  # the nav link
    fragment = client.get("/admin/notifications?kind=reminder", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert "bob@example.com" in body and "ann@example.com" not in body
    bad = client.get("/admin/notifications?status=lost")
    assert bad.status_code == 422 and "Unknown status" in bad.get_data(as_text=True)

    token = csrf_token(client, "/admin/notifications")
    with private_sink(app) as sink:
        response = client.post(f"/admin/notifications/{failed.id}/retry", data={"csrf_token": token},
                               headers={"HX-Request": "true"})
        assert response.status_code == 200 and "Queued" in response.get_data(as_text=True)
        again = client.post(f"/admin/notifications/{failed.id}/retry", data={"csrf_token": token},
                            headers={"HX-Request": "true"})
        assert again.status_code == 409 and "Only failed emails" in again.get_data(as_text=True)
        assert email_jobs.send_email(failed.id) == "sent"
        assert len(sink.messages) == 1


def test_other_roles_do_not_see_the_monitoring_page(client, make_user):
    make_user("doctor", email="doc@example.com")
    login(client, "doc@example.com", "correct-horse-9")
    assert client.get("/admin/notifications").status_code == 404


def test_monitoring_api_lists_filters_and_retries(app, client, make_user):
    make_user("admin", email="boss@example.com", password="correct-horse-9")
    make_user("patient", email="pat@example.com", password="correct-horse-9")
    failed = failed_email(None, utcnow(), recipient="ann@example.com")
    failed_email(None, utcnow(), status="sent")
    admin = bearer(client, "boss@example.com")
    body = client.get("/api/admin/notifications?status=failed", headers=admin).json
    assert body["counts"] == {"queued": 0, "sending": 0, "sent": 1, "failed": 1}
    assert body["total"] == 1 and body["items"][0]["recipient"] == "ann@example.com"
    assert body["items"][0]["attempts"] == 3 and body["items"][0]["last_error"] == "451 try later"
    assert client.get("/api/admin/notifications?kind=spam", headers=admin).status_code == 422
    assert client.get("/api/admin/notifications", headers=bearer(client, "pat@example.com")).status_code == 404
    retried = client.post(f"/api/admin/notifications/{failed.id}/retry", headers=admin)
    assert retried.status_code == 202 and retried.json["status"] == "queued" and retried.json["attempts"] == 0
    conflict = client.post(f"/api/admin/notifications/{failed.id}/retry", headers=admin)
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"
    assert client.post("/api/admin/notifications/999/retry", headers=admin).status_code == 404
    assert "/api/admin/notifications" in client.get("/api/openapi.json").json["paths"]


def test_dev_mailbox_page_shows_what_the_sink_caught(app, tmp_path, settings):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    dev = create_app({**config, **settings, "ENV_NAME": "development", "DEV_MAILBOX_DIR": str(tmp_path)})
    with MailSink(free_port(), tmp_path) as sink, dev.app_context():
        state = dev.extensions["mail"]
        state.port = sink.port
        context = {"patient_name": "Ann", "doctor_name": "Dr Who", "specialization": "GP", "clinic_name": "North",
                   "when": "Mon 1 Dec 2026, 09:00 GMT", "path": "/patient/appointments/1"}
        row = emails.queue("ann@example.com", "confirmed", "Your appointment is confirmed", "confirmed", context)
        db.session.commit()
        email_jobs.send_email(row.id)
        client = dev.test_client()
        listing = client.get("/dev/mailbox").get_data(as_text=True)
        assert "Your appointment is confirmed" in listing and "ann@example.com" in listing
        [name] = [p.name for p in tmp_path.glob("*.eml")]
        shown = client.get(f"/dev/mailbox/{name}").get_data(as_text=True)
        assert "Hello Ann" in shown and "Dr Who" in shown
        html = client.get(f"/dev/mailbox/{name}/html")
        assert html.status_code == 200 and "sandbox" in html.headers["Content-Security-Policy"]
        assert client.get("/dev/mailbox/..%2Fsecret.eml").status_code == 404
    assert create_app({**config, **settings}).test_client().get("/dev/mailbox").status_code == 404
