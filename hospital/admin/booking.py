"""Booking on someone's behalf: pick a patient and a doctor, then the normal slot picker.

The booking is the patient's (pending, like their own), made by the admin as actor.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth.access import role_required
from ..errors import Conflict, InvalidInput
from ..services import booking, queries
from ..slotpicker import TAKEN_MESSAGE, BookingForm, Links, booking_args, describe, for_doctor, form_day, new_booking_form
from ..webhelpers import apply_errors, page_or_fragment, parse_id
from . import bp
from .forms import BehalfForm, doctor_options, patient_options


def _page(args, message: str | None = None, status: int | None = None):
    """The who-and-with-whom form and, once both are chosen, the doctor's slot picker."""
    doctors = {d.id: d for d in queries.doctor_choices()}
    form = BehalfForm(args)
    form.doctor_id.choices = doctor_options(doctors.values(), "Choose a doctor…")
    form.patient_id.choices = patient_options(queries.patient_choices(), "Choose a patient…")
    picker = None
    if args.get("patient_id") and args.get("doctor_id"):
        if form.validate():
            links = Links("admin.new_appointment", "admin.new_appointment", "admin.confirm_booking",
                          query={"patient_id": form.patient_id.data, "doctor_id": form.doctor_id.data})
            picker = for_doctor(doctors[form.doctor_id.data], args.get("date"), links)
            picker.message = message
        else:
            status = status or 422
    status = status or (422 if picker and picker.error else 200)
    return page_or_fragment("admin/new_appointment.html", "admin/_behalf_picker.html", status,
                            push_url=picker.page_url() if picker else None, form=form, picker=picker)


@bp.get("/appointments/new")
@role_required("admin")
def new_appointment():
    return _page(request.args)


def _confirm_page(form: BookingForm, status: int = 200):
    patient = queries.get_patient(parse_id(form.patient_id.data, "patient_id") or 0)
    if patient is None:
        abort(404)
    back = url_for("admin.new_appointment", patient_id=patient.id, doctor_id=form.doctor_id.data or None,
                   date=form.date.data or None)
    return render_template("booking/confirm.html", form=form, choice=describe(form), patient=patient,
                           action=url_for("admin.book_submit"), back_url=back), status


@bp.get("/appointments/new/confirm")
@role_required("admin")
def confirm_booking():
    return _confirm_page(new_booking_form(request.args))


@bp.post("/appointments/new")
@role_required("admin")
def book_submit():
    form = BookingForm()
    if form.validate_on_submit():
        patient = queries.get_patient(parse_id(form.patient_id.data, "patient_id") or 0)
        if patient is None:
            abort(404)
        day = form_day(form)
        again = MultiDict({"patient_id": str(patient.id), "doctor_id": form.doctor_id.data or "",
                           "date": day.isoformat() if day else ""})
        try:
            result = booking.book_appointment(patient, actor=current_user._get_current_object(), **booking_args(form))
        except Conflict:
            return _page(again, TAKEN_MESSAGE, 409)
        except InvalidInput as exc:
            if "reason" not in exc.errors:
                return _page(again, exc.detail, 422)
            apply_errors(form, exc)
        else:
            a = result.appointment
            flash(f"Booked for {patient.name}: {a.doctor.name}, {a.local_start():%a %-d %b %Y at %H:%M} "
                  f"({a.clinic.timezone}). It is pending the doctor's approval.", "success")
            return redirect(url_for("admin.appointments", doctor_id=a.doctor_id), 303)
    return _confirm_page(form, 422)
