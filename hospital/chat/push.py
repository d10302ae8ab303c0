"""Live pushes of the chat, used by the socket handlers and the HTML/API views alike.

Every push follows the store: a message is committed before :func:`publish`
sends it. Chat is the one place where the server pushes a rendered fragment
(DESIGN §5.9): the ``html`` key of a ``message`` event is the message rendered
by ``chat/_message.html`` with Jinja's autoescaping, so the browser inserts
markup that can hold the sender's text only as text.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from ..extensions import db, socketio
from ..realtime import appointment_room, emit, user_room
from ..services import chat
from ..services.chat import ChatView
from . import bp

log = logging.getLogger(__name__)
CHAT = "/chat"


@bp.app_template_filter("chat_time")
def chat_time(value, timezone: str, with_day: bool = True) -> str:
    """A message time (datetime or ISO string) in the clinic's zone: 'Mon 30 Nov, 09:05'."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b, %H:%M}" if with_day else f"{local:%H:%M}"


def present(view: ChatView, data: dict, html: bool = False) -> dict:
    """A message payload plus its sender's name (and, for pushes, the escaped HTML fragment)."""
    full = {**data, "sender_name": view.name_of(data["sender_id"])}
    if html:
        # The template straight from the environment: render_template's context processors
        # (current_user, csrf_token, ...) would load the session user once per message.
        template = current_app.jinja_env.get_template("chat/_message.html")
        full["html"] = template.render(m=full, view=view, viewer_id=None)
    return full


def present_all(view: ChatView, messages, html: bool = False) -> list[dict]:
    return [present(view, chat.payload(m), html) for m in messages]


def _inbox_rooms(view: ChatView) -> list[str]:
    return [user_room(view.doctor_user_id), user_room(view.patient_user_id)]


def publish(view: ChatView, data: dict, sender_sid: str | None = None) -> dict:
    """Push a stored message to its room; if the recipient is away, refresh their inbox and notify them.

    The sending connection (``sender_sid``) is skipped: its acknowledgement
    carries the message, and the sender's other tabs get it from the room.
    A recipient with the chat open needs no inbox push: their ``read`` will
    refresh it. Returns the pushed payload.
    """
    full = present(view, data, html=True)
    try:
        socketio.emit("message", full, to=appointment_room(view.appointment_id), skip_sid=sender_sid, namespace=CHAT)
    except Exception:  # Redis down: the message is stored; clients catch up after their last id
        log.warning("chat push of message %s failed", data["id"], exc_info=True)
    if chat.recipient_away(view):
        emit("inbox", {"appointment_id": view.appointment_id, "message_id": data["id"]},
             user_room(view.counterpart_user_id), namespace=CHAT)
        try:
            chat.notify_away(view, data)
        except Exception:  # the message is stored and pushed; a missing notification must not fail the send
            db.session.rollback()
            log.exception("chat notification failed for message %s", data["id"])
    return full


def publish_read(view: ChatView, up_to: int, read_at: datetime) -> None:
    """Read marks for the sender, and new unread counts for the reader's inbox."""
    emit("read", {"appointment_id": view.appointment_id, "reader_id": view.user_id, "up_to": up_to,
                  "read_at": read_at.isoformat()}, appointment_room(view.appointment_id), namespace=CHAT)
    emit("inbox", {"appointment_id": view.appointment_id}, user_room(view.user_id), namespace=CHAT)


def publish_closed(view: ChatView) -> None:
    emit("closed", {"appointment_id": view.appointment_id, "closed_by": view.user_id,
                    "closed_at": view.closed_at.isoformat() if view.closed_at else None},
         appointment_room(view.appointment_id), namespace=CHAT)
    emit("inbox", {"appointment_id": view.appointment_id}, _inbox_rooms(view), namespace=CHAT)
