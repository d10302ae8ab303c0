"""Chat pages: the panel (``/chat/connect``), history fragments, sending without a socket, closing, the inbox.

Every view goes through :mod:`hospital.services.chat`, whose ``open_chat``
answers 404 unless the caller is the appointment's patient, its doctor or an
admin. ``/chat/connect`` also answers API clients (a bearer token, or
``Accept: application/json``) with JSON: the room, recent history and how to
open the socket.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..api.security import bearer_user
from ..auth.access import role_required
from ..errors import DomainError, InvalidInput, problem
from ..realtime import appointment_room
from ..services import chat, chatinbox, chatstate
from ..webhelpers import page_or_fragment, parse_id, wants_fragment
from . import bp
from .push import CHAT, present_all, publish, publish_closed


def _wants_json() -> bool:
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _json_errors(view):
    """Under /chat errors are HTML pages; a JSON caller gets application/problem+json instead."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except DomainError as exc:
            if _wants_json():
                return problem(exc.status, exc.detail, exc.errors, **exc.extra)
            raise
    return wrapped


def _panel_context(view, error=None, draft=""):
    messages, has_older = chat.latest(view)
    items = present_all(view, messages)
    return {"view": view, "messages": items, "has_older": has_older, "error": error, "draft": draft,
            "first_id": items[0]["id"] if items else 0, "last_id": items[-1]["id"] if items else 0}


def _caller():
    """A bearer token's user when one is sent, else the signed-in session's user, else None."""
    if request.headers.get("Authorization"):
        return bearer_user()
    return current_user._get_current_object() if current_user.is_authenticated else None


def _unauthorized():
    if not _wants_json():
        return current_app.login_manager.unauthorized()
    response = problem(401, "Sign in or send a valid bearer token")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@bp.get("/connect")
@_json_errors
def connect():
    """The chat of one appointment: the panel (page, or fragment for htmx) or, for API clients, JSON."""
    user = _caller()
    if user is None:
        return _unauthorized()
    appointment_id = parse_id(request.args.get("appointment_id"), "appointment_id")
    if appointment_id is None:
        raise InvalidInput("Say which appointment: ?appointment_id=", {"appointment_id": ["Required"]})
    view = chat.open_chat(user, appointment_id)
    context = _panel_context(view)
    if _wants_json():
        return _connect_json(view, context)
    return page_or_fragment("chat/connect.html", "chat/_panel.html", **context)


def _connect_json(view, context) -> dict:
    return {"appointment_id": view.appointment_id, "room": appointment_room(view.appointment_id),
            "can_write": view.can_write, "closed": view.closed,
            "closed_at": view.closed_at.isoformat() if view.closed_at else None,
            "messages": context["messages"], "has_older": context["has_older"], "last_id": context["last_id"],
            "history_url": url_for("api_chat.list_messages", appointment_id=view.appointment_id),
            "socket": {"url": request.host_url.rstrip("/"), "path": "/socket.io", "namespace": CHAT,
                       "transports": ["websocket", "polling"],
                       "auth": "Socket.IO auth {\"token\": <your bearer token>}; browsers use their session cookie",
                       "join": {"event": "join", "data": {"appointment_id": view.appointment_id,
                                                          "after": context["last_id"]}},
                       "client_events": ["join", "leave", "message", "typing", "read"],
                       "server_events": ["message", "typing", "read", "closed", "inbox", "error"]},
            "limits": {"body_max": 2000, "messages_per_window": list(chatstate.rate_limit())}}


@bp.get("/<int:appointment_id>/messages")
@login_required
def history(appointment_id: int):
    """A fragment of messages: older than ``before`` ("load older"), or newer than ``after`` (catch-up)."""
    view = chat.open_chat(current_user._get_current_object(), appointment_id)
    if request.args.get("after") is not None:
        messages, has_older = chat.after(view, _id_arg("after")), False
    else:
        messages, has_older = chat.latest(view, before=_id_arg("before") or None)
    items = present_all(view, messages)
    return render_template("chat/_history.html", view=view, messages=items, has_older=has_older,
                           first_id=items[0]["id"] if items else 0)


def _id_arg(name: str) -> int:
    """A message id from the query string: 0 when absent or "0", else a positive number (422 otherwise)."""
    value = request.args.get(name)
    return 0 if value in (None, "", "0") else parse_id(value, name)


@bp.post("/<int:appointment_id>/messages")
@login_required
def send(appointment_id: int):
    """Sending without a socket (no JavaScript, or the socket is down); the socket path is ``message``."""
    user = current_user._get_current_object()
    body = request.form.get("body", "")
    try:
        stored, view = chat.post_message(user, appointment_id, body)
    except DomainError as exc:
        if exc.status == 404:
            raise
        view = chat.open_chat(user, appointment_id)
        return page_or_fragment("chat/connect.html", "chat/_panel.html", exc.status,
                                **_panel_context(view, error=exc.detail, draft=body))
    publish(view, stored)
    if wants_fragment():
        return render_template("chat/_panel.html", **_panel_context(view))
    return redirect(url_for("chat.connect", appointment_id=appointment_id), 303)


@bp.post("/<int:appointment_id>/close")
@role_required("doctor")
def close(appointment_id: int):
    """The doctor ends the chat (read-only from then on); htmx gets the panel back."""
    view = chat.close(current_user._get_current_object(), appointment_id)
    publish_closed(view)
    if wants_fragment():
        return render_template("chat/_panel.html", **_panel_context(view))
    flash("The chat is closed. It stays readable.", "success")
    return redirect(url_for("chat.connect", appointment_id=appointment_id), 303)


@bp.get("/inbox")
@role_required("doctor", "patient")
def inbox():
    """Conversations with unread counts and the last message; live via the ``inbox`` socket event."""
    compact = request.args.get("compact") == "1"
    entries = chatinbox.inbox(current_user._get_current_object(), limit=5 if compact else 50)
    return page_or_fragment("chat/inbox.html", "chat/_inbox.html", entries=entries, compact=compact)
