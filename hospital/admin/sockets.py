"""Socket.IO namespace ``/admin``: live analytics for admins only.

Connect checks: a signed-in session (or ``auth: {"token": …}``) whose account
is an admin; anyone else is refused without saying why, like the 404 of the
pages. Admins join ``role:admin``, where :mod:`hospital.services.analytics_live`
sends ``analytics_changed``. Clients cannot pick rooms.
"""
from flask_socketio import ConnectionRefusedError, join_room

from ..auth.sockets import socket_user
from ..extensions import socketio
from ..realtime import role_room
from ..services.analytics_live import ADMIN


@socketio.on("connect", namespace=ADMIN)
def on_connect(auth=None):
    user = socket_user(auth)
    if user is None or user.role != "admin":
        raise ConnectionRefusedError("not found")
    join_room(role_room("admin"))
    return True


@socketio.on("join", namespace=ADMIN)
def on_join(data=None):
    return {"ok": False, "message": "rooms are assigned by the server"}
