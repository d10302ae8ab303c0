"""The JSON API (flask-smorest): OpenAPI at /api/openapi.json, Swagger UI at /api/docs."""
from flask import Flask
from flask_smorest import Api

from ..extensions import csrf


class ProblemApi(Api):
    """flask-smorest without its own error handlers: :mod:`hospital.errors`
    renders every error, as problem+json under /api and as HTML elsewhere."""

    def _register_error_handlers(self):
        pass


api = ProblemApi()


def register_api(app: Flask) -> None:
    from .admin import blp as admin_blp
    from .admin_emails import blp as admin_emails_blp
    from .analytics import blp as analytics_blp
    from .appointments import blp as appointments_blp
    from .auth import blp as auth_blp
    from .chat import blp as chat_blp
    from .doctors import blp as doctors_blp
    from .notifications import blp as notifications_blp
    from .patients import blp as patients_blp
    from .stream import blp as stream_blp

    api.init_app(app)
    for blp in (auth_blp, patients_blp, doctors_blp, appointments_blp, admin_blp, notifications_blp, stream_blp,
                chat_blp, admin_emails_blp, analytics_blp):
        csrf.exempt(blp)  # bearer tokens, not cookies: CSRF does not apply
        api.register_blueprint(blp)
