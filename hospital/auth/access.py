"""Role checks for pages.

Signed-out visitors are sent to sign in; a signed-in user of another role gets
a 404 so that the area's existence is not confirmed to them.
"""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def home_endpoint(user) -> str:
    """Where a user lands after signing in."""
    return {"patient": "patients.dashboard", "doctor": "doctors.dashboard",
            "admin": "admin.dashboard"}[user.role]
