"""Admin area: dashboard and management pages."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import analytics, appointments, booking, emails, routes, sockets  # noqa: E402,F401
