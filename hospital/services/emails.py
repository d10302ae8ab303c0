"""The email outbox: rows queued in the caller's transaction, enqueued after commit.

- :func:`queue` adds an :class:`EmailMessage` to the current transaction (it
  never commits); the change that causes an email and the email commit together.
- :func:`install_outbox_hooks` makes every commit that created outbox rows
  enqueue their send jobs (``hospital.jobs.emails.send_email``) after the commit.
  If Redis is down the rows stay ``queued`` and the minute sweep enqueues them.
- Monitoring (:func:`status_counts`, :func:`search`) and the admin's :func:`retry`.
"""
from __future__ import annotations

import logging

import redis
from flask import current_app, render_template
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..jobs.queue import get_queue, redis_connection
from ..models import EMAIL_KINDS, EMAIL_STATUSES, EmailMessage, User, utcnow
from .pagination import Page, paginate

log = logging.getLogger(__name__)
SEND_JOB = "hospital.jobs.emails.send_email"
SEND_TIMEOUT = 120  # seconds; keep well under EMAIL_STALE_SENDING
_PENDING = "hospital_outbox_ids"
# An RQ job in one of these states will still run: the sweep leaves its row alone.
LIVE_JOB_STATES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}


def job_id(message_id: int) -> str:
    return f"email-{message_id}"


def render(template: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of ``templates/email/<template>.txt`` and ``.html``."""
    context.setdefault("base_url", current_app.config["PUBLIC_BASE_URL"].rstrip("/"))
    return (render_template(f"email/{template}.txt", **context),
            render_template(f"email/{template}.html", **context))


def queue(recipient: str, kind: str, subject: str, template: str, context: dict, *, dedupe_key: str | None = None,
          appointment_id: int | None = None, clinic_id: int | None = None) -> EmailMessage | None:
    """Add an outbox row to the current transaction (no commit).

    Returns None when a row with ``dedupe_key`` exists already (the email was
    queued before). Bodies are rendered now, so an email shows what was true
    when it was caused.
    """
    if dedupe_key and db.session.scalar(select(EmailMessage.id).where(EmailMessage.dedupe_key == dedupe_key)):
        return None
    text, html = render(template, **context)
    row = EmailMessage(recipient=recipient, kind=kind, subject=subject[:200], body_text=text, body_html=html,
                       dedupe_key=dedupe_key, appointment_id=appointment_id, clinic_id=clinic_id,
                       next_attempt_at=utcnow())
    db.session.add(row)
    return row


def queue_once(*args, **kwargs) -> EmailMessage | None:
    """:func:`queue` inside a savepoint: a concurrent run that inserted the same
    dedupe key first wins, and this call returns None instead of failing."""
    try:
        with db.session.begin_nested():
            row = queue(*args, **kwargs)
            db.session.flush()
    except IntegrityError:
        return None
    return row


# --- enqueue after commit ----------------------------------------------------

def _collect(session, _flush_context) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, EmailMessage)]
    if ids:
        session.info.setdefault(_PENDING, []).extend(ids)


def _enqueue_committed(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: wait for the real commit
    ids = session.info.pop(_PENDING, None)
    if ids:
        enqueue([(message_id, 0) for message_id in ids])


def _forget(session, *_) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


def install_outbox_hooks() -> None:
    """Enqueue the send jobs of outbox rows once their transaction commits (idempotent)."""
    for name, handler in (("after_flush", _collect), ("after_commit", _enqueue_committed),
                          ("after_rollback", _forget)):
        if not event.contains(Session, name, handler):
            event.listen(Session, name, handler)


def retry_policy(attempts_done: int) -> Retry | None:
    """RQ's Retry for the attempts still allowed: at most ``len(EMAIL_RETRY_INTERVALS) + 1`` in all."""
    intervals = list(current_app.config["EMAIL_RETRY_INTERVALS"])[attempts_done:]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def max_attempts() -> int:
    return len(current_app.config["EMAIL_RETRY_INTERVALS"]) + 1


def enqueue(rows: list[tuple[int, int]]) -> int:
    """Enqueue send jobs for ``(message_id, attempts_done)`` pairs in one round trip.

    Never raises: with Redis down the rows stay queued and the sweep enqueues
    them later. Returns how many were enqueued.
    """
    if not rows:
        return 0
    try:
        queue_ = get_queue()
        jobs = [queue_.prepare_data(SEND_JOB, (message_id,), job_id=job_id(message_id), retry=retry_policy(done),
                                    description=f"email {message_id}", timeout=SEND_TIMEOUT, result_ttl=600,
                                    failure_ttl=7 * 86400)
                for message_id, done in rows]
        queue_.enqueue_many(jobs)
    except redis.RedisError as exc:
        log.warning("could not enqueue %d email(s), the sweep will (%s)", len(rows), exc)
        return 0
    return len(rows)


def without_live_jobs(rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop rows whose send job is still queued, scheduled (a retry) or running."""
    if not rows:
        return rows
    jobs = Job.fetch_many([job_id(message_id) for message_id, _ in rows], connection=redis_connection())
    return [row for row, job in zip(rows, jobs) if job is None or job.get_status(refresh=False) not in LIVE_JOB_STATES]


# --- monitoring ------------------------------------------------------------------

def status_counts() -> dict[str, int]:
    """How many emails are in each status (every status present, zero included)."""
    counts = dict(db.session.execute(select(EmailMessage.status, func.count()).group_by(EmailMessage.status)).all())
    return {status: counts.get(status, 0) for status in EMAIL_STATUSES}


def search(status: str | None = None, kind: str | None = None, page=None, per_page=None) -> Page:
    """Emails, latest first, filtered by status and kind (422 naming a bad filter)."""
    if status and status not in EMAIL_STATUSES:
        raise InvalidInput("Unknown status", {"status": [f"One of: {', '.join(EMAIL_STATUSES)}"]})
    if kind and kind not in EMAIL_KINDS:
        raise InvalidInput("Unknown kind", {"kind": [f"One of: {', '.join(EMAIL_KINDS)}"]})
    query = select(EmailMessage)
    if status:
        query = query.where(EmailMessage.status == status)
    if kind:
        query = query.where(EmailMessage.kind == kind)
    return paginate(query.order_by(EmailMessage.id.desc()), page, per_page)


def get(message_id: int) -> EmailMessage:
    row = db.session.get(EmailMessage, message_id)
    if row is None:
        raise NotFound("No such email")
    return row


def retry(actor: User, message_id: int) -> EmailMessage:
    """An admin sends a failed email again: three fresh attempts.

    Admins only (others get 404). Only a ``failed`` row can be retried (409);
    the retry is logged with the admin's id.
    """
    if actor.role != "admin":
        raise NotFound("Not found")
    row = db.session.get(EmailMessage, message_id, with_for_update=True)
    if row is None:
        raise NotFound("No such email")
    if row.status != "failed":
        db.session.rollback()
        raise Conflict(f"Only failed emails can be retried; this one is {row.status}", current_status=row.status)
    row.status, row.attempts, row.next_attempt_at = "queued", 0, utcnow()
    db.session.commit()
    log.info("email retry requested", extra={"email_id": row.id, "actor_id": actor.id})
    enqueue([(row.id, 0)])
    return row


def admin_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))))
