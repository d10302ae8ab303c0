"""Socket.IO namespace ``/notifications``: one room per user, one for admins."""
from flask import request
from flask_socketio import ConnectionRefusedError, join_room

from ..auth.sockets import socket_user
from ..extensions import socketio
from ..realtime import NOTIFICATIONS, role_room, user_room
from ..services import notifications, presence

_users: dict[str, int] = {}  # sid -> user id, for handlers after connect


@socketio.on("connect", namespace=NOTIFICATIONS)
def on_connect(auth=None):
    user = socket_user(auth)
    if user is None:
        raise ConnectionRefusedError("sign in first")
    _users[request.sid] = user.id
    join_room(user_room(user.id))
    join_room(role_room(user.role))
    presence.joined(request.sid, user.id)  # "connected users now" on the admin's analytics
    return True


@socketio.on("disconnect", namespace=NOTIFICATIONS)
def on_disconnect(*_):
    _users.pop(request.sid, None)
    presence.left(request.sid)


@socketio.on("missed", namespace=NOTIFICATIONS)
def on_missed(data=None):
    """A reconnecting client asks for what it missed: ``{"after": <last id>}`` -> list (ack)."""
    user_id = _users.get(request.sid)
    try:
        after = int((data or {}).get("after", 0))
    except (AttributeError, TypeError, ValueError):
        after = 0
    if user_id is None:
        return []
    return [n.to_payload() for n in notifications.missed(user_id, after)]


@socketio.on("join", namespace=NOTIFICATIONS)
def on_join(data=None):
    """Rooms are the server's business: a client asking to join any room is ignored."""
    return {"ok": False, "message": "rooms are assigned by the server"}
