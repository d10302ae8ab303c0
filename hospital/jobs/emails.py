"""Sending outbox emails: the RQ job, SMTP delivery through Flask-Mail, and the minute sweep.

Safe to run twice: :func:`send_email` first *claims* its row (``queued`` →
``sending`` in one UPDATE), so a second copy of the job finds nothing to do.
The database row, not RQ, counts the attempts: after the last allowed one the
row is ``failed``, a warning is logged and the admins are notified in the app.

A worker killed after the SMTP server accepted a message but before the row
was marked ``sent`` leaves the row ``sending``; the sweep re-queues it after
``EMAIL_STALE_SENDING`` seconds, so that email may arrive twice (at most one
duplicate; the Message-ID is the same, which lets many mail clients fold them).
"""
from __future__ import annotations

import email.policy
import logging
import smtplib
import time
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_mail import BadHeaderError, Connection, Message
from sqlalchemy import select, update

from ..extensions import db
from ..models import EmailMessage, utcnow
from ..services import emails, notifications

log = logging.getLogger(__name__)
# What a send needs of its row, read by the claiming UPDATE ... RETURNING (no second query).
OUTBOX = EmailMessage.__table__
CLAIMED = tuple(OUTBOX.c[name] for name in ("id", "kind", "recipient", "subject", "body_text", "body_html",
                                             "attempts", "appointment_id", "created_at"))
SMTP_COMPAT32 = email.policy.compat32.clone(linesep="\r\n")
IDLE_CHECK = 2.0  # seconds: a kept SMTP connection idle longer is checked with NOOP before use
MAX_IDLE = 30.0   # seconds: older idle connections are dropped (servers time them out)


class EmailDeferred(Exception):
    """A temporary failure: raised so that RQ's Retry schedules the next attempt."""


class PermanentFailure(Exception):
    """Retrying cannot help (bad address, 5xx refusal): the row fails at once."""


# --- SMTP ------------------------------------------------------------------------

class TimedConnection(Connection):
    """Flask-Mail's connection with a timeout (its own has none: a stuck server would hang the worker)."""

    def configure_host(self):
        state, timeout = self.mail, current_app.config["MAIL_TIMEOUT"]
        smtp = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp(state.server, state.port, timeout=timeout)
        try:
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except Exception:
            host.close()
            raise
        return host


class OutboxMessage(Message):
    """Flask-Mail's message, written out with the compat32 policy (CRLF line ends).

    Flask-Mail switches the finished message to ``policy.SMTP``, whose writer
    re-parses every header through the header registry: about half the CPU of a
    send. Our headers are already encoded by Flask-Mail (RFC 2047 for non-ASCII),
    so the classic writer gives an equivalent message for a fraction of the cost
    (except a non-ASCII subject, which it folds with a leading space).
    """

    def as_bytes(self) -> bytes:
        if not self.subject.isascii():  # an encoded subject folds badly under compat32: the slow path
            return super().as_bytes()
        mime = self._message()
        mime.policy = SMTP_COMPAT32
        return mime.as_bytes()


class _Kept:
    """One SMTP connection kept per worker process between jobs (a new one per
    email would cap throughput); dropped on any error or when idle too long."""

    connection: TimedConnection | None = None
    key: tuple | None = None
    used_at = 0.0

    @classmethod
    def get(cls) -> TimedConnection:
        state = current_app.extensions["mail"]
        key = (state.server, state.port, state.username, state.use_ssl, state.use_tls)
        idle = time.monotonic() - cls.used_at
        if cls.connection is not None and (cls.key != key or idle > MAX_IDLE
                                           or (idle > IDLE_CHECK and not cls._alive())):
            cls.drop()
        if cls.connection is None:
            cls.connection = TimedConnection(state)
            cls.connection.host = cls.connection.configure_host()
            cls.key = key
        return cls.connection

    @classmethod
    def _alive(cls) -> bool:
        try:
            return cls.connection.host.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    @classmethod
    def drop(cls) -> None:
        if cls.connection is not None and cls.connection.host is not None:
            try:
                cls.connection.host.close()
            except OSError:
                pass
        cls.connection = None


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot receive email (syntax only, no DNS), or None."""
    try:
        # No SMTPUTF8: Flask-Mail cannot write a non-ASCII local part, so such an address fails now.
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return f"Invalid recipient address {address!r}: {exc}"
    return None


def deliver(row) -> None:
    """Hand ``row`` to the SMTP server. Raises :class:`PermanentFailure` for 5xx
    refusals and bad headers; anything else (4xx, timeouts, refused connections)
    propagates as a temporary failure."""
    domain = (current_app.config["MAIL_DEFAULT_SENDER"] or "hospital.local").rsplit("@", 1)[-1].strip("> ")
    message = OutboxMessage(row.subject, recipients=[row.recipient], body=row.body_text, html=row.body_html,
                            sender=current_app.config["MAIL_DEFAULT_SENDER"],
                            extra_headers={"X-Hospital-Email": str(row.id), "X-Hospital-Kind": row.kind})
    message.msgId = f"<email-{row.id}.{int(row.created_at.timestamp())}@{domain}>"
    if current_app.extensions["mail"].suppress:
        log.info("MAIL_SUPPRESS_SEND is on: email %s not sent", row.id)
        return
    try:
        _Kept.get().send(message)
        _Kept.used_at = time.monotonic()
    except BadHeaderError:
        _Kept.drop()
        raise PermanentFailure("Bad header (a newline in the subject or an address)") from None
    except UnicodeError as exc:  # cannot be written as an SMTP message: retrying cannot help
        _Kept.drop()
        raise PermanentFailure(f"Cannot encode the message: {exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        _Kept.drop()
        codes = [code for code, _ in exc.recipients.values()]
        if codes and min(codes) >= 500:
            raise PermanentFailure(f"Recipient refused by the mail server: {_describe(exc)}") from None
        raise
    except smtplib.SMTPResponseException as exc:
        _Kept.drop()
        if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise PermanentFailure(f"Refused by the mail server: {_describe(exc)}") from None
        raise
    except Exception:
        _Kept.drop()
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for rcpt, (code, msg) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {error}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --- the job ---------------------------------------------------------------------

def _claim(message_id: int, now: datetime):
    """``queued`` → ``sending`` and one more attempt, in one statement; returns what the
    job needs of the row (or None when another run has it or it is done).
    Core statements on the table: the ORM's bulk-update machinery costs more than the query."""
    claimed = db.session.execute(update(OUTBOX).where(
        OUTBOX.c.id == message_id, OUTBOX.c.status == "queued", OUTBOX.c.attempts < emails.max_attempts())
        .values(status="sending", attempts=OUTBOX.c.attempts + 1, last_attempt_at=now, updated_at=now)
        .returning(*CLAIMED)).first()
    db.session.commit()
    return claimed


def _finish(message_id: int, **values) -> None:
    db.session.execute(update(OUTBOX).where(OUTBOX.c.id == message_id, OUTBOX.c.status == "sending")
                       .values(updated_at=utcnow(), **values))
    db.session.commit()


def send_email(message_id: int) -> str:
    """Send outbox row ``message_id``; returns ``sent``, ``failed``, or ``skipped`` (not queued).

    A temporary failure with attempts left puts the row back to ``queued`` and
    raises :class:`EmailDeferred`, so RQ's Retry runs the job again later.
    """
    row = _claim(message_id, utcnow())
    if row is None:
        return "skipped"
    try:
        problem = address_problem(row.recipient)
        if problem:
            raise PermanentFailure(problem)
        deliver(row)
    except PermanentFailure as exc:
        return _fail(row, str(exc))
    except Exception as exc:  # SMTP 4xx, timeouts, refused connections: temporary
        error = _describe(exc)
        if row.attempts >= emails.max_attempts():
            return _fail(row, error)
        delay = current_app.config["EMAIL_RETRY_INTERVALS"][row.attempts - 1]
        _finish(message_id, status="queued", last_error=error[:500],
                next_attempt_at=utcnow() + timedelta(seconds=delay))
        log.info("email %s attempt %s failed, retrying in %ss: %s", message_id, row.attempts, delay, error)
        raise EmailDeferred(f"email {message_id} attempt {row.attempts}: {error}") from None
    _finish(message_id, status="sent", sent_at=utcnow(), last_error=None)
    return "sent"


def _fail(row, error: str) -> str:
    """The row is ``failed`` for good: log a warning and tell the admins in the app."""
    _finish(row.id, status="failed", last_error=error[:500])
    log.warning("email %s (%s to %s) failed after %s attempt(s): %s", row.id, row.kind, row.recipient,
                row.attempts, error)
    try:  # the row is the record; the in-app notice is a courtesy that must not fail the job
        notifications.notify(emails.admin_ids(), "email_failed",
                             f"An email ({row.kind.replace('_', ' ')}) to {row.recipient} could not be sent: {error}",
                             "/admin/notifications?status=failed", row.appointment_id)
    except Exception:
        db.session.rollback()
        log.exception("could not notify the admins about failed email %s", row.id)
    return "failed"


# --- the sweep -------------------------------------------------------------------

def sweep_outbox(now: datetime | None = None, limit: int = 1000) -> int:
    """Re-enqueue what the queue lost (runs every minute); returns how many were enqueued.

    - ``sending`` rows older than ``EMAIL_STALE_SENDING`` (a killed worker) go back
      to ``queued``, or to ``failed`` if that was the last attempt;
    - ``queued`` rows due more than ``EMAIL_SWEEP_GRACE`` ago (Redis was down at
      commit, or a retry was lost) are enqueued unless their job is still alive.
    """
    now = now or utcnow()
    config = current_app.config
    stale = now - timedelta(seconds=config["EMAIL_STALE_SENDING"])
    abandoned = list(db.session.scalars(select(EmailMessage).where(
        EmailMessage.status == "sending", EmailMessage.last_attempt_at < stale).limit(limit)))
    rescued = []  # their jobs died with the worker (far past the job timeout): enqueue them now
    for row in abandoned:
        log.warning("email %s was left sending by a stopped worker; it may have gone out already", row.id)
        if row.attempts >= emails.max_attempts():
            _fail(row, "The worker stopped during the last attempt; the email may or may not have been sent")
        else:
            _finish(row.id, status="queued", next_attempt_at=now)
            rescued.append((row.id, row.attempts))
    due_before = now - timedelta(seconds=config["EMAIL_SWEEP_GRACE"])
    overdue = db.session.execute(select(EmailMessage.id, EmailMessage.attempts).where(
        EmailMessage.status == "queued", EmailMessage.next_attempt_at < due_before)
        .order_by(EmailMessage.id).limit(limit)).all()
    db.session.commit()
    rows = rescued + emails.without_live_jobs([tuple(r) for r in overdue])
    if rows:
        log.info("outbox sweep: enqueueing %d email(s)", len(rows))
    return emails.enqueue(rows)
