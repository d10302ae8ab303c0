from flask import render_template, request
from flask_login import current_user, login_required

from ..services import notifications
from . import bp


@bp.get("/")
@login_required
def index():
    page = notifications.page_for(current_user.id, request.args.get("page"), 20,
                                  unread_only=request.args.get("unread") == "1")
    return render_template("notifications/index.html", page=page)


@bp.get("/bell")
@login_required
def bell():
    return render_template("notifications/_bell.html", unread=notifications.unread_count(current_user.id),
                           recent=notifications.recent(current_user.id))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id):
    notifications.mark_read(current_user.id, notification_id)
    return _after_read()


@bp.post("/read-all")
@login_required
def read_all():
    notifications.mark_read(current_user.id)
    return _after_read()


def _after_read():
    """htmx swaps the list fragment; a plain form post gets the page back."""
    page = notifications.page_for(current_user.id, request.args.get("page"), 20)
    template = "notifications/_list.html" if request.headers.get("HX-Request") else "notifications/index.html"
    response = render_template(template, page=page)
    return response, 200, {"HX-Trigger": "notifications-changed"}
