"""Doctor area: dashboard, availability, requests."""
from flask import Blueprint

bp = Blueprint("doctors", __name__, url_prefix="/doctor")

from . import routes  # noqa: E402,F401
