"""Hospital: appointment booking for patients, doctors and clinic admins."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from .config import finalise, load_config


def create_app(config: str | dict | type | None = None) -> Flask:
    """Build the application.

    ``config`` may be a config name (``"development"``, ``"production"``,
    ``"test"``), a dict of overrides on top of the environment's config, or a
    class whose upper-case attributes are used. Nothing is connected until the
    first request needs it.
    """
    app = Flask(__name__, instance_relative_config=True)
    if isinstance(config, str) or config is None:
        settings = load_config(config)
    elif isinstance(config, dict):
        settings = load_config(config.get("ENV_NAME"))
        settings.update(config)
    else:
        settings = load_config(getattr(config, "ENV_NAME", None))
        settings.update({k: getattr(config, k) for k in dir(config) if k.isupper()})
    app.config.update(finalise(settings))
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_cli(app)
    register_hooks(app)
    register_events()
    return app


def configure_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (registers the mapped classes)
    from .extensions import cache, csrf, db, htmx, limiter, login, mail, migrate, socketio
    from .cache import init_app as init_cache
    from .services.accounts import load_session_user

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    cache.init_app(app)
    init_cache(app)  # our store over the Flask-Caching Redis client: breaker, stats, activity
    mail.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = "Please sign in to continue."
    login.login_message_category = "info"
    login.user_loader(load_session_user)
    socketio.init_app(
        app,
        message_queue=app.config["REDIS_URL"],
        async_mode=app.config["ASYNC_MODE"],
        cors_allowed_origins=app.config["SOCKETIO_ALLOWED_ORIGINS"],
    )


def register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .api import register_api
    from .auth import bp as auth_bp
    from .chat import bp as chat_bp
    from .doctors import bp as doctors_bp
    from .main import bp as main_bp
    from .notifications import bp as notifications_bp
    from .patients import bp as patients_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(doctors_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(chat_bp)
    register_api(app)
    if app.config["ENV_NAME"] == "development":
        from .devtools.mailbox import bp as dev_mailbox_bp

        app.register_blueprint(dev_mailbox_bp)  # /dev/mailbox: the emails `make run` caught


def register_errors(app: Flask) -> None:
    from .errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    from .cli import register_commands

    register_commands(app)


def register_events() -> None:
    from .services import analytics_counters
    from .subscribers import connect

    connect()
    analytics_counters.install()  # analytics counters move in the transaction of each appointment change


def register_hooks(app: Flask) -> None:
    from .navigation import nav_links
    from .security import register_security_headers

    register_security_headers(app)
    app.jinja_env.globals["nav_links"] = nav_links
