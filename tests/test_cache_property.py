"""Property: after any sequence of bookings, cancellations, approvals, hours and
profile edits, every cached read equals a fresh database read (real Redis, real PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hospital import cache
from hospital.extensions import db
from hospital.models import WEEKDAYS, Appointment, AvailabilityException, utcnow
from hospital.services import accounts, appointments, booking, queries, schedule
from hospital.services.snapshots import (appointment_data, appointment_view, doctor_data, doctor_view, patient_data,
                                         patient_view)

HOUR_SETS = [[], [("09:00", "12:00")], [("08:00", "10:00"), ("13:00", "17:00")], [("10:30", "11:30")]]
NAMES = ["Dr. Ada", "Dr. Zed", "Ann", "Anna Bell", "Bob", "Dr. Mid"]


@pytest.fixture
def world(app, make_user):
    london = accounts.get_or_create_clinic("Test Clinic", "Europe/London")
    new_york = accounts.get_or_create_clinic("West Clinic", "America/New_York")
    doctors = [make_user("doctor", email="ada@example.com", name="Dr. Ada", clinic=london, specialization="Cardiology"),
               make_user("doctor", email="bo@example.com", name="Dr. Bo", clinic=new_york, specialization="Cardiology")]
    patients = [make_user("patient", email="ann@example.com", name="Ann"),
                make_user("patient", email="bob@example.com", name="Bob")]
    now = utcnow()
    day = now.astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=3)
    days = [day, day + timedelta(days=1)]
    for user in doctors:
        schedule.replace_weekly_availability(user.doctor, [
            {"day": WEEKDAYS[d.weekday()], "start": "09:00", "end": "12:00"} for d in days])
    return {"doctors": doctors, "patients": patients, "days": days, "now": now}


doctor_i, patient_i, day_i = st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)
operations = st.one_of(
    st.tuples(st.just("book"), patient_i, doctor_i, day_i, st.integers(0, 40)),
    st.tuples(st.just("cancel"), st.integers(0, 40)),
    st.tuples(st.just("approve"), st.integers(0, 40)),
    st.tuples(st.just("hours"), doctor_i, st.sampled_from(range(len(HOUR_SETS))), day_i),
    st.tuples(st.just("day off"), doctor_i, day_i),
    st.tuples(st.just("extra hours"), doctor_i, day_i),
    st.tuples(st.just("remove exception"), doctor_i, st.integers(0, 5)),
    st.tuples(st.just("patient name"), patient_i, st.sampled_from(NAMES)),
    st.tuples(st.just("doctor name"), doctor_i, st.sampled_from(NAMES)),
)


def apply(op, w) -> None:
    kind, now = op[0], w["now"]
    if kind == "book":
        _, p, d, day_index, n = op
        doctor = w["doctors"][d].doctor
        free = schedule.free_slots_for([doctor], w["days"][day_index], now)[doctor.id]
        if free:
            patient = w["patients"][p]
            booking.book_appointment(patient.patient, free[n % len(free)].start, patient, doctor_id=doctor.id, now=now)
    elif kind in ("cancel", "approve"):
        wanted = ("pending", "approved") if kind == "cancel" else ("pending",)
        found = list(db.session.scalars(select(Appointment).where(Appointment.status.in_(wanted)).order_by(Appointment.id)))
        if found:
            a = found[op[1] % len(found)]
            actor = next(u for u in w["patients"] if u.patient.id == a.patient_id) if kind == "cancel" else \
                next(u for u in w["doctors"] if u.doctor.id == a.doctor_id)
            appointments.change_status(actor, a.id, "cancelled" if kind == "cancel" else "approved", now=now)
    elif kind == "hours":
        _, d, hours, day_index = op
        weekday = WEEKDAYS[w["days"][day_index].weekday()]
        schedule.replace_weekly_availability(w["doctors"][d].doctor, [
            {"day": weekday, "start": s, "end": e} for s, e in HOUR_SETS[hours]])
    elif kind == "day off":
        schedule.add_exception(w["doctors"][op[1]].doctor, w["days"][op[2]], "off")
    elif kind == "extra hours":
        schedule.add_exception(w["doctors"][op[1]].doctor, w["days"][op[2]], "extra", "17:00", "18:00")
    elif kind == "remove exception":
        doctor = w["doctors"][op[1]].doctor
        found = list(db.session.scalars(select(AvailabilityException.id).where(AvailabilityException.doctor_id == doctor.id)))
        if found:
            schedule.remove_exception(doctor, found[op[2] % len(found)])
    elif kind == "patient name":
        accounts.update_patient_profile(w["patients"][op[1]], accounts.PatientDetails(op[2]))
    elif kind == "doctor name":
        accounts.update_doctor_profile(w["doctors"][op[1]], op[2], f"bio of {op[2]}")


def assert_cache_matches_database(w) -> None:
    now, doctors = w["now"], [u.doctor for u in w["doctors"]]
    for day in w["days"]:
        fresh = schedule.free_slots_for(doctors, day, now)
        assert cache.free_slots(doctors, day, now) == fresh  # the specialty picker's batch read
        for doctor in doctors:
            assert cache.free_slots([doctor], day, now) == {doctor.id: fresh[doctor.id]}  # the doctor page
    page = queries.list_doctors()
    cached = cache.list_doctors()
    assert (cached.items, cached.total) == ([doctor_view(doctor_data(d)) for d in page.items], page.total)
    assert cache.doctors_of_specialty("Cardiology") == [doctor_view(doctor_data(d))
                                                        for d in booking.find_doctors("Cardiology")]
    assert cache.specializations() == queries.specializations()
    for doctor in doctors:
        assert cache.get_doctor(doctor.id) == doctor_view(doctor_data(queries.get_doctor(doctor.id)))
    for user in w["patients"]:
        assert cache.patient_profile(user) == patient_view(patient_data(user, user.patient))
        for scope in ("upcoming", "past"):
            fresh = queries.patient_appointments(user.patient, scope, 1, 5, now)
            cached = cache.patient_appointments(user, scope, 1, 5, now)
            assert cached.total == fresh.total
            assert cached.items == [appointment_view(appointment_data(a)) for a in fresh.items]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operations, min_size=1, max_size=8))
def test_cached_reads_equal_fresh_database_reads_after_any_changes(world, ops):
    assert_cache_matches_database(world)  # warm every entry, so a missed invalidation would show
    for op in ops:
        apply(op, world)
        assert_cache_matches_database(world)
