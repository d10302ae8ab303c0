"""Schemas of the booking API: doctors, free times, appointments and availability.

Instants go out as ISO 8601 with the clinic's UTC offset (``2026-12-01T09:00:00+00:00``)
and come in as ISO 8601 with any offset; a time without an offset is refused (422).
"""
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from ..models import STATUSES, WEEKDAYS
from ..services.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE

START_EXAMPLE = "2026-12-01T09:00:00+00:00"
END_EXAMPLE = "2026-12-01T09:15:00+00:00"


class ClinicDateTime(fields.DateTime):
    """An aware UTC instant shown with the UTC offset of ``obj.clinic``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None:
            value = value.astimezone(obj.clinic.tz)
        return super()._serialize(value, attr, obj, **kwargs)


# --- paging ----------------------------------------------------------------

class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1), metadata={"example": 1})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"1 to {MAX_PER_PAGE}", "example": DEFAULT_PER_PAGE})


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The list envelope ``{"items", "page", "per_page", "total"}`` around ``item_schema``."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "page": fields.Integer(required=True, metadata={"example": 1}),
        "per_page": fields.Integer(required=True, metadata={"example": DEFAULT_PER_PAGE}),
        "total": fields.Integer(required=True, metadata={"example": 1}),
    })


# --- doctors ---------------------------------------------------------------

class DoctorQuery(PageArgs):
    specialization = fields.String(metadata={"example": "Cardiology"})
    clinic_id = fields.Integer(metadata={"example": 1})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Part of a name or specialty",
                                                                   "example": "jones"})


class DoctorOut(Schema):
    id = fields.Integer(metadata={"example": 3})
    name = fields.String(metadata={"example": "Dr Emma Jones"})
    specialization = fields.String(metadata={"example": "Cardiology"})
    clinic_id = fields.Integer(metadata={"example": 1})
    clinic_name = fields.String(attribute="clinic.name", metadata={"example": "North Clinic"})
    timezone = fields.String(attribute="clinic.timezone", metadata={"example": "Europe/London"})
    consultation_minutes = fields.Integer(metadata={"example": 15})
    bio = fields.String(metadata={"example": "Heart rhythm specialist."})


class AdminDoctorOut(DoctorOut):
    user_id = fields.Integer(metadata={"example": 7})
    email = fields.String(attribute="user.email", metadata={"example": "dr.jones@example.com"})
    active = fields.Boolean(attribute="user.active", metadata={"example": True})


DoctorPage = page_of(DoctorOut, "DoctorPage")
AdminDoctorPage = page_of(AdminDoctorOut, "AdminDoctorPage")


# --- availability ----------------------------------------------------------

class WindowIn(Schema):
    day = fields.String(required=True, metadata={"description": "Weekday name", "example": "monday",
                                                 "enum": list(WEEKDAYS)})
    start = fields.String(required=True, metadata={"description": "Clinic time, HH:MM", "example": "09:00"})
    end = fields.String(required=True, metadata={"description": "Clinic time, HH:MM", "example": "12:00"})


class WindowOut(Schema):
    id = fields.Integer(metadata={"example": 12})
    day = fields.String(attribute="day_name", metadata={"example": "monday"})
    start = fields.Time(format="%H:%M", attribute="start_time", metadata={"example": "09:00"})
    end = fields.Time(format="%H:%M", attribute="end_time", metadata={"example": "12:00"})


class AvailabilityIn(Schema):
    availability = fields.List(fields.Nested(WindowIn), required=True,
                               metadata={"description": "The whole weekly schedule; replaces the old one"})


class AvailabilityOut(Schema):
    doctor_id = fields.Integer(metadata={"example": 3})
    timezone = fields.String(metadata={"example": "Europe/London"})
    availability = fields.List(fields.Nested(WindowOut))


# --- free times ------------------------------------------------------------

class SlotQuery(Schema):
    date = fields.Date(required=True, metadata={"description": "Clinic-local day", "example": "2026-12-01"})
    doctor_id = fields.Integer(metadata={"example": 3})
    specialization = fields.String(validate=validate.Length(min=1, max=80), metadata={"example": "Cardiology"})
    clinic_id = fields.Integer(metadata={"description": "With specialization: only this clinic", "example": 1})

    @validates_schema
    def _one_target(self, data, **kwargs):
        if ("doctor_id" in data) == ("specialization" in data):
            raise ValidationError("Give doctor_id or specialization (one of them)", "doctor_id")


class SlotOut(Schema):
    doctor_id = fields.Integer(metadata={"example": 3})
    start = fields.DateTime(metadata={"example": START_EXAMPLE})
    end = fields.DateTime(metadata={"example": END_EXAMPLE})


class SlotsOut(Schema):
    date = fields.Date(metadata={"example": "2026-12-01"})
    slots = fields.List(fields.Nested(SlotOut))


# --- appointments ----------------------------------------------------------

class BookIn(Schema):
    start = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with an offset",
                                                          "example": START_EXAMPLE})
    doctor_id = fields.Integer(metadata={"example": 3})
    specialization = fields.String(validate=validate.Length(min=1, max=80), metadata={"example": "Cardiology"})
    clinic_id = fields.Integer(metadata={"description": "With specialization: only this clinic"})
    reason = fields.String(load_default="", validate=validate.Length(max=1000), metadata={"example": "Chest pain"})
    patient_id = fields.Integer(metadata={"description": "Admins only: the patient to book for"})

    @validates_schema
    def _one_target(self, data, **kwargs):
        if ("doctor_id" in data) == ("specialization" in data):
            raise ValidationError("Give doctor_id or specialization (one of them)", "doctor_id")


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validate.Length(min=1, max=64),
                                    metadata={"description": "Repeat it to get the first booking back (200)",
                                              "example": "7f1c2a9e-booking-1"})


class AppointmentOut(Schema):
    id = fields.Integer(metadata={"example": 42})
    status = fields.String(metadata={"example": "pending", "enum": list(STATUSES)})
    doctor_id = fields.Integer(metadata={"example": 3})
    doctor_name = fields.String(attribute="doctor.name", metadata={"example": "Dr Emma Jones"})
    patient_id = fields.Integer(metadata={"example": 5})
    patient_name = fields.String(attribute="patient.name", metadata={"example": "Ann Smith"})
    clinic_id = fields.Integer(metadata={"example": 1})
    start = ClinicDateTime(attribute="start_at", metadata={"example": START_EXAMPLE})
    end = ClinicDateTime(attribute="end_at", metadata={"example": END_EXAMPLE})
    reason = fields.String(metadata={"example": "Chest pain"})


class BookingOut(AppointmentOut):
    assigned = fields.Boolean(metadata={"description": "True when the system chose the doctor", "example": False})

    @pre_dump
    def _from_result(self, result, **kwargs):
        """Flatten a :class:`~hospital.services.booking.BookingResult` into the appointment's fields."""
        return _Booked(result.appointment, result.assigned)


class _Booked:
    def __init__(self, appointment, assigned: bool):
        self._appointment = appointment
        self.assigned = assigned

    def __getattr__(self, name):
        return getattr(self._appointment, name)


class EventOut(Schema):
    from_ = fields.String(attribute="from_status", data_key="from", allow_none=True, metadata={"example": "pending"})
    to = fields.String(attribute="to_status", metadata={"example": "approved"})
    actor_id = fields.Integer(allow_none=True, metadata={"example": 3})
    at = fields.DateTime(attribute="created_at",
                         metadata={"description": "UTC", "example": "2026-11-28T10:02:11+00:00"})
    note = fields.String(metadata={"example": ""})


class AppointmentDetailOut(AppointmentOut):
    created_at = fields.DateTime(metadata={"description": "UTC"})
    events = fields.List(fields.Nested(EventOut), metadata={"description": "Status history, oldest first"})


AppointmentPage = page_of(AppointmentOut, "AppointmentPage")


class StatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES), metadata={"example": "approved"})
    note = fields.String(load_default="", validate=validate.Length(max=500), metadata={"example": "See you then"})


class StatusQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"example": "pending"})


class AdminAppointmentQuery(StatusQuery):
    doctor_id = fields.Integer(metadata={"example": 3})
    clinic_id = fields.Integer(metadata={"example": 1})
    date_from = fields.Date(metadata={"description": "First UTC day (inclusive)", "example": "2026-12-01"})
    date_to = fields.Date(metadata={"description": "Last UTC day (inclusive)", "example": "2026-12-31"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError("Must not be before date_from", "date_to")


class OverrideIn(Schema):
    patient_id = fields.Integer(required=True, metadata={"example": 5})
    doctor_id = fields.Integer(required=True, metadata={"example": 3})
    start = fields.AwareDateTime(required=True, metadata={"example": "2026-12-01T18:30:00+00:00"})
    minutes = fields.Integer(validate=validate.Range(min=5, max=480), metadata={"example": 30})
    reason = fields.String(load_default="", validate=validate.Length(max=1000),
                           metadata={"example": "Urgent follow-up"})
    status = fields.String(load_default="approved", validate=validate.OneOf(("pending", "approved")),
                           metadata={"example": "approved"})
