"""/api/doctors: the public doctor directory, and a doctor's own hours and appointments."""
from flask import g
from flask_smorest import Blueprint

from .. import cache
from ..services import queries, schedule
from .booking_schemas import AppointmentPage, AvailabilityIn, AvailabilityOut, DoctorPage, DoctorQuery, StatusQuery
from .security import bearer_doc, token_required

blp = Blueprint("api_doctors", __name__, url_prefix="/api/doctors",
                description="Find doctors; doctors manage their weekly hours and see their appointments")

AVAILABILITY_EXAMPLE = {"availability": [
    {"day": "monday", "start": "09:00", "end": "12:00"},
    {"day": "monday", "start": "13:00", "end": "17:00"},
    {"day": "wednesday", "start": "09:00", "end": "12:00"},
]}


def _schedule(doctor, windows) -> dict:
    return {"doctor_id": doctor.id, "timezone": doctor.clinic.timezone,
            "availability": sorted(windows, key=lambda w: (w.weekday, w.start_time))}


@blp.get("")
@blp.arguments(DoctorQuery, location="query")
@blp.response(200, DoctorPage, example={"items": [{
    "id": 3, "name": "Dr Emma Jones", "specialization": "Cardiology", "clinic_id": 1,
    "clinic_name": "North Clinic", "timezone": "Europe/London", "consultation_minutes": 15, "bio": ""}],
    "page": 1, "per_page": 10, "total": 1})
@blp.alt_response(422, description="Bad filter or page size (per_page is 1 to 50)")
def list_doctors(args):
    """Search doctors by specialty, clinic or name. Public: no token needed.

    The directory is what a visitor browses before signing in, so it is open;
    it shows only professional details (no email, no account state).
    """
    return cache.list_doctors(args.get("specialization"), args.get("clinic_id"), args.get("q"),
                              args["page"], args["per_page"])


@blp.get("/availability")
@blp.doc(**bearer_doc())
@token_required("doctor")
@blp.response(200, AvailabilityOut, example={"doctor_id": 3, "timezone": "Europe/London",
                                             "availability": [{"id": 1, "day": "monday", "start": "09:00",
                                                               "end": "12:00"}]})
def get_availability():
    """The caller's weekly schedule (clinic time). Doctors only."""
    doctor = g.api_user.doctor
    return _schedule(doctor, schedule.weekly_windows(doctor))


@blp.post("/availability")
@blp.doc(**bearer_doc())
@token_required("doctor")
@blp.arguments(AvailabilityIn, example=AVAILABILITY_EXAMPLE)
@blp.response(200, AvailabilityOut)
@blp.alt_response(422, description="Unknown day, bad time, end before start or overlapping windows")
def replace_availability(data):
    """Replace the caller's whole weekly schedule (clinic time). Doctors only.

    Several windows per day are allowed; they may not overlap. An empty list
    clears the schedule. Booked appointments are kept.
    """
    doctor = g.api_user.doctor
    return _schedule(doctor, schedule.replace_weekly_availability(doctor, data["availability"]))


@blp.get("/appointments")
@blp.doc(**bearer_doc())
@token_required("doctor")
@blp.arguments(StatusQuery, location="query")
@blp.response(200, AppointmentPage)
@blp.alt_response(422, description="Unknown status or bad page size")
def my_appointments(args):
    """The caller's appointments, latest first, optionally of one status. Doctors only."""
    return queries.doctor_appointments(g.api_user.doctor, args.get("status"), args["page"], args["per_page"])
