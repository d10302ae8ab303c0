"""Helpers for the email tests: a private SMTP sink, a real worker process, bounded polling."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from hospital.devtools.mailsink import MailSink
from hospital.devtools.servers import free_port
from hospital.extensions import db
from hospital.models import Appointment, EmailMessage

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def email_state(message_id: int):
    """(status, attempts, last_error) as committed now (other processes write the row)."""
    db.session.rollback()
    return db.session.execute(select(EmailMessage.status, EmailMessage.attempts, EmailMessage.last_error)
                              .where(EmailMessage.id == message_id)).one()


def messages_to(sink: MailSink, address: str) -> list:
    return [m for m in list(sink.messages) if address in str(m["To"])]


@contextmanager
def worker_process(settings: dict, mail_port: int, log_path: Path | None = None, **env):
    """``python worker.py`` (RQ worker with its scheduler, so retries run) on this run's services,
    sending to ``mail_port``, with 1-second retry delays unless ``env`` says otherwise."""
    full_env = {**os.environ, "HOSPITAL_ENV": "test", "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
                "REDIS_URL": settings["REDIS_URL"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_port),
                "EMAIL_RETRY_INTERVALS": "1,1", "PYTHONUNBUFFERED": "1", **env}
    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=full_env, stdout=out,
                               stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if log_path:
            out.close()


@contextmanager
def private_sink(app, fail_first: int = 0):
    """A fresh SMTP sink on a free port; this process's mail settings point at it meanwhile."""
    state = app.extensions["mail"]
    previous = state.port
    with MailSink(free_port(), fail_first=fail_first) as sink:
        state.port = sink.port
        try:
            yield sink
        finally:
            state.port = previous


def add_appointment(patient, doctor, start, status="approved", minutes=15) -> Appointment:
    """An appointment row straight into the database (any time, any status)."""
    appointment = Appointment(patient_id=patient.patient.id, doctor_id=doctor.doctor.id,
                              clinic_id=doctor.doctor.clinic_id, start_at=start,
                              end_at=start + timedelta(minutes=minutes), status=status)
    db.session.add(appointment)
    db.session.commit()
    return appointment
