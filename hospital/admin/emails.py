"""The email monitoring page for admins: counts by status, the outbox list with
filters, and a retry button for failed emails (htmx swaps the row)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import role_required
from ..errors import Conflict, InvalidInput
from ..models import EMAIL_KINDS, EMAIL_STATUSES
from ..services import emails
from ..webhelpers import page_or_fragment, wants_fragment
from . import bp


@bp.get("/notifications", endpoint="notifications")
@role_required("admin")
def notifications_page():
    """Filters come from the query string; a bad one re-renders the page with a 422 and the reason."""
    filters = {"status": request.args.get("status") or None, "kind": request.args.get("kind") or None}
    error, status = None, 200
    try:
        page = emails.search(filters["status"], filters["kind"], request.args.get("page"), 20)
    except InvalidInput as exc:
        error, status = exc.detail, 422
        filters = {"status": None, "kind": None}
        page = emails.search(page=1, per_page=20)
    return page_or_fragment("admin/emails.html", "admin/_emails_results.html", status,
                            counts=emails.status_counts(), page=page, filters=filters, error=error,
                            statuses=EMAIL_STATUSES, kinds=EMAIL_KINDS,
                            args={k: v for k, v in filters.items() if v},
                            dev_mailbox=current_app.config["ENV_NAME"] == "development")


@bp.post("/notifications/<int:message_id>/retry")
@role_required("admin")
def retry_email(message_id: int):
    """Queue a failed email again (3 fresh attempts); htmx gets the row back (409 with the reason)."""
    error, status = None, 200
    try:
        row = emails.retry(current_user._get_current_object(), message_id)
    except Conflict as exc:
        row, error, status = emails.get(message_id), exc.detail, 409
    if wants_fragment():
        return render_template("admin/_email_row.html", m=row, error=error), status
    flash(error or f"Email #{row.id} to {row.recipient} is queued again.", "error" if error else "success")
    return redirect(url_for("admin.notifications", status="failed"), 303)
