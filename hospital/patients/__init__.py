"""Patient area: dashboard, finding doctors, booking, appointments."""
from flask import Blueprint

bp = Blueprint("patients", __name__, url_prefix="/patient")

from . import booking, routes  # noqa: E402,F401
