"""Sign-in throttling: 5 failed tries per 15 minutes per account and per IP."""
from flask import current_app, request
from flask_limiter.util import get_remote_address

from ..extensions import limiter


def _attempted_email() -> str:
    data = request.get_json(silent=True) if request.is_json else request.form
    email = (data or {}).get("email") or ""
    return "account:" + str(email).strip().lower()


def _failed(response) -> bool:
    return response.status_code in (401, 422)


def _limit() -> str:
    return current_app.config["LOGIN_ATTEMPTS_LIMIT"]


def login_throttle(view):
    """Apply the per-IP and per-account limits; only failed attempts count."""
    view = limiter.limit(_limit, key_func=_attempted_email, deduct_when=_failed, methods=["POST"],
                         error_message="Too many sign-in attempts. Try again in 15 minutes.")(view)
    return limiter.limit(_limit, key_func=get_remote_address, deduct_when=_failed, methods=["POST"],
                         error_message="Too many sign-in attempts. Try again in 15 minutes.")(view)
