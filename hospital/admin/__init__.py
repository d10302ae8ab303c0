"""Admin area: dashboard and management pages."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import appointments, booking, routes  # noqa: E402,F401
