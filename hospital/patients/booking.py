"""Patient booking pages: find a doctor, pick a free time, confirm.

Two clicks: a free time (a link to the confirm step), then "Confirm booking"
(a POST carrying an idempotency key, so a double submit books once). A time
taken meanwhile answers 409 with the day's remaining free times.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import cache
from ..auth.access import role_required
from ..errors import Conflict, InvalidInput
from ..services import booking
from ..slotpicker import (TAKEN_MESSAGE, BookingForm, Links, booking_args, describe, for_doctor, for_specialty,
                          form_day, new_booking_form)
from ..webhelpers import apply_errors, page_or_fragment, parse_id, wants_fragment
from . import bp


def _doctor_links(doctor_id: int) -> Links:
    return Links("patients.doctor", "patients.doctor_slots", "patients.confirm", path_args={"doctor_id": doctor_id})


def _specialty_links(specialization: str | None, clinic_id: int | None) -> Links:
    return Links("patients.book", "patients.book", "patients.confirm",
                 query={"specialization": specialization, "clinic_id": clinic_id})


@bp.get("/doctors")
@role_required("patient")
def doctors():
    filters = {"q": (request.args.get("q") or "").strip() or None,
               "specialization": request.args.get("specialization") or None,
               "clinic_id": parse_id(request.args.get("clinic_id"), "clinic_id")}
    page = cache.list_doctors(page=request.args.get("page"), **filters)
    # The select options are only needed when the whole page is drawn.
    options = {} if wants_fragment() else {"specializations": cache.specializations(), "clinics": cache.clinics()}
    return page_or_fragment("patients/doctors.html", "patients/_doctor_results.html",
                            page=page, filters=filters, **options)


def _doctor_page(doctor_id: int, day, message: str | None = None, status: int | None = None):
    """The doctor page, or just its slot picker for htmx; 404 for an unknown doctor."""
    doctor = cache.get_doctor(doctor_id)
    if doctor is None:
        abort(404)
    picker = for_doctor(doctor, day, _doctor_links(doctor.id))
    picker.message = message
    return page_or_fragment("patients/doctor.html", "booking/_slots.html", status or (422 if picker.error else 200),
                            push_url=picker.page_url(), doctor=doctor, picker=picker)


def _specialty_page(specialization, clinic_id, day, message: str | None = None, status: int | None = None):
    picker = for_specialty(specialization, clinic_id, day, _specialty_links(specialization, clinic_id))
    picker.message = message
    options = {} if wants_fragment() else {"specializations": cache.specializations(), "clinics": cache.clinics()}
    return page_or_fragment("patients/book.html", "booking/_slots.html", status or (422 if picker.error else 200),
                            push_url=picker.page_url(), picker=picker, specialization=specialization,
                            clinic_id=clinic_id, **options)


@bp.get("/doctors/<int:doctor_id>")
@role_required("patient")
def doctor(doctor_id: int):
    return _doctor_page(doctor_id, request.args.get("date"))


@bp.get("/doctors/<int:doctor_id>/slots")
@role_required("patient")
def doctor_slots(doctor_id: int):
    """The slot picker for another day (htmx); the whole page without htmx."""
    return _doctor_page(doctor_id, request.args.get("date"))


@bp.get("/book")
@role_required("patient")
def book():
    """Book by specialty: every free time of the specialty's doctors, merged per clinic."""
    return _specialty_page(request.args.get("specialization") or None,
                           parse_id(request.args.get("clinic_id"), "clinic_id"), request.args.get("date"))


def _back_url(form: BookingForm) -> str:
    if form.doctor_id.data:
        return url_for("patients.doctor", doctor_id=form.doctor_id.data, date=form.date.data or None)
    return url_for("patients.book", specialization=form.specialization.data or None,
                   clinic_id=form.clinic_id.data or None, date=form.date.data or None)


def _confirm_page(form: BookingForm, status: int = 200):
    return render_template("booking/confirm.html", form=form, choice=describe(form), patient=None,
                           action=url_for("patients.book_submit"), back_url=_back_url(form)), status


@bp.get("/book/confirm")
@role_required("patient")
def confirm():
    """Step 2: what was picked, an optional reason and the confirm button."""
    return _confirm_page(new_booking_form(request.args))


def _again(form: BookingForm, message: str, status: int):
    """The picker for the same doctor (or specialty) and day, with ``message``."""
    day = form_day(form)
    doctor_id = parse_id(form.doctor_id.data, "doctor_id")
    if doctor_id:
        return _doctor_page(doctor_id, day, message, status)
    return _specialty_page(form.specialization.data or None, parse_id(form.clinic_id.data, "clinic_id"),
                           day, message, status)


@bp.post("/book")
@role_required("patient")
def book_submit():
    form = BookingForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            result = booking.book_appointment(user.patient, actor=user, **booking_args(form))
        except Conflict:
            return _again(form, TAKEN_MESSAGE, 409)
        except InvalidInput as exc:
            if "reason" not in exc.errors:
                return _again(form, exc.detail, 422)
            apply_errors(form, exc)
        else:
            appointment = result.appointment
            if not result.created:
                flash("You had already booked this appointment.", "info")
            elif result.assigned:
                flash(f"Booked! {appointment.doctor.name} will see you. The request is pending their approval.",
                      "success")
            else:
                flash(f"Booked! Your request is pending {appointment.doctor.name}'s approval.", "success")
            return redirect(url_for("patients.appointment", appointment_id=appointment.id), 303)
    return _confirm_page(form, 422)
