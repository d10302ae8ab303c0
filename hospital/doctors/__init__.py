"""Doctor area: dashboard, requests, availability."""
from flask import Blueprint

bp = Blueprint("doctors", __name__, url_prefix="/doctor")

from . import availability, routes  # noqa: E402,F401
