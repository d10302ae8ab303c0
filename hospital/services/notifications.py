"""Stored notifications: create (row first, push second), list, count, mark read."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import ROLES, Notification, User, utcnow
from ..realtime import emit, role_room, user_room
from .pagination import Page, paginate

log = logging.getLogger(__name__)
MAX_TEXT = 500


def notify(user_ids: Iterable[int], kind: str, text: str, link: str | None = None,
           appointment_id: int | None = None, dedupe: str | None = None,
           live_event: str | None = None, live_payload: dict | None = None) -> list[Notification]:
    """Store a notification per user, commit, then push it live to each user's room.

    ``dedupe`` (e.g. ``"reminder-15m:42"``) makes the notification once-only per
    user: a second call with the same key stores and pushes nothing.
    ``live_event`` additionally pushes that event (e.g. ``appointment_status``)
    with ``live_payload`` to each user's room.
    """
    rows = [Notification(user_id=user_id, kind=kind, text=text[:MAX_TEXT], link=link, appointment_id=appointment_id,
                         dedupe_key=f"{dedupe}:{user_id}" if dedupe else None)
            for user_id in dict.fromkeys(user_ids)]
    created = _store_once(rows) if dedupe else _store(rows)
    for row in created:
        emit("notification", row.to_payload(), user_room(row.user_id))
        if live_event:
            emit(live_event, live_payload or {}, user_room(row.user_id))
    return created


def _store(rows: list[Notification]) -> list[Notification]:
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _store_once(rows: list[Notification]) -> list[Notification]:
    """Store each row unless its dedupe key exists; a concurrent sender's row wins."""
    created = []
    for row in rows:
        if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == row.dedupe_key)):
            continue
        db.session.add(row)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        created.append(row)
    return created


def broadcast(role: str, kind: str, text: str, link: str | None = None) -> int:
    """Store a notification for every active user of ``role`` and push it with one
    emit to the role's room (each client's bell re-reads its own count)."""
    recipients = list(db.session.scalars(select(User.id).where(User.role == role, User.active.is_(True))))
    rows = _store([Notification(user_id=user_id, kind=kind, text=text[:MAX_TEXT], link=link) for user_id in recipients])
    emit("notification", {"id": None, "kind": kind, "text": text[:MAX_TEXT], "link": link, "appointment_id": None,
                          "created_at": utcnow().isoformat(), "read": False, "broadcast": True}, role_room(role))
    return len(rows)


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def recent(user_id: int, limit: int = 8) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def page_for(user_id: int, page=None, per_page=None, unread_only: bool = False) -> Page:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return paginate(query.order_by(Notification.id.desc()), page, per_page)


def missed(user_id: int, after_id: int, limit: int = 100) -> list[Notification]:
    """What a reconnecting client missed: the user's notifications after ``after_id``, oldest first."""
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.id > after_id).order_by(Notification.id).limit(limit)))


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one notification (or all when id is None) read; returns how many changed.
    Someone else's notification is a 404."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        if db.session.scalar(select(Notification.user_id).where(Notification.id == notification_id)) != user_id:
            raise NotFound("No such notification")
        query = query.where(Notification.id == notification_id)
    changed = db.session.execute(query.values(read_at=utcnow())).rowcount
    db.session.commit()
    emit("notifications_read", {"unread": unread_count(user_id)}, user_room(user_id))
    return changed


def admin_push(actor: User, text: str, user_id: int | None = None, role: str | None = None,
               link: str | None = None) -> int:
    """An admin's message to one user or to every active user of a role; returns how many got it."""
    if actor.role != "admin":
        raise NotFound("Not found")
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput("Write a message of 1 to 500 characters", {"text": ["1 to 500 characters"]})
    if link and not link.startswith("/"):
        raise InvalidInput("Links must be paths inside the app", {"link": ["Start with /"]})
    if (user_id is None) == (role is None):
        raise InvalidInput("Send to a user or to a role", {"user_id": ["Give user_id or role"]})
    if user_id is not None:
        if db.session.get(User, user_id) is None:
            raise NotFound("No such user", {"user_id": ["Unknown user"]})
        sent = len(notify([user_id], "message", text, link))
    else:
        if role not in ROLES:
            raise InvalidInput("Unknown role", {"role": [f"One of: {', '.join(ROLES)}"]})
        sent = broadcast(role, "message", text, link)
    log.info("admin push", extra={"actor_id": actor.id, "recipients": sent, "role": role})
    return sent
