"""Socket.IO rooms and emit helpers, usable from web processes and RQ workers.

Every process emits through the Redis message queue (``socketio`` is bound to
it in :func:`hospital.create_app`); an RQ worker runs with
``ASYNC_MODE=threading`` so its SocketIO is a plain write-only emitter.
Payloads are small JSON: ids, strings, ISO times.
"""
from __future__ import annotations

import logging

from .extensions import socketio

log = logging.getLogger(__name__)

NOTIFICATIONS = "/notifications"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def role_room(role: str) -> str:
    return f"role:{role}"


def doctor_room(doctor_id: int) -> str:
    return f"doctor:{doctor_id}"


def appointment_room(appointment_id: int) -> str:
    return f"appointment:{appointment_id}"


def emit(event: str, payload: dict, room: str, namespace: str = NOTIFICATIONS) -> None:
    """Push ``event`` to ``room``. Never raises: a push is at-most-once and the
    data it announces is already stored (clients catch up on reconnect)."""
    try:
        socketio.emit(event, payload, to=room, namespace=namespace)
    except Exception:  # Redis down or similar: the stored row is the source of truth
        log.warning("socket emit of %s to %s failed", event, room, exc_info=True)
