"""Patient–doctor chat about an appointment: pages, the /chat Socket.IO namespace, pushes."""
from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/chat")

from . import push, routes, sockets  # noqa: E402,F401
