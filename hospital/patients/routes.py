"""The patient's dashboard and appointments (list, detail, cancel).

Every appointment is loaded through :func:`appointments.get_appointment`,
which answers 404 for anyone else's appointment.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import cache
from ..auth.access import role_required
from ..errors import Conflict
from ..services import appointments
from ..webhelpers import wants_fragment
from . import bp

TABS = ("upcoming", "past")


@bp.get("/")
@role_required("patient")
def dashboard():
    upcoming = cache.patient_appointments(current_user, "upcoming", per_page=3)
    return render_template("patients/dashboard.html", patient=current_user.patient, upcoming=upcoming)


@bp.get("/appointments", endpoint="appointments")
@role_required("patient")
def appointments_list():
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "upcoming"
    page = cache.patient_appointments(current_user, tab, request.args.get("page"))
    user = current_user._get_current_object()
    actions = {a.id: appointments.allowed_actions(user, a) for a in page.items}
    return render_template("patients/appointments.html", page=page, tab=tab, actions=actions)


@bp.get("/appointments/<int:appointment_id>")
@role_required("patient")
def appointment(appointment_id: int):
    user = current_user._get_current_object()
    found = appointments.get_appointment(user, appointment_id)
    return render_template("patients/appointment.html", a=found, actions=appointments.allowed_actions(user, found))


@bp.post("/appointments/<int:appointment_id>/cancel")
@role_required("patient")
def cancel(appointment_id: int):
    """Cancel: the row (htmx) or the detail page again; too late is a 409 with the reason."""
    user = current_user._get_current_object()
    error, status = None, 200
    try:
        found = appointments.change_status(user, appointment_id, "cancelled")
    except Conflict as exc:
        found, error, status = appointments.get_appointment(user, appointment_id), exc.detail, 409
    actions = appointments.allowed_actions(user, found)
    if wants_fragment():
        return render_template("patients/_appointment_row.html", a=found, actions=actions, error=error), status
    if error:
        return render_template("patients/appointment.html", a=found, actions=actions, error=error), status
    flash("Your appointment is cancelled.", "success")
    return redirect(url_for("patients.appointment", appointment_id=found.id), 303)
