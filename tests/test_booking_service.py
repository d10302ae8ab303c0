"""Booking rules through the service layer, on PostgreSQL."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from hospital.errors import Conflict, InvalidInput, NotFound
from hospital.extensions import db
from hospital.models import Appointment, AppointmentEvent
from hospital.services import booking, schedule

from .factories import doctor_with_hours, local, next_weekday


@pytest.fixture
def doctor(make_user):
    return doctor_with_hours(make_user, email="doc@example.com").doctor


@pytest.fixture
def patient(make_user):
    return make_user("patient", email="pat@example.com")


def test_free_times_leave_out_booked_times(doctor, patient):
    day = next_weekday()
    slots = schedule.free_slots(doctor, day)
    assert len(slots) == 12  # 09:00-12:00 in 15-minute steps
    booking.book_appointment(patient.patient, slots[1].start, patient, doctor_id=doctor.id)
    after = schedule.free_slots(doctor, day)
    assert slots[1] not in after and len(after) == 11


def test_booking_creates_pending_appointment_with_event(doctor, patient):
    start = local(next_weekday(), 9, 30, doctor.clinic.tz)
    result = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id, reason=" cough ")
    appointment = result.appointment
    assert result.created and not result.assigned
    assert (appointment.status, appointment.reason) == ("pending", "cough")
    assert appointment.end_at - appointment.start_at == timedelta(minutes=15)
    [event] = appointment.events
    assert (event.from_status, event.to_status, event.actor_id) == (None, "pending", patient.id)


def test_taken_slot_is_a_conflict_and_writes_nothing(doctor, patient, make_user):
    start = local(next_weekday(), 10, 0, doctor.clinic.tz)
    booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id)
    other = make_user("patient")
    with pytest.raises(Conflict, match="already booked"):
        booking.book_appointment(other.patient, start, other, doctor_id=doctor.id)
    assert Appointment.query.count() == 1 and AppointmentEvent.query.count() == 1


def test_database_refuses_a_second_active_appointment_at_the_same_start(doctor, patient):
    start = local(next_weekday(), 10, 0, doctor.clinic.tz)
    first = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id).appointment
    db.session.add(Appointment(patient_id=patient.patient.id, doctor_id=doctor.id, clinic_id=doctor.clinic_id,
                               start_at=first.start_at, end_at=first.end_at, status="approved"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # a cancelled appointment frees the time again
    first.status = "cancelled"
    db.session.commit()
    again = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id)
    assert again.created


def test_idempotency_key_returns_the_first_booking(doctor, patient):
    start = local(next_weekday(), 11, 0, doctor.clinic.tz)
    first = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id, idempotency_key="abc")
    second = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id, idempotency_key="abc")
    assert second.appointment.id == first.appointment.id and not second.created
    assert Appointment.query.count() == 1


@pytest.mark.parametrize("when, message", [
    (lambda day, tz: local(day, 9, 7, tz), "not one of the doctor's free times"),
    (lambda day, tz: local(day, 13, 0, tz), "not one of the doctor's free times"),
    (lambda day, tz: local(day - timedelta(days=30), 9, 0, tz), "in the past"),
    (lambda day, tz: local(day + timedelta(days=90), 9, 0, tz), "60 days ahead"),
])
def test_bad_times_are_invalid(doctor, patient, when, message):
    with pytest.raises(InvalidInput, match=message):
        booking.book_appointment(patient.patient, when(next_weekday(), doctor.clinic.tz), patient, doctor_id=doctor.id)


def test_minimum_notice(doctor, patient):
    start = local(next_weekday(), 9, 0, doctor.clinic.tz)
    with pytest.raises(InvalidInput, match="too soon"):
        booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.id, now=start - timedelta(minutes=30))


def test_unknown_doctor_or_specialty(patient):
    start = local(next_weekday(), 9, 0, ZoneInfo("Europe/London"))
    with pytest.raises(NotFound):
        booking.book_appointment(patient.patient, start, patient, doctor_id=999)
    with pytest.raises(InvalidInput, match="specialty"):
        booking.book_appointment(patient.patient, start, patient, specialization="Astrology")


def test_specialty_booking_assigns_least_booked_doctor_and_breaks_ties_fairly(make_user):
    a = doctor_with_hours(make_user, email="a@example.com", specialization="Cardiology").doctor
    b = doctor_with_hours(make_user, email="b@example.com", specialization="Cardiology").doctor
    day = next_weekday()
    tz = a.clinic.tz
    patients = [make_user("patient") for _ in range(4)]
    assigned = []
    for n, person in enumerate(patients):
        result = booking.book_appointment(person.patient, local(day, 9, 15 * n, tz), person, specialization="cardiology")
        assert result.assigned
        assigned.append(result.appointment.doctor_id)
    # alternates: never more than one apart in load
    assert sorted(assigned) == sorted([a.id, a.id, b.id, b.id])
    assert assigned[0] != assigned[1] and assigned[2] != assigned[3]


def test_specialty_booking_falls_over_to_a_free_doctor(make_user):
    a = doctor_with_hours(make_user, email="a@example.com", specialization="Cardiology").doctor
    b = doctor_with_hours(make_user, email="b@example.com", specialization="Cardiology").doctor
    start = local(next_weekday(), 9, 0, a.clinic.tz)
    p1, p2, p3 = (make_user("patient") for _ in range(3))
    first = booking.book_appointment(p1.patient, start, p1, specialization="Cardiology").appointment
    second = booking.book_appointment(p2.patient, start, p2, specialization="Cardiology").appointment
    assert {first.doctor_id, second.doctor_id} == {a.id, b.id}
    with pytest.raises(Conflict):
        booking.book_appointment(p3.patient, start, p3, specialization="Cardiology")


def test_day_off_and_extra_hours(doctor, patient):
    day = next_weekday()
    schedule.add_exception(doctor, day, "off")
    assert schedule.free_slots(doctor, day) == []
    schedule.add_exception(doctor, day, "extra", "18:00", "18:30")
    assert [s.start.astimezone(doctor.clinic.tz).strftime("%H:%M") for s in schedule.free_slots(doctor, day)] == ["18:00", "18:15"]


def test_overlapping_windows_are_refused(doctor):
    with pytest.raises(InvalidInput, match="Overlapping"):
        schedule.add_window(doctor, "monday", "11:00", "13:00")
    with pytest.raises(InvalidInput, match="after the start"):
        schedule.add_window(doctor, "saturday", "13:00", "11:00")
    with pytest.raises(InvalidInput, match="Unknown day"):
        schedule.add_window(doctor, "someday", "09:00", "10:00")


def test_admin_override_outside_hours_but_never_overlapping(doctor, patient, make_user):
    admin = make_user("admin")
    day = next_weekday()
    late = local(day, 19, 0, doctor.clinic.tz)
    appointment = booking.override_book(admin, patient.patient.id, doctor.id, late, minutes=30)
    assert appointment.status == "approved"
    with pytest.raises(Conflict):
        booking.override_book(admin, patient.patient.id, doctor.id, late + timedelta(minutes=15), minutes=30)
    with pytest.raises(NotFound):
        booking.override_book(patient, patient.patient.id, doctor.id, late + timedelta(hours=2))
