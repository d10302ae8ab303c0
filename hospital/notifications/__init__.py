"""The bell, the notifications page, and the /notifications Socket.IO namespace."""
from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from . import routes, sockets  # noqa: E402,F401
