"""The lifecycle table and who may move an appointment."""
from datetime import timedelta

import pytest

from hospital.errors import Conflict, InvalidInput, NotFound
from hospital.extensions import db
from hospital.models import STATUSES, AppointmentEvent
from hospital.services import appointments, booking
from hospital.services.appointments import TRANSITIONS, can_transition

from .factories import doctor_with_hours, local, next_weekday

LEGAL = {("pending", "approved"), ("pending", "rejected"), ("pending", "cancelled"),
         ("approved", "completed"), ("approved", "no_show"), ("approved", "cancelled")}


def test_transition_table_is_exactly_the_documented_lifecycle():
    table = {(a, b) for a in STATUSES for b in STATUSES if can_transition(a, b)}
    assert table == LEGAL
    assert set(TRANSITIONS) == set(STATUSES)


@pytest.fixture
def setup(make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    return doctor, patient, appointment


@pytest.mark.parametrize("from_status, to_status", sorted((a, b) for a in STATUSES for b in STATUSES))
def test_every_pair_through_the_service(setup, make_user, from_status, to_status):
    doctor, patient, appointment = setup
    admin = make_user("admin")
    appointment.status = from_status
    db.session.commit()
    after_start = appointment.start_at + timedelta(minutes=5)
    if (from_status, to_status) in LEGAL:
        changed = appointments.change_status(admin, appointment.id, to_status, now=after_start if to_status in ("completed", "no_show") else None)
        assert changed.status == to_status
        event = AppointmentEvent.query.order_by(AppointmentEvent.id.desc()).first()
        assert (event.from_status, event.to_status, event.actor_id) == (from_status, to_status, admin.id)
    else:
        with pytest.raises(Conflict):
            appointments.change_status(admin, appointment.id, to_status, now=after_start)
        assert appointments.get_appointment(admin, appointment.id).status == from_status


def test_doctor_approves_own_but_not_others(setup, make_user):
    doctor, patient, appointment = setup
    other = doctor_with_hours(make_user, email="other@example.com")
    with pytest.raises(NotFound):
        appointments.change_status(other, appointment.id, "approved")
    assert appointments.change_status(doctor, appointment.id, "approved").status == "approved"


def test_patient_may_only_cancel_own_and_not_too_late(setup, make_user):
    doctor, patient, appointment = setup
    stranger = make_user("patient")
    with pytest.raises(NotFound):
        appointments.change_status(stranger, appointment.id, "cancelled")
    with pytest.raises(Conflict, match="Patients can only cancel"):
        appointments.change_status(patient, appointment.id, "approved")
    with pytest.raises(Conflict, match="Too late to cancel online"):
        appointments.change_status(patient, appointment.id, "cancelled", now=appointment.start_at - timedelta(hours=1))
    assert appointments.change_status(patient, appointment.id, "cancelled",
                                      now=appointment.start_at - timedelta(hours=3)).status == "cancelled"


def test_outcomes_need_the_appointment_to_have_started(setup):
    doctor, patient, appointment = setup
    appointments.change_status(doctor, appointment.id, "approved")
    with pytest.raises(Conflict, match="has not started yet"):
        appointments.change_status(doctor, appointment.id, "completed")
    assert appointments.change_status(doctor, appointment.id, "completed",
                                      now=appointment.start_at + timedelta(minutes=10)).status == "completed"


def test_unknown_status(setup):
    doctor, _, appointment = setup
    with pytest.raises(InvalidInput):
        appointments.change_status(doctor, appointment.id, "teleported")


def test_allowed_actions_drive_buttons(setup):
    doctor, patient, appointment = setup
    assert appointments.allowed_actions(doctor, appointment) == ["approved", "cancelled", "rejected"]
    assert appointments.allowed_actions(patient, appointment) == ["cancelled"]
