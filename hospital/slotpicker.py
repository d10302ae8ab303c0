"""The slot picker and booking form shared by the patient and admin pages.

One view-model (:class:`SlotPicker`) and one template (``booking/_slots.html``)
serve the doctor page, the book-by-specialty page and the admin's booking on
someone's behalf; the same template answers the htmx day changes. Times are
shown in each clinic's own time zone; the value booked is the UTC instant.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from . import cache
from .errors import InvalidInput, NotFound
from .models import Clinic, Doctor, utcnow
from .services import schedule
from .services.policy import booking_policy
from .webhelpers import parse_day, parse_id, parse_start

TAKEN_MESSAGE = "Sorry, that time was just taken — here are the times still free."


@dataclass
class TimeChoice:
    label: str        # clinic-local wall clock, e.g. "09:30"
    start: str        # ISO 8601 UTC instant: what the booking form sends
    doctors: int = 1  # how many doctors are free then (book by specialty)


@dataclass
class ClinicTimes:
    clinic: Clinic
    times: list[TimeChoice]


@dataclass
class Links:
    """Where the picker's links go: the page, its fragment and the confirm step."""
    page: str
    fragment: str
    confirm: str
    path_args: dict = field(default_factory=dict)  # URL path values (e.g. doctor_id)
    query: dict = field(default_factory=dict)      # carried as hidden fields and query strings


@dataclass
class SlotPicker:
    day: date
    first_day: date
    last_day: date
    links: Links
    groups: list[ClinicTimes] = field(default_factory=list)
    by_clinic: bool = False        # specialty mode: confirm links name the clinic
    error: str | None = None       # the day cannot be shown (past, beyond the horizon, unknown…)
    message: str | None = None     # e.g. the slot was just taken
    ready: bool = True             # False until there is something to look up

    @property
    def prev_day(self) -> date | None:
        if self.day > self.last_day:
            return self.last_day
        return self.day - timedelta(days=1) if self.day > self.first_day else None

    @property
    def next_day(self) -> date | None:
        if self.day < self.first_day:
            return self.first_day
        return self.day + timedelta(days=1) if self.day < self.last_day else None

    @property
    def hidden(self) -> dict:
        return {k: v for k, v in self.links.query.items() if v not in (None, "")}

    @property
    def has_times(self) -> bool:
        return any(group.times for group in self.groups)

    def _url(self, endpoint: str, day: date | None, **extra) -> str:
        return url_for(endpoint, **self.links.path_args, **self.hidden, **extra,
                       date=(day or self.day).isoformat())

    def page_url(self, day: date | None = None) -> str:
        return self._url(self.links.page, day)

    def fragment_url(self, day: date | None = None) -> str:
        return self._url(self.links.fragment, day)

    def form_url(self) -> str:
        """The fragment URL without a date (the day-picker form adds its own)."""
        return url_for(self.links.fragment, **self.links.path_args)

    def confirm_url(self, choice: TimeChoice, group: ClinicTimes) -> str:
        extra = {"clinic_id": group.clinic.id} if self.by_clinic else {}
        query = {**self.links.path_args, **self.hidden, **extra, "start": choice.start,
                 "date": self.day.isoformat()}
        return url_for(self.links.confirm, **query)


def _window(tz_today: date) -> tuple[date, date]:
    return tz_today, tz_today + timedelta(days=booking_policy().horizon_days)


def _choices(slots, tz) -> list[TimeChoice]:
    counts: dict = defaultdict(int)
    for slot in slots:
        counts[slot.start] += 1
    return [TimeChoice(start.astimezone(tz).strftime("%H:%M"), start.isoformat(), n)
            for start, n in sorted(counts.items())]


def _resolve_day(picker: SlotPicker, raw) -> None:
    """Set the picker's day from a date or the ``date`` query value (bad input: a message, not a crash)."""
    if isinstance(raw, date) or raw is None:
        picker.day = raw or picker.first_day
        return
    try:
        picker.day = parse_day(raw) or picker.first_day
    except InvalidInput as exc:
        picker.error = exc.detail


def for_doctor(doctor: Doctor, day: date | str | None, links: Links, now: datetime | None = None) -> SlotPicker:
    """One doctor's free times on ``day`` (clinic-local; today when empty)."""
    now = now or utcnow()
    first, last = _window(now.astimezone(doctor.clinic.tz).date())
    picker = SlotPicker(first, first, last, links)
    _resolve_day(picker, day)
    if picker.error:
        return picker
    try:
        slots = cache.free_slots_of(doctor, picker.day, now)
    except InvalidInput as exc:
        picker.error = exc.detail
        return picker
    picker.groups = [ClinicTimes(doctor.clinic, _choices(slots, doctor.clinic.tz))]
    return picker


def for_specialty(specialization: str | None, clinic_id: int | None, day: date | str | None, links: Links,
                  now: datetime | None = None) -> SlotPicker:
    """Free times of every doctor of a specialty, merged per clinic (each in its own zone)."""
    now = now or utcnow()
    doctors = cache.doctors_of_specialty(specialization, clinic_id) if specialization else []
    tz_today = min((now.astimezone(d.clinic.tz).date() for d in doctors), default=now.date())
    first, last = _window(tz_today)
    picker = SlotPicker(first, first, last, links, by_clinic=True, ready=bool(specialization))
    _resolve_day(picker, day)
    if not specialization or picker.error:
        return picker
    if not doctors:
        picker.error = "No doctor of that specialty" + (" works at that clinic." if clinic_id else " is available.")
        return picker
    policy = booking_policy()
    bookable, refusal = [], None
    for doctor in doctors:
        try:
            schedule.check_bookable_day(doctor, picker.day, now, policy)
        except InvalidInput as exc:
            refusal = exc.detail
        else:
            bookable.append(doctor)
    if not bookable:
        picker.error = refusal
        return picker
    free = cache.free_slots(bookable, picker.day, now, policy)
    by_clinic: dict[int, list] = defaultdict(list)
    clinics = {}
    for doctor in bookable:
        clinics[doctor.clinic_id] = doctor.clinic
        by_clinic[doctor.clinic_id].extend(free[doctor.id])
    picker.groups = [ClinicTimes(clinics[cid], _choices(slots, clinics[cid].tz))
                     for cid, slots in sorted(by_clinic.items(), key=lambda kv: clinics[kv[0]].name)]
    return picker


# --- the confirm step --------------------------------------------------------

class BookingForm(FlaskForm):
    """The confirm step: what was picked travels in hidden fields, plus an optional reason.

    ``idempotency_key`` is generated when the form is shown, so submitting it
    twice books once.
    """
    start = HiddenField()
    doctor_id = HiddenField()
    specialization = HiddenField()
    clinic_id = HiddenField()
    patient_id = HiddenField()
    date = HiddenField()
    idempotency_key = HiddenField()
    reason = TextAreaField("Reason for the visit (optional)", validators=[Optional(), Length(max=1000)],
                           description="Helps the doctor prepare. At most 1000 characters.")


def new_booking_form(args) -> BookingForm:
    """The confirm form pre-filled from the picked slot's link, with a fresh idempotency key."""
    names = ("start", "doctor_id", "specialization", "clinic_id", "patient_id", "date")
    return BookingForm(formdata=None, idempotency_key=uuid.uuid4().hex,
                       **{name: args.get(name, "") for name in names})


@dataclass
class Choice:
    """What the confirm page shows about the picked time."""
    start: datetime
    clinic: Clinic
    doctor: Doctor | None = None
    specialization: str | None = None
    candidates: int = 1

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.clinic.tz)

    @property
    def local_end(self) -> datetime | None:
        if self.doctor is None:
            return None
        return (self.start + timedelta(minutes=self.doctor.consultation_minutes)).astimezone(self.clinic.tz)


def describe(form: BookingForm) -> Choice:
    """Load what the form names; 404 for an unknown doctor, 422 for an unknown specialty."""
    start = parse_start(form.start.data)
    doctor_id = parse_id(form.doctor_id.data, "doctor_id")
    if doctor_id:
        doctor = cache.get_doctor(doctor_id)
        if doctor is None:
            raise NotFound("No such doctor")
        return Choice(start, doctor.clinic, doctor=doctor)
    specialization = (form.specialization.data or "").strip()
    doctors = cache.doctors_of_specialty(specialization, parse_id(form.clinic_id.data, "clinic_id")) if specialization else []
    if not doctors:
        raise InvalidInput("Choose a doctor or a specialty", {"specialization": ["Unknown specialty"]})
    return Choice(start, doctors[0].clinic, specialization=doctors[0].specialization, candidates=len(doctors))


def booking_args(form: BookingForm) -> dict:
    """Keyword arguments for :func:`hospital.services.booking.book_appointment` from the form."""
    doctor_id = parse_id(form.doctor_id.data, "doctor_id")
    return {
        "start": parse_start(form.start.data),
        "doctor_id": doctor_id,
        "specialization": None if doctor_id else (form.specialization.data or None),
        "clinic_id": None if doctor_id else parse_id(form.clinic_id.data, "clinic_id"),
        "reason": form.reason.data or "",
        "idempotency_key": form.idempotency_key.data or None,
    }


def form_day(form: BookingForm) -> date | None:
    """The day the user was looking at (to show its times again after a failure)."""
    try:
        return parse_day(form.date.data)
    except InvalidInput:
        return None
