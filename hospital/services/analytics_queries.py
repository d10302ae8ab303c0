"""The SQL behind :func:`hospital.services.analytics.figures`, kept apart so the figures read plainly.

Costs stay flat however long the period: counters are read at month grain for
the period's full months and at day grain for the days either side
(:func:`parts`), and the most active patients of a long period are found from
all-time totals with an exactness bound (:func:`top_patients`).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, desc, false, func, literal, or_, select, tuple_, union_all

from ..extensions import db
from ..models import AnalyticsCounter, Appointment, Clinic, Doctor, Patient, PatientBookingTotal
from ..models.analytics import METRICS

TOP = 10
DIRECT_LIMIT = 50_000       # bookings in a period up to which counting them all per patient is cheapest
CANDIDATE_LIMIT = 20_000    # patients examined by the bound before counting everything instead
FIRST_BATCH = 64            # candidates in the first round of the bound; each round examines 4x more


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def parts(start: date, end: date) -> list[tuple[str, date, date]]:
    """``(grain, first bucket, bound)`` covering the days ``start``–``end`` (inclusive): whole
    calendar months at month grain, the days before and after them at day grain."""
    after = end + timedelta(days=1)
    first = start if start.day == 1 else _next_month(start)
    last = after.replace(day=1)  # months before this one end inside the period
    if first >= last:
        return [("day", start, after)]
    found = [("month", first, last)]
    if start < first:
        found.append(("day", start, first))
    if last < after:
        found.append(("day", last, after))
    return found


def counter_sums(start: date, end: date, clinic_id: int | None) -> tuple[dict[str, dict[str, int]], dict[date, int]]:
    """``({metric: {key: count}}, {day: bookings})`` over the period, in one round trip of index ranges."""
    c = AnalyticsCounter
    ranges = [and_(c.metric == m, c.grain == g, c.bucket >= lo, c.bucket < hi)
              for m in METRICS if m != "total" for g, lo, hi in parts(start, end)]
    by_key = select(c.metric, c.key, func.sum(c.count)).where(or_(*ranges))
    by_day = select(literal("day"), cast(c.bucket, String), func.sum(c.count)).where(
        c.metric == "total", c.grain == "day", c.bucket >= start, c.bucket <= end)
    if clinic_id:
        by_key, by_day = by_key.where(c.clinic_id == clinic_id), by_day.where(c.clinic_id == clinic_id)
    sums: dict[str, dict[str, int]] = {m: {} for m in METRICS if m != "total"}
    days: dict[date, int] = {}
    for metric, key, n in db.session.execute(union_all(by_key.group_by(c.metric, c.key), by_day.group_by(c.bucket))):
        if metric == "day":
            days[date.fromisoformat(key)] = int(n)
        else:
            sums[metric][key] = int(n)
    return sums, days


def doctor_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Doctor.id, Doctor.name).where(Doctor.id.in_(ids))).all())


# --- spans of time per clinic --------------------------------------------------------

def span(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The days ``start``–``end`` as instants in ``zone``: [first midnight, the midnight after the last day)."""
    return (datetime.combine(start, time()).replace(tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time()).replace(tzinfo=zone))


def spans(start: date, end: date, clinic: Clinic | None) -> list[tuple[list[int], datetime, datetime]]:
    """``[(clinic ids, from, to)]``: the period's span for the clinics of each time zone."""
    rows = [(clinic.id, clinic.timezone)] if clinic else db.session.execute(select(Clinic.id, Clinic.timezone)).all()
    by_zone: dict[str, list[int]] = defaultdict(list)
    for clinic_id, zone in rows:
        by_zone[zone].append(clinic_id)
    return [(ids, *span(start, end, ZoneInfo(zone))) for zone, ids in sorted(by_zone.items())]


def within(column, clinic_column, spans_, unassigned: tuple | None = None):
    """``column`` inside its clinic's span; rows of no clinic inside ``unassigned`` when given."""
    found = [and_(clinic_column.in_(ids), column >= lo, column < hi) for ids, lo, hi in spans_]
    if unassigned:
        found.append(and_(clinic_column.is_(None), column >= unassigned[0], column < unassigned[1]))
    return or_(*found) if found else false()


# --- the most active patients -----------------------------------------------------------

def _booked(spans_):
    a = Appointment
    outer = [a.created_at >= min(lo for _, lo, _ in spans_), a.created_at < max(hi for _, _, hi in spans_)] \
        if spans_ else [false()]
    return select(a.patient_id, func.count().label("n")).where(*outer, within(a.created_at, a.clinic_id, spans_))


def _count_all(spans_) -> list[tuple[int, int]]:
    """Every booking of the period counted per patient (an index-only scan in time order)."""
    query = _booked(spans_).group_by(Appointment.patient_id).order_by(desc("n"), Appointment.patient_id).limit(TOP)
    return [(pid, int(n)) for pid, n in db.session.execute(query)]


def _count_candidates(spans_) -> list[tuple[int, int]] | None:
    """The threshold algorithm: examine patients by all-time bookings, most first, counting
    each one's bookings in the period; stop once the tenth best count beats the all-time
    total of everyone not yet examined (nobody left can overtake). None: gave up."""
    t = PatientBookingTotal
    found: dict[int, int] = {}
    last, batch = None, FIRST_BATCH
    while len(found) < CANDIDATE_LIMIT:
        query = select(t.patient_id, t.count).order_by(t.count.desc(), t.patient_id.desc()).limit(batch)
        if last is not None:
            query = query.where(tuple_(t.count, t.patient_id) < last)
        rows = db.session.execute(query).all()
        if rows:
            ids = [pid for pid, _ in rows]
            counted = dict(db.session.execute(_booked(spans_).where(Appointment.patient_id.in_(ids))
                                              .group_by(Appointment.patient_id)).all())
            found.update({pid: int(counted.get(pid, 0)) for pid in ids})
            last = (rows[-1][1], rows[-1][0])  # (all-time count, patient id) of the last one examined
        top = sorted((-n, pid) for pid, n in found.items() if n > 0)[:TOP]
        if not rows or len(rows) < batch or last[0] <= 0 or (len(top) == TOP and -top[-1][0] > last[0]):
            return [(pid, -n) for n, pid in top]
        batch *= 4
    return None


def top_patients(spans_, bookings: int) -> list[dict]:
    """The ten patients with most bookings in the period (ties: lower id first), exactly.

    ``bookings`` (the period's total, from the counters) picks the cheaper way:
    count every booking for a short period, use the all-time bound for a long one.
    """
    ranked = (_count_candidates(spans_) if bookings > DIRECT_LIMIT else None) or _count_all(spans_)
    names = dict(db.session.execute(select(Patient.id, Patient.name).where(
        Patient.id.in_([pid for pid, _ in ranked]))).all()) if ranked else {}
    return [{"id": pid, "name": names.get(pid, f"Patient #{pid}"), "appointments": n} for pid, n in ranked]
