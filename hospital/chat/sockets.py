"""Socket.IO namespace ``/chat``.

Connect: the same authentication as ``/notifications`` (session cookie or
``auth: {"token": <bearer token>}``; Origin checked by Engine.IO). Each
connection is put in its user's room (``user:<id>``) for inbox updates.

Client -> server (every handler answers with an acknowledgement):

- ``join`` ``{"appointment_id", "after"?}``: enter the appointment's room.
  Authorized on every join; ack ``{"ok", "appointment_id", "room", "closed",
  "can_write", "missed": [up to 200 messages after "after"]}``. Joining again every
  minute keeps the user counted as present (no offline notifications).
- ``leave`` ``{"appointment_id"}``.
- ``message`` ``{"appointment_id", "body"}``: authorized, rate-limited,
  stored, then pushed; ack ``{"ok": true, "id", "message"}``.
- ``typing`` ``{"appointment_id", "typing": bool}`` (after a join).
- ``read`` ``{"appointment_id", "up_to"}``: the other party's messages up to
  that id are read.

Server -> client: ``message`` (to the room, except the sending connection,
whose ack carries it) ``{"id", "appointment_id", "sender_id", "sender_name",
"body", "created_at", "read_at", "html"}``; ``typing``, ``read``, ``closed``
(to the room); ``inbox`` (to the user's room, when their inbox changed: a
message while they were away from the chat, their own read marks, closing);
``error`` ``{"message", "code", "appointment_id"}`` to the offender only, whose
ack is then ``{"ok": false, "error", "code"}`` (code ``signed_out``: the account
signed out or was deactivated; the connection is closed instead of acknowledged).
"""
from __future__ import annotations

from flask import request
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room, leave_room

from ..auth.sockets import socket_user
from ..errors import DomainError, InvalidInput, NotFound
from ..extensions import socketio
from ..realtime import appointment_room, user_room
from ..services import chat, chatstate
from .push import CHAT, present_all, publish, publish_read

_sessions: dict[str, tuple[int, str]] = {}  # sid -> (user id, session token at connect)
_joined: dict[str, dict[int, dict]] = {}  # sid -> {appointment id: {"can_write", "name"}}

CODES = {400: "invalid", 401: "signed_out", 403: "forbidden", 404: "not_found", 409: "closed", 422: "invalid",
         429: "rate_limited"}


@socketio.on("connect", namespace=CHAT)
def on_connect(auth=None):
    user = socket_user(auth)
    if user is None:
        raise ConnectionRefusedError("sign in first")
    _sessions[request.sid] = (user.id, user.session_token)
    join_room(user_room(user.id))
    return True


@socketio.on("disconnect", namespace=CHAT)
def on_disconnect(*_):
    entry = _sessions.pop(request.sid, None)
    for appointment_id in _joined.pop(request.sid, {}):
        if entry:
            chatstate.leave(appointment_id, entry[0], request.sid)


def _user() -> chat.Connection:
    """Who is on this connection; the chat services check the account afresh on every
    event (a deactivated account or a rotated session token ends the connection)."""
    entry = _sessions.get(request.sid)
    if entry is None:
        raise chat.SignedOut("Sign in first")
    return chat.Connection(*entry)


def _appointment_id(data) -> int:
    try:
        value = int((data or {}).get("appointment_id"))
    except (AttributeError, TypeError, ValueError):
        raise InvalidInput("appointment_id must be a number", {"appointment_id": ["Must be a number"]}) from None
    if value < 1:
        raise NotFound("No such appointment")
    return value


def _optional_int(data, key: str) -> int | None:
    value = (data or {}).get(key) if isinstance(data, dict) else None
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{key} must be a number", {key: ["Must be a number"]}) from None


def _fail(exc: DomainError, data=None) -> dict:
    """Tell the offender (only) what went wrong: an ``error`` event, and the ack.
    A signed-out account is disconnected after hearing why."""
    code = CODES.get(exc.status, "error")
    appointment_id = data.get("appointment_id") if isinstance(data, dict) else None
    emit("error", {"message": exc.detail, "code": code, "appointment_id": appointment_id}, to=request.sid)
    if isinstance(exc, chat.SignedOut):
        disconnect()
    return {"ok": False, "error": exc.detail, "code": code, **exc.extra}


@socketio.on("join", namespace=CHAT)
def on_join(data=None):
    try:
        user = _user()
        view = chat.open_chat(user, _appointment_id(data))
        after = _optional_int(data, "after")
    except DomainError as exc:
        return _fail(exc, data)
    join_room(appointment_room(view.appointment_id))
    _joined.setdefault(request.sid, {})[view.appointment_id] = {"can_write": view.can_write,
                                                                "name": view.name_of(user.id)}
    if view.is_party:
        chatstate.enter(view.appointment_id, user.id, request.sid)
    missed = present_all(view, chat.after(view, after), html=True) if after is not None else []
    return {"ok": True, "appointment_id": view.appointment_id, "room": appointment_room(view.appointment_id),
            "closed": view.closed, "can_write": view.can_write, "missed": missed}


@socketio.on("leave", namespace=CHAT)
def on_leave(data=None):
    try:
        appointment_id = _appointment_id(data)
    except DomainError as exc:
        return _fail(exc, data)
    if _joined.get(request.sid, {}).pop(appointment_id, None) is not None:
        leave_room(appointment_room(appointment_id))
        chatstate.leave(appointment_id, _sessions[request.sid][0], request.sid)
    return {"ok": True}


@socketio.on("message", namespace=CHAT)
def on_message(data=None):
    body = data.get("body") if isinstance(data, dict) else None
    try:
        stored, view = chat.post_message(_user(), _appointment_id(data), body)
    except DomainError as exc:
        return _fail(exc, data)
    return {"ok": True, "id": stored["id"], "message": publish(view, stored, sender_sid=request.sid)}


@socketio.on("typing", namespace=CHAT)
def on_typing(data=None):
    """Forwarded to the others in the room; only after an authorized join, never in a read-only chat."""
    try:
        appointment_id = _appointment_id(data)
    except DomainError as exc:
        return _fail(exc, data)
    joined = _joined.get(request.sid, {}).get(appointment_id)
    if joined is None or not joined["can_write"]:
        return {"ok": False, "error": "Join the chat first", "code": "forbidden"}
    emit("typing", {"appointment_id": appointment_id, "user_id": _sessions[request.sid][0], "name": joined["name"],
                    "typing": bool(data.get("typing", True))},
         to=appointment_room(appointment_id), skip_sid=request.sid)
    return {"ok": True}


@socketio.on("read", namespace=CHAT)
def on_read(data=None):
    try:
        user = _user()
        up_to = _optional_int(data, "up_to")
        if up_to is None:
            raise InvalidInput("up_to is required", {"up_to": ["The id of the last message read"]})
        changed, read_at, view = chat.mark_read(user, _appointment_id(data), up_to)
    except DomainError as exc:
        return _fail(exc, data)
    if changed:
        publish_read(view, up_to, read_at)
    return {"ok": True, "marked": changed}
