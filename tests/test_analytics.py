"""Analytics figures: a property test against direct SQL counts, counters in the transaction, rebuild."""
from datetime import date, datetime, time, timedelta, timezone
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select, text

from hospital.errors import Conflict, InvalidInput
from hospital.extensions import db
from hospital.models import (STATUSES, AnalyticsCounter, Appointment, EmailMessage, PatientBookingTotal, User,
                             utcnow)
from hospital.services import accounts, analytics, analytics_counters, analytics_queries, appointments, booking
from hospital.services.analytics import Period

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"]  # +05:30 moves day boundaries off the hour
BASE = date(2026, 3, 20)  # booked times around the clock changes: New York 8 March, London 29 March

BOOKED, START = "(a.created_at AT TIME ZONE c.timezone)", "(a.start_at AT TIME ZONE c.timezone)"
FILTER = (f"FROM appointments a JOIN clinics c ON c.id = a.clinic_id WHERE {BOOKED}::date BETWEEN :f AND :t "
          "AND (CAST(:c AS integer) IS NULL OR a.clinic_id = CAST(:c AS integer))")


def sql(query: str, period: Period, clinic_id) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(text(query), {"f": period.start, "t": period.end, "c": clinic_id})]


def expected(period: Period, clinic_id) -> dict:
    """Every appointment figure, counted straight from ``appointments`` with SQL: bookings made
    in the period (clinic-local day), the heatmap by the booked time (clinic-local)."""
    statuses = dict(sql(f"SELECT a.status, count(*) {FILTER} GROUP BY 1", period, clinic_id))
    heat = [[0] * 24 for _ in range(7)]
    for weekday, hour, n in sql(f"SELECT extract(isodow FROM {START})::int - 1, extract(hour FROM {START})::int, "
                                f"count(*) {FILTER} GROUP BY 1, 2", period, clinic_id):
        heat[weekday][hour] = n
    days = dict(sql(f"SELECT {BOOKED}::date, count(*) {FILTER} GROUP BY 1", period, clinic_id))
    return {
        "total": sum(statuses.values()),
        "statuses": {s: statuses.get(s, 0) for s in STATUSES},
        "top_doctors": sql(f"SELECT a.doctor_id, count(*) {FILTER} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
                           period, clinic_id),
        "top_patients": sql(f"SELECT a.patient_id, count(*) {FILTER} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
                            period, clinic_id),
        "per_day": [(d.isoformat(), days.get(d, 0)) for d in period.each_day()],
        "heatmap": heat,
    }


def actual(period: Period, clinic) -> dict:
    f = analytics.figures(period, clinic)
    return {
        "total": f["total"], "statuses": f["statuses"],
        "top_doctors": [(d["id"], d["appointments"]) for d in f["top_doctors"]],
        "top_patients": [(p["id"], p["appointments"]) for p in f["top_patients"]],
        "per_day": [(d["day"], d["appointments"]) for d in f["per_day"]],
        "heatmap": f["heatmap"]["counts"],
    }


def counters() -> tuple[set, set]:
    """The non-zero counters and patient totals."""
    c, t = AnalyticsCounter, PatientBookingTotal
    rows = {tuple(r) for r in db.session.execute(select(c.metric, c.grain, c.bucket, c.clinic_id, c.key, c.count)
                                                 .where(c.count != 0))}
    return rows, {tuple(r) for r in db.session.execute(select(t.patient_id, t.count).where(t.count != 0))}


def counted(clinic_id, booked: date, doctor_id, status, weekday_hour, n=1) -> set:
    """The eight counters one booking moves."""
    return {(metric, grain, bucket, clinic_id, key, n)
            for grain, bucket in (("day", booked), ("month", booked.replace(day=1)))
            for metric, key in (("total", "all"), ("status", status), ("doctor", str(doctor_id)),
                                ("hour", weekday_hour))}


def world(make_user):
    """Three clinics in three zones, a doctor in each (two in London), three patients, an admin (made once)."""
    admin = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    if admin is None:
        admin = make_user("admin", email="boss@example.com")
        for n, zone in enumerate(ZONES + ZONES[:1]):
            clinic = accounts.get_or_create_clinic(f"Clinic {zone}", zone)
            make_user("doctor", email=f"doc{n}@example.com", clinic=clinic, name=f"Dr {n}")
        for n in range(3):
            make_user("patient", email=f"pat{n}@example.com", name=f"Patient {n}")
    doctors = [db.session.scalar(select(User).where(User.email == f"doc{n}@example.com")).doctor for n in range(4)]
    patients = [db.session.scalar(select(User).where(User.email == f"pat{n}@example.com")).patient for n in range(3)]
    return admin, doctors, patients


book_op = st.tuples(st.just("book"), st.integers(0, 3), st.integers(0, 2), st.integers(-12, 12),
                    st.integers(0, 47), st.sampled_from(["pending", "approved"]))
change_op = st.tuples(st.just("change"), st.integers(0, 200), st.sampled_from(STATUSES))
age_op = st.tuples(st.just("age"), st.integers(0, 200), st.integers(0, 20 * 24))  # booked that many hours earlier
period_st = st.tuples(st.integers(-22, 0), st.integers(0, 22))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.one_of(book_op, change_op, age_op), min_size=1, max_size=18),
       periods=st.lists(period_st, min_size=1, max_size=3))
def test_every_figure_equals_a_direct_sql_count(app, make_user, ops, periods):
    admin, doctors, patients = world(make_user)
    for op in ops:
        if op[0] == "book":
            _, d, p, day, half_hour, status = op
            doctor = doctors[d]
            local = datetime.combine(BASE + timedelta(days=day), time(half_hour // 2, 30 * (half_hour % 2)))
            start = local.replace(tzinfo=doctor.clinic.tz).astimezone(timezone.utc)
            try:
                booking.override_book(admin, patients[p].id, doctor.id, start, 30, status=status)
            except Conflict:
                pass
        else:
            ids = db.session.scalars(select(Appointment.id).order_by(Appointment.id)).all()
            if not ids:
                continue
            appointment = db.session.get(Appointment, ids[op[1] % len(ids)])
            if op[0] == "age":
                appointment.created_at -= timedelta(hours=op[2])
                db.session.commit()
                continue
            after_start = appointment.start_at + timedelta(minutes=1)
            try:
                appointments.change_status(admin, appointment.id, op[2],
                                           now=after_start if op[2] in ("completed", "no_show") else None)
            except (Conflict, InvalidInput):
                pass
    today = utcnow().date()
    for offset, length in periods:
        period = Period(today + timedelta(days=offset), today + timedelta(days=offset + length))
        for clinic in [None, *{d.clinic for d in doctors}]:
            want = expected(period, clinic.id if clinic else None)
            assert actual(period, clinic) == want, (period, clinic)
            # The long-period way to the most active patients (all-time totals and a bound), one at a time:
            with patch.object(analytics_queries, "DIRECT_LIMIT", -1), patch.object(analytics_queries, "FIRST_BATCH", 1):
                assert actual(period, clinic)["top_patients"] == want["top_patients"], (period, clinic)
    before = counters()
    analytics_counters.rebuild()
    assert counters() == before  # what the flush hook kept equals a recount from scratch


BOOKED_AT = datetime(2026, 5, 1, 23, 30, tzinfo=timezone.utc)  # 1 May in New York; 2 May in London and Kolkata


def test_rolled_back_booking_leaves_the_counters_alone(app, make_user):
    admin, doctors, patients = world(make_user)
    start = datetime(2026, 5, 4, 9, tzinfo=timezone.utc)  # Monday 10:00 in London (BST)
    db.session.add(Appointment(patient_id=patients[0].id, doctor_id=doctors[0].id, clinic_id=doctors[0].clinic_id,
                               start_at=start, end_at=start + timedelta(minutes=15), created_at=BOOKED_AT))
    db.session.flush()
    db.session.rollback()
    assert counters() == (set(), set())
    with db.session.begin_nested():  # a savepoint that commits, inside a transaction that does
        db.session.add(Appointment(patient_id=patients[0].id, doctor_id=doctors[0].id, clinic_id=doctors[0].clinic_id,
                                   start_at=start, end_at=start + timedelta(minutes=15), created_at=BOOKED_AT))
    try:
        with db.session.begin_nested():  # and one that rolls back
            db.session.add(Appointment(patient_id=patients[1].id, doctor_id=doctors[0].id,
                                       clinic_id=doctors[0].clinic_id, start_at=start + timedelta(hours=1),
                                       end_at=start + timedelta(hours=1, minutes=15), created_at=BOOKED_AT))
            db.session.flush()
            raise RuntimeError("changed my mind")
    except RuntimeError:
        pass
    db.session.commit()
    assert counters() == (counted(doctors[0].clinic_id, date(2026, 5, 2), doctors[0].id, "pending", "0:10"),
                          {(patients[0].id, 1)})  # booked 00:30 on 2 May, London time


def test_changes_the_orm_never_loaded_still_move_the_right_counts(app, make_user):
    admin, doctors, patients = world(make_user)
    start = datetime(2026, 5, 4, 23, 30, tzinfo=timezone.utc)
    a = booking.override_book(admin, patients[0].id, doctors[0].id, start, 30)
    a.created_at = BOOKED_AT
    db.session.commit()  # expires everything: the next changes are made without the old values loaded
    a.doctor_id, a.clinic_id = doctors[1].id, doctors[1].clinic_id  # New York: Monday 4 May, 19:30
    db.session.commit()
    assert counters() == (counted(doctors[1].clinic_id, date(2026, 5, 1), doctors[1].id, "approved", "0:19"),
                          {(patients[0].id, 1)})
    a.doctor_id, a.clinic_id, a.patient_id = doctors[2].id, doctors[2].clinic_id, patients[1].id  # Kolkata
    db.session.commit()
    assert counters() == (counted(doctors[2].clinic_id, date(2026, 5, 2), doctors[2].id, "approved", "1:05"),
                          {(patients[1].id, 1)})  # Tuesday 5 May, 05:00
    db.session.delete(a)
    db.session.commit()
    assert counters() == (set(), set())


def test_period_rules():
    today = date(2026, 11, 30)
    assert analytics.resolve_period("today", None, None, today) == Period(today, today, "today")
    assert analytics.resolve_period("7d", date(2020, 1, 1), None, today) == Period(date(2026, 11, 24), today, "7d")
    assert analytics.resolve_period(None, None, None, today) == Period(date(2026, 11, 1), today, "30d")
    assert analytics.resolve_period(None, date(2024, 11, 30), today, today).days == 731  # exactly two years
    with pytest.raises(InvalidInput) as late:
        analytics.resolve_period("custom", date(2024, 11, 29), today, today)
    assert "to" in late.value.errors
    with pytest.raises(InvalidInput) as backwards:
        analytics.resolve_period(None, today, today - timedelta(days=1), today)
    assert "from" in backwards.value.errors


def test_peak_hours_in_words():
    heat = [[0] * 24 for _ in range(7)]
    assert analytics.peak_hours(heat) is None
    heat[1][9], heat[1][10], heat[4][15] = 5, 4, 6
    peak = analytics.peak_hours(heat)
    assert peak["text"] == "Busiest: Tuesdays 09:00–11:00" and peak["appointments"] == 9 and peak["share"] == 0.6
    heat[4][16] = 4  # Friday 15–17 now has 10
    assert analytics.peak_hours(heat)["text"] == "Busiest: Fridays 15:00–17:00"


def test_email_delivery_counts_the_outbox(app, make_user):
    admin, doctors, patients = world(make_user)
    london, new_york = doctors[0].clinic, doctors[1].clinic
    day = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)

    def email(status, attempts, clinic, when=day):
        db.session.add(EmailMessage(kind="confirmed", recipient="x@example.com", subject="s", body_text="b",
                                    status=status, attempts=attempts, clinic_id=clinic.id if clinic else None,
                                    last_attempt_at=when, next_attempt_at=when))

    for status, attempts in [("sent", 1), ("sent", 2), ("failed", 3), ("queued", 1), ("sending", 2),
                             ("sending", 1), ("queued", 0)]:
        email(status, attempts, london)
    email("sent", 1, new_york)
    email("failed", 3, None)
    email("sent", 1, london, when=day - timedelta(days=40))  # outside the period
    db.session.commit()
    period = Period(date(2026, 5, 20), date(2026, 6, 10))
    for _ in range(2):  # counted, then (closed days) read back from Redis
        assert analytics.figures(period, london)["emails"] == {"sent": 2, "retrying": 3, "failed": 1}
        assert analytics.figures(period)["emails"] == {"sent": 3, "retrying": 3, "failed": 2}
    email("sent", 1, london, when=utcnow())  # today's emails are always counted afresh
    db.session.commit()
    today = analytics.today_for(london)
    assert analytics.figures(Period(date(2026, 5, 20), today), london)["emails"]["sent"] == 3
    assert analytics.figures(Period(date(2026, 5, 20), today), london)["emails"]["sent"] == 3
