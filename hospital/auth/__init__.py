"""Sign-up, sign-in, sign-out and the own-profile page."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from . import routes  # noqa: E402,F401
