from flask import current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user

from ..auth.access import home_endpoint
from ..services.health import database_ok, redis_ok
from . import bp


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return render_template("main/index.html")


@bp.get("/health")
def health():
    """200 when the database and Redis both answer, 503 otherwise."""
    db_up, db_info = database_ok()
    redis_up, redis_info = redis_ok(current_app.config["REDIS_URL"], current_app.config["REDIS_SOCKET_TIMEOUT"])
    body = {
        "status": "ok" if db_up and redis_up else "degraded",
        "database": {"ok": db_up, "detail": db_info},
        "redis": {"ok": redis_up, "detail": redis_info},
    }
    return jsonify(body), 200 if db_up and redis_up else 503
