"""/api/admin: every appointment, bookings outside normal hours, and the doctor list. Admins only."""
from flask import g
from flask_smorest import Blueprint

from ..services import booking, queries
from ..services.queries import AppointmentFilters
from .booking_schemas import (AdminAppointmentQuery, AdminDoctorPage, AppointmentOut, AppointmentPage, DoctorQuery,
                              OverrideIn)
from .security import bearer_doc, token_required

blp = Blueprint("api_admin", __name__, url_prefix="/api/admin",
                description="Clinic administration (admin token; other roles get 404)")



@blp.get("/appointments")
@blp.doc(**bearer_doc())
@token_required("admin")
@blp.arguments(AdminAppointmentQuery, location="query")
@blp.response(200, AppointmentPage)
@blp.alt_response(422, description="Unknown status, bad date (the field is named) or bad page size")
def appointments(args):
    """Every appointment, latest first, filtered by status, doctor, clinic and UTC date range."""
    filters = AppointmentFilters(status=args.get("status"), doctor_id=args.get("doctor_id"),
                                 clinic_id=args.get("clinic_id"), date_from=args.get("date_from"),
                                 date_to=args.get("date_to"))
    return queries.search_appointments(filters, args["page"], args["per_page"])


@blp.post("/appointments/override")
@blp.doc(**bearer_doc())
@token_required("admin")
@blp.arguments(OverrideIn, example={"patient_id": 5, "doctor_id": 3, "start": "2026-12-01T18:30:00+00:00",
                                    "minutes": 30, "reason": "Urgent follow-up", "status": "approved"})
@blp.response(201, AppointmentOut)
@blp.alt_response(404, description="Unknown patient or doctor")
@blp.alt_response(409, description="The doctor already has an active appointment overlapping that time")
@blp.alt_response(422, description="Bad start, length (5 to 480 minutes) or status")
def override(data):
    """Book outside the doctor's normal hours (approved unless status says pending).

    Still never two active appointments overlapping at one doctor.
    """
    return booking.override_book(g.api_user, data["patient_id"], data["doctor_id"], data["start"],
                                 minutes=data.get("minutes"), reason=data["reason"], status=data["status"])


@blp.get("/doctors")
@blp.doc(**bearer_doc())
@token_required("admin")
@blp.arguments(DoctorQuery, location="query")
@blp.response(200, AdminDoctorPage)
@blp.alt_response(422, description="Bad filter or page size")
def doctors(args):
    """Every doctor with account details (email, active), filtered like the public directory."""
    return queries.list_doctors(args.get("specialization"), args.get("clinic_id"), args.get("q"),
                                args["page"], args["per_page"])
