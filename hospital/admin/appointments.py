"""Every appointment, for admins: filter, change status, and override-create.

Admins may do what a doctor may, on any appointment (the service checks).
"""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import role_required
from ..errors import Conflict, InvalidInput
from ..services import appointments, booking, queries
from ..services.queries import AppointmentFilters
from ..services.slots import local_to_utc
from ..webhelpers import apply_errors, page_or_fragment, wants_fragment
from . import bp
from .forms import AppointmentFilterForm, OverrideForm, clinic_options, doctor_options, patient_options


@bp.get("/appointments", endpoint="appointments")
@role_required("admin")
def appointments_list():
    form = AppointmentFilterForm(request.args)
    form.doctor_id.choices = doctor_options(queries.doctor_choices(), "Any doctor")
    form.clinic_id.choices = clinic_options(queries.clinics(), "Any clinic")
    valid = form.validate()
    filters = AppointmentFilters(form.status.data or None, form.doctor_id.data, form.clinic_id.data,
                                 form.date_from.data, form.date_to.data) if valid else AppointmentFilters()
    page = queries.search_appointments(filters, request.args.get("page"))
    user = current_user._get_current_object()
    actions = {a.id: appointments.allowed_actions(user, a) for a in page.items}
    args = {k: v for k, v in request.args.items() if k != "page"} if valid else {}
    return page_or_fragment("admin/appointments.html", "admin/_appointments_results.html", 200 if valid else 422,
                            form=form, page=page, actions=actions, args=args)


@bp.post("/appointments/<int:appointment_id>/status")
@role_required("admin")
def change_status(appointment_id: int):
    """Any transition a doctor may make; htmx gets the table row back (409: with the reason)."""
    user = current_user._get_current_object()
    error, status = None, 200
    try:
        found = appointments.change_status(user, appointment_id, request.form.get("status", ""),
                                           request.form.get("note", ""))
    except Conflict as exc:
        found, error, status = appointments.get_appointment(user, appointment_id), exc.detail, 409
    if wants_fragment():
        return render_template("admin/_appointment_row.html", a=found, error=error,
                               actions=appointments.allowed_actions(user, found)), status
    flash(error or f"Appointment #{found.id} is now {found.status.replace('_', ' ')}.", "error" if error else "success")
    return redirect(url_for("admin.appointments"), 303)


@bp.route("/appointments/override", methods=["GET", "POST"])
@role_required("admin")
def override():
    """Book at any time (outside hours too); a clash with an active appointment is a 409."""
    doctors = {d.id: d for d in queries.doctor_choices()}
    form = OverrideForm(doctor_id=request.args.get("doctor_id", type=int))
    form.doctor_id.choices = doctor_options(doctors.values(), "Choose a doctor…")
    form.patient_id.choices = patient_options(queries.patient_choices(), "Choose a patient…")
    status = 200
    if form.validate_on_submit():
        doctor = doctors[form.doctor_id.data]
        local = form.start.data
        start = local_to_utc(local.date(), local.time(), doctor.clinic.tz)
        try:
            if start is None:
                raise InvalidInput("That time does not exist there (the clocks change)",
                                   {"start": [f"{local:%H:%M} is skipped in {doctor.clinic.timezone} that day"]})
            appointment = booking.override_book(current_user._get_current_object(), form.patient_id.data,
                                                doctor.id, start, form.minutes.data, form.reason.data or "",
                                                form.status.data)
        except Conflict as exc:
            apply_errors(form, exc)
            form.form_errors.append(f"{exc.detail}. Choose another time or cancel the other appointment first.")
            status = 409
        except InvalidInput as exc:
            apply_errors(form, exc)
            status = 422
        else:
            flash(f"Booked {appointment.patient.name} with {doctor.name} on "
                  f"{appointment.local_start():%a %-d %b %Y at %H:%M} ({doctor.clinic.timezone}).", "success")
            return redirect(url_for("admin.appointments", doctor_id=doctor.id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/override.html", form=form), status
