"""Who is on the other end of a Socket.IO connection.

A browser is recognised by its Flask-Login session cookie; an API client by
``auth: {"token": <bearer token>}``. The Origin header is checked by
Engine.IO itself (``SOCKETIO_ALLOWED_ORIGINS``; same origin when unset).
"""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from ..services.accounts import user_from_token


def socket_user(auth: dict | None):
    """The signed-in user for a connect handler, or None (refuse the connection)."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        return user_from_token(str(token), current_app.config["SECRET_KEY"], current_app.config["API_TOKEN_MAX_AGE"])
    return None
