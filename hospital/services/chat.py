"""Chat about an appointment: who may read and write, storing, history, read marks, closing.

Authorization, checked by :func:`open_chat` on every call: the appointment
must be visible to the user -- its patient, its doctor, or an admin, the rule
of :func:`appointments.visible_to` -- otherwise :class:`NotFound` (404), so
nothing about another appointment's chat leaks. Admins may read but never
write, mark read or close (403). A closed chat is read-only for everyone (409).

Sending is the hot path (every chat message), so it uses column queries and a
Core insert: one query for the chat, one insert, one commit.

Chats of cancelled or past appointments stay readable and writable until the
doctor closes them: a patient may still need to ask about a cancelled visit.
The inbox (conversations with unread counts) is in :mod:`.chatinbox`.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..models import Appointment, ChatClosure, ChatMessage, Clinic, Doctor, Notification, Patient, User, utcnow
from ..models.chat import MAX_BODY
from . import chatstate, notifications
from .pagination import Page, paginate

log = logging.getLogger(__name__)
HISTORY = 30  # messages shown when a chat opens, and per "load older"
CATCH_UP = 200  # at most this many messages per catch-up answer (ask again after the last)


class RateLimited(DomainError):
    status = 429


@dataclass(frozen=True)
class ChatView:
    """What a user may do in one appointment's chat, as plain values.

    Detached from the database session, so it stays valid after commits and
    can be handed to templates and socket handlers.
    """

    appointment_id: int
    user_id: int
    role: str
    doctor_user_id: int
    patient_user_id: int
    doctor_name: str
    patient_name: str
    appointment_status: str
    start_at: datetime
    timezone: str
    closed_at: datetime | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_party(self) -> bool:
        return self.user_id in (self.doctor_user_id, self.patient_user_id)

    @property
    def can_write(self) -> bool:
        return self.is_party and not self.closed

    @property
    def can_close(self) -> bool:
        return self.user_id == self.doctor_user_id and not self.closed

    @property
    def counterpart_user_id(self) -> int | None:
        """Who receives what this user writes (None for an admin, who writes nothing)."""
        if self.user_id == self.doctor_user_id:
            return self.patient_user_id
        return self.doctor_user_id if self.user_id == self.patient_user_id else None

    def name_of(self, user_id: int | None) -> str:
        return self.names.get(user_id, "Clinic staff")

    @property
    def names(self) -> dict[int, str]:
        return {self.doctor_user_id: self.doctor_name, self.patient_user_id: self.patient_name}


class SignedOut(DomainError):
    status = 401


@dataclass(frozen=True)
class Connection:
    """A socket connection's user as at connect: id and session token, no database row.

    :func:`open_chat` checks, in the same query as the chat, that the account
    is still active and the token still its own (signing out rotates it).
    """

    id: int
    session_token: str


@functools.cache
def _chat_query(with_session: bool):
    """The chat's one query, built once: constructing a select costs more CPU than running it."""
    columns = [Appointment.id, Doctor.user_id, Patient.user_id, Doctor.name, Patient.name, Appointment.status,
               Appointment.start_at, Clinic.timezone, ChatClosure.closed_at]
    if with_session:
        columns.append(select(User.role).where(User.id == bindparam("user_id"), User.active.is_(True),
                                               User.session_token == bindparam("session_token")).scalar_subquery())
    return (select(*columns).join(Doctor, Doctor.id == Appointment.doctor_id)
            .join(Patient, Patient.id == Appointment.patient_id).join(Clinic, Clinic.id == Doctor.clinic_id)
            .outerjoin(ChatClosure, ChatClosure.appointment_id == Appointment.id)
            .where(Appointment.id == bindparam("appointment_id")))


_INSERT = insert(ChatMessage.__table__).returning(ChatMessage.__table__.c.id)


def open_chat(user: User | Connection | None, appointment_id: int) -> ChatView:
    """The chat of ``appointment_id`` as ``user`` may use it; 404 unless the appointment is visible to them.

    Visible means what :func:`appointments.visible_to` means: admins see every
    appointment, a patient or doctor the ones whose patient or doctor profile
    is theirs -- here compared by user id, since a profile belongs to exactly
    one user. One column query loads the appointment, both people and the
    closure (and, for a :class:`Connection`, the user's role: :class:`SignedOut` if gone).
    """
    if user is None:
        raise NotFound("No such appointment")
    if isinstance(user, Connection):
        params = {"appointment_id": appointment_id, "user_id": user.id, "session_token": user.session_token}
    else:
        params = {"appointment_id": appointment_id}
    row = db.session.execute(_chat_query(isinstance(user, Connection)), params).first()
    role = user.role if not isinstance(user, Connection) else (row[-1] if row else "")
    if role is None:
        raise SignedOut("Your session ended; sign in again")
    if row is None or not (role == "admin" or user.id in (row[1], row[2])):
        raise NotFound("No such appointment")
    return ChatView(row[0], user.id, role, *row[1:9])


def clean_body(body) -> str:
    """Plain text, trimmed, 1 to 2,000 characters (NUL characters dropped: PostgreSQL refuses them)."""
    if not isinstance(body, str):
        raise InvalidInput("Write a message of 1 to 2,000 characters", {"body": ["Text is required"]})
    text = body.replace("\x00", "").strip()
    if not text:
        raise InvalidInput("Write a message first: it is empty", {"body": ["Write 1 to 2,000 characters"]})
    if len(text) > MAX_BODY:
        raise InvalidInput(f"Messages are at most 2,000 characters (this one has {len(text):,})",
                           {"body": ["At most 2,000 characters"]})
    return text


def payload(message: ChatMessage) -> dict:
    """The message as pushed over Socket.IO and returned by the API (ISO times, no ORM objects)."""
    return {"id": message.id, "appointment_id": message.appointment_id, "sender_id": message.sender_id,
            "body": message.body, "created_at": message.created_at.isoformat(),
            "read_at": message.read_at.isoformat() if message.read_at else None}


def post_message(user: User | Connection | None, appointment_id: int, body) -> tuple[dict, ChatView]:
    """Store ``body`` from ``user`` in the appointment's chat and return (payload, view).

    Checks, in order: the body (422), the user's message rate (429, nothing
    stored), the appointment is visible (404), the user is its patient or
    doctor (403 for admins), the chat is open (409). The message is committed
    before this returns; pushing it is the caller's next step.
    """
    text = clean_body(body)
    if user is None:
        raise NotFound("No such appointment")
    wait = chatstate.take_message_slot(user.id)
    if wait:
        raise RateLimited(f"You are sending messages too fast: wait {wait:.0f} s and try again",
                          retry_after=round(wait, 1))
    view = open_chat(user, appointment_id)
    if not view.is_party:
        raise Forbidden("Admins can read this chat but not write in it")
    if view.closed:
        raise Conflict("This chat is closed: the doctor ended it, so it can be read but not written in")
    created = utcnow()
    message_id = db.session.scalar(_INSERT, {"appointment_id": view.appointment_id, "sender_id": user.id,
                                             "body": text, "created_at": created})
    db.session.commit()
    return {"id": message_id, "appointment_id": view.appointment_id, "sender_id": user.id, "body": text,
            "created_at": created.isoformat(), "read_at": None}, view


def recipient_away(view: ChatView) -> bool:
    """Whether the one who receives what ``view``'s user writes has no connection in the chat's room."""
    recipient = view.counterpart_user_id
    return recipient is not None and not chatstate.is_present(view.appointment_id, recipient)


def notify_away(view: ChatView, data: dict) -> bool:
    """Store (and push) a notification of message ``data`` for the recipient; True if one was stored.

    One unread chat notification per appointment is enough: while the
    recipient has not read the last one, later messages add nothing.
    """
    recipient = view.counterpart_user_id
    waiting = db.session.scalar(select(Notification.id).where(
        Notification.user_id == recipient, Notification.kind == "chat_message",
        Notification.appointment_id == view.appointment_id, Notification.read_at.is_(None)).limit(1))
    if recipient is None or waiting:
        return False
    sender = view.name_of(view.user_id)
    preview = data["body"] if len(data["body"]) <= 80 else data["body"][:79] + "…"
    notifications.notify([recipient], "chat_message", f"New message from {sender}: {preview}",
                         f"/chat/connect?appointment_id={view.appointment_id}", view.appointment_id)
    return True


def notify_if_away(view: ChatView, data: dict) -> bool:
    """A message to someone who does not have the chat open becomes a stored notification."""
    return recipient_away(view) and notify_away(view, data)


def _messages(appointment_id: int):
    return select(ChatMessage).where(ChatMessage.appointment_id == appointment_id)


def latest(view: ChatView, before: int | None = None, limit: int = HISTORY) -> tuple[list[ChatMessage], bool]:
    """Up to ``limit`` messages before id ``before`` (or the newest), oldest first, and whether older exist."""
    query = _messages(view.appointment_id)
    if before is not None:
        query = query.where(ChatMessage.id < before)
    rows = list(db.session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit + 1)))
    return rows[:limit][::-1], len(rows) > limit


def after(view: ChatView, after_id: int, limit: int = CATCH_UP) -> list[ChatMessage]:
    """Messages after id ``after_id``, oldest first: what a reconnecting client missed."""
    return list(db.session.scalars(_messages(view.appointment_id).where(ChatMessage.id > after_id)
                                   .order_by(ChatMessage.id).limit(limit)))


def page(view: ChatView, page_number=None, per_page=None, after_id: int | None = None) -> Page:
    """The API's pages: newest first, or oldest first after ``after_id`` (catch-up)."""
    query = _messages(view.appointment_id)
    if after_id is not None:
        return paginate(query.where(ChatMessage.id > after_id).order_by(ChatMessage.id), page_number, per_page)
    return paginate(query.order_by(ChatMessage.id.desc()), page_number, per_page)


def mark_read(user: User | Connection | None, appointment_id: int, up_to: int) -> tuple[int, datetime | None, ChatView]:
    """Mark the other party's messages up to id ``up_to`` read by ``user``; returns (how many, when, view).

    Admins reading a chat mark nothing: read marks tell the sender their
    counterpart saw the message.
    """
    view = open_chat(user, appointment_id)
    if not view.is_party:
        return 0, None, view
    now = utcnow()
    changed = db.session.execute(update(ChatMessage).where(
        ChatMessage.appointment_id == view.appointment_id, ChatMessage.id <= up_to, ChatMessage.read_at.is_(None),
        or_(ChatMessage.sender_id != view.user_id, ChatMessage.sender_id.is_(None))).values(read_at=now)).rowcount
    db.session.commit()
    return changed, (now if changed else None), view


def close(user: User | None, appointment_id: int) -> ChatView:
    """The doctor closes the chat; it is read-only from then on. Closing twice is harmless.

    Patients and admins get 403; anyone who cannot see the appointment 404.
    """
    view = open_chat(user, appointment_id)
    if view.user_id != view.doctor_user_id:
        raise Forbidden("Only the doctor can close this chat")
    if not view.closed:
        db.session.add(ChatClosure(appointment_id=view.appointment_id, closed_by_id=view.user_id))
        try:
            db.session.commit()
        except IntegrityError:  # closed at the same moment in another tab: same outcome
            db.session.rollback()
        log.info("chat closed", extra={"appointment_id": view.appointment_id, "actor_id": view.user_id})
    return open_chat(user, appointment_id)
