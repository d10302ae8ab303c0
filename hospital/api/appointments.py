"""/api/appointments: free times, booking, reading and moving one appointment."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from flask import g
from flask_smorest import Blueprint

from .. import cache
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Patient, User, utcnow
from ..services import appointments, booking, schedule
from ..services.policy import booking_policy
from .booking_schemas import (END_EXAMPLE, START_EXAMPLE, AppointmentDetailOut, AppointmentOut, BookIn,
                              BookingOut, IdempotencyHeader, SlotQuery, SlotsOut, StatusIn)
from .security import bearer_doc, token_required

blp = Blueprint("api_appointments", __name__, url_prefix="/api/appointments",
                description="Free times, booking and the appointment lifecycle")

BOOKED_EXAMPLE = {"id": 42, "status": "pending", "doctor_id": 3, "doctor_name": "Dr Emma Jones",
                  "patient_id": 5, "patient_name": "Ann Smith", "clinic_id": 1, "start": START_EXAMPLE,
                  "end": END_EXAMPLE, "reason": "Chest pain", "assigned": False}


# --- helpers: compose the service calls an endpoint needs -------------------

def _slots(day: date, doctor_id: int | None, specialization: str | None, clinic_id: int | None) -> list[dict]:
    """Free slots of one doctor, or of every doctor of a specialty merged by start then doctor id.

    Each slot's times carry the UTC offset of its doctor's clinic.
    """
    if doctor_id is not None:
        doctor = cache.get_doctor(doctor_id)
        if doctor is None:
            raise NotFound("No such doctor", {"doctor_id": ["Unknown doctor"]})
        doctors, found = [doctor], {doctor.id: cache.free_slots_of(doctor, day)}
    else:
        doctors = cache.doctors_of_specialty(specialization, clinic_id)
        if not doctors:
            raise InvalidInput("No doctor has that specialty", {"specialization": ["Unknown specialty"]})
        now, policy = utcnow(), booking_policy()
        for doctor in doctors:
            schedule.check_bookable_day(doctor, day, now, policy)
        found = cache.free_slots(doctors, day, now, policy)
    tz = {d.id: d.clinic.tz for d in doctors}
    merged = sorted((s for slots in found.values() for s in slots), key=lambda s: (s.start, s.doctor_id))
    return [{"doctor_id": s.doctor_id, "start": s.start.astimezone(tz[s.doctor_id]),
             "end": s.end.astimezone(tz[s.doctor_id])} for s in merged]


def _booking_patient(user: User, patient_id: int | None) -> Patient:
    """Whom a booking is for: a patient books for themselves; an admin names the patient.

    A patient naming another patient is refused (422) rather than silently
    booking for themselves.
    """
    if user.role == "admin":
        if patient_id is None:
            raise InvalidInput("Name the patient to book for", {"patient_id": ["Required for admins"]})
        patient = db.session.get(Patient, patient_id)
        if patient is None:
            raise NotFound("No such patient", {"patient_id": ["Unknown patient"]})
        return patient
    if patient_id is not None and patient_id != user.patient.id:
        raise InvalidInput("Patients book for themselves", {"patient_id": ["Only admins book for someone else"]})
    return user.patient


@contextmanager
def _field_named(service_field: str, api_field: str):
    """Name the request's own field in 422 errors (the booking service says "date" for the day of "start")."""
    try:
        yield
    except InvalidInput as exc:
        if service_field in exc.errors:
            exc.errors[api_field] = exc.errors.pop(service_field)
        raise


# --- endpoints ---------------------------------------------------------------

@blp.get("/slots")
@blp.arguments(SlotQuery, location="query")
@blp.response(200, SlotsOut, example={"date": "2026-12-01", "slots": [
    {"doctor_id": 3, "start": START_EXAMPLE, "end": END_EXAMPLE},
    {"doctor_id": 3, "start": "2026-12-01T09:15:00+00:00", "end": "2026-12-01T09:30:00+00:00"}]})
@blp.alt_response(404, description="Unknown doctor")
@blp.alt_response(422, description="Bad or missing date, date in the past or beyond the horizon, unknown specialty")
def slots(args):
    """Free times on a clinic-local day, for a doctor or for every doctor of a specialty. Public.

    Times are ISO 8601 with the clinic's UTC offset. Past times, times inside
    the minimum notice and booked times are left out.
    """
    return {"date": args["date"], "slots": _slots(args["date"], args.get("doctor_id"),
                                                  args.get("specialization"), args.get("clinic_id"))}


@blp.post("/book")
@blp.doc(**bearer_doc())
@token_required("patient", "admin")
@blp.arguments(BookIn, example={"start": START_EXAMPLE, "doctor_id": 3, "reason": "Chest pain"})
@blp.arguments(IdempotencyHeader, location="headers")
@blp.response(201, BookingOut, description="Booked (pending until the doctor approves)", example=BOOKED_EXAMPLE)
@blp.alt_response(200, schema=BookingOut, description="A repeated Idempotency-Key: the first booking, unchanged")
@blp.alt_response(404, description="Unknown doctor or patient")
@blp.alt_response(409, description="The time is taken (someone else booked it first)")
@blp.alt_response(422, description="Past, beyond the horizon, not on the doctor's grid, unknown specialty")
def book(data, headers):
    """Book a free time with a doctor, or with any doctor of a specialty (the system picks one).

    Patients book for themselves; an admin books for ``patient_id``. With a
    specialty the least-booked doctor that day is assigned and ``assigned`` is
    true. Send an ``Idempotency-Key`` to make retries safe: the same key returns
    the first appointment with status 200.
    """
    user = g.api_user
    with _field_named("date", "start"):
        result = booking.book_appointment(
            _booking_patient(user, data.get("patient_id")), data["start"], user, doctor_id=data.get("doctor_id"),
            specialization=data.get("specialization"), clinic_id=data.get("clinic_id"), reason=data["reason"],
            idempotency_key=headers.get("idempotency_key"))
    return result, 201 if result.created else 200


@blp.get("/<int:appointment_id>")
@blp.doc(**bearer_doc())
@token_required()
@blp.response(200, AppointmentDetailOut)
@blp.alt_response(404, description="No such appointment, or not yours")
def get_appointment(appointment_id):
    """One appointment with its status history. Its patient, its doctor and admins may read it."""
    return appointments.get_appointment(g.api_user, appointment_id)


@blp.delete("/<int:appointment_id>")
@blp.doc(**bearer_doc())
@token_required()
@blp.response(200, AppointmentOut, description="Cancelled")
@blp.alt_response(404, description="No such appointment, or not yours")
@blp.alt_response(409, description="Already closed, or too late to cancel online (the reason is in detail)")
def cancel(appointment_id):
    """Cancel an appointment. Patients may cancel until the cancellation notice (default 2 h) before start."""
    return appointments.change_status(g.api_user, appointment_id, "cancelled")


@blp.patch("/<int:appointment_id>/status")
@blp.doc(**bearer_doc())
@token_required()
@blp.arguments(StatusIn, example={"status": "approved", "note": "See you then"})
@blp.response(200, AppointmentOut)
@blp.alt_response(404, description="No such appointment, or not yours")
@blp.alt_response(409, description="Illegal move (e.g. rejected -> approved), or not allowed for your role now")
@blp.alt_response(422, description="Unknown status")
def change_status(data, appointment_id):
    """Move an appointment: pending -> approved | rejected | cancelled; approved -> completed | no_show | cancelled.

    Doctors move their own appointments, admins any; patients may only cancel.
    """
    return appointments.change_status(g.api_user, appointment_id, data["status"], data["note"])
