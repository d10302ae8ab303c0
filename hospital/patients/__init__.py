"""Patient area: dashboard, appointments, history."""
from flask import Blueprint

bp = Blueprint("patients", __name__, url_prefix="/patient")

from . import routes  # noqa: E402,F401
