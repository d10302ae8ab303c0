"""The doctor's dashboard: today's list, pending requests, the next days.

Status changes go through :func:`appointments.change_status`, which answers
404 for another doctor's appointment and 409 for a move that is not allowed.
"""
from itertools import groupby

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import role_required
from ..errors import Conflict
from ..models import utcnow
from ..services import appointments, queries
from ..webhelpers import wants_fragment
from . import bp

ACTION_MESSAGES = {"approved": "Approved", "rejected": "Rejected", "cancelled": "Cancelled",
                   "completed": "Marked completed", "no_show": "Marked as no-show"}


@bp.get("/dashboard")
@role_required("doctor")
def dashboard():
    user = current_user._get_current_object()
    doctor = user.doctor
    today = utcnow().astimezone(doctor.clinic.tz).date()
    lists = {"pending": queries.doctor_pending(doctor), "today_list": queries.doctor_day(doctor, today),
             "upcoming": queries.doctor_upcoming(doctor)}
    actions = {a.id: appointments.allowed_actions(user, a) for items in lists.values() for a in items}
    upcoming_days = [(day, list(items)) for day, items in groupby(lists["upcoming"], lambda a: a.local_start().date())]
    return render_template("doctors/dashboard.html", doctor=doctor, today=today, actions=actions,
                           upcoming_days=upcoming_days, **lists)


@bp.post("/appointments/<int:appointment_id>/status")
@role_required("doctor")
def change_status(appointment_id: int):
    """Approve, reject, cancel or record the outcome; htmx gets the row back."""
    user = current_user._get_current_object()
    to_status = request.form.get("status", "")
    error, status = None, 200
    try:
        found = appointments.change_status(user, appointment_id, to_status, request.form.get("note", ""))
    except Conflict as exc:
        found, error, status = appointments.get_appointment(user, appointment_id), exc.detail, 409
    if wants_fragment():
        return render_template("doctors/_appointment_row.html", a=found, error=error,
                               actions=appointments.allowed_actions(user, found)), status
    flash(error or f"{ACTION_MESSAGES.get(to_status, 'Updated')}: {found.patient.name}.", "error" if error else "success")
    return redirect(url_for("doctors.dashboard"), 303)
