"""The admin's analytics: one function, :func:`figures`, behind the page, the API and the CSV.

Every figure about appointments counts the appointments *booked* in the period
(``created_at``), of any status, by the clinic-local day in each appointment's
own clinic; a period is whole days, ``start`` to ``end`` inclusive. So the page
moves the moment someone books: that is demand. Status counts are of the
current status; the heatmap places each booking at the weekday and hour it was
booked *for* (clinic time). Sources, chosen so that two years of a large
hospital cost about what a month does (SQL in :mod:`.analytics_queries`):

- status counts, busiest doctors, bookings per day, the weekday × hour heatmap:
  ``analytics_counters`` (day and month grains, exact);
- most active patients: the period's bookings counted per patient, or for a long
  period the all-time totals with an exactness bound;
- email delivery: :func:`.analytics_emails.email_delivery`, the one reader of the email outbox;
- connected users: :mod:`hospital.services.presence`; cache: :func:`hospital.cache.cache_stats`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..cache import cache_stats
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import STATUSES, Clinic, utcnow
from . import analytics_queries as q, presence
from .analytics_emails import email_delivery
from .analytics_queries import TOP

PRESETS = {"today": 1, "7d": 7, "30d": 30}
PERIOD_NAMES = (*PRESETS, "custom")
MAX_YEARS = 2
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Period:
    """Whole clinic-local days, ``start`` to ``end`` inclusive."""
    start: date
    end: date
    name: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self):
        return (self.start + timedelta(days=n) for n in range(self.days))


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def resolve_period(name: str | None, start: date | None, end: date | None, today: date) -> Period:
    """A preset (``today``, ``7d``, ``30d``: ending today) or ``custom`` from ``start`` to ``end``.

    Without a name, given dates mean custom and no dates mean ``30d``. A missing
    ``end`` is today, a missing ``start`` 30 days before ``end``. 422 naming the
    field when ``start`` is after ``end`` or the period is longer than two years.
    """
    name = name or ("custom" if start or end else "30d")
    if name not in PERIOD_NAMES:
        raise InvalidInput("Unknown period", {"period": [f"One of: {', '.join(PERIOD_NAMES)}"]})
    if name in PRESETS:
        return Period(today - timedelta(days=PRESETS[name] - 1), today, name)
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise InvalidInput("The period starts after it ends", {"from": ["Must be on or before the end date"]})
    if end > _years_later(start, MAX_YEARS):
        raise InvalidInput("The period is longer than two years", {"to": ["At most two years after the start date"]})
    return Period(start, end, "custom")


def get_clinic(clinic_id: int | None) -> Clinic | None:
    """The clinic to filter by (None: every clinic); 404 for an unknown id."""
    if clinic_id is None:
        return None
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("No such clinic", {"clinic_id": ["Unknown clinic"]})
    return clinic


def zone_of(clinic: Clinic | None) -> ZoneInfo:
    """The zone "today" is read in: the clinic's, or the default one for every clinic."""
    return clinic.tz if clinic else ZoneInfo(current_app.config["DEFAULT_CLINIC_TIMEZONE"])


def today_for(clinic: Clinic | None, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(zone_of(clinic)).date()


def clinics() -> list[Clinic]:
    return list(db.session.scalars(select(Clinic).order_by(Clinic.name)))


# --- the figures ---------------------------------------------------------------

def figures(period: Period, clinic: Clinic | None = None, now: datetime | None = None) -> dict:
    """Every figure of the analytics page for ``period`` and ``clinic`` (None: all), JSON-ready."""
    now = now or utcnow()
    clinic_id = clinic.id if clinic else None
    sums, days = q.counter_sums(period.start, period.end, clinic_id)
    statuses = {status: sums["status"].get(status, 0) for status in STATUSES}
    total = sum(sums["status"].values())
    doctors = sorted(((n, int(key)) for key, n in sums["doctor"].items() if n > 0), key=lambda t: (-t[0], t[1]))[:TOP]
    names = q.doctor_names([d for _, d in doctors])
    heatmap = [[0] * 24 for _ in WEEKDAYS]
    for key, n in sums["hour"].items():
        weekday, hour = key.split(":")
        heatmap[int(weekday)][int(hour)] = n
    spans = q.spans(period.start, period.end, clinic)
    return {
        "period": {"name": period.name, "from": period.start.isoformat(), "to": period.end.isoformat(),
                   "days": period.days},
        "clinic": {"id": clinic.id, "name": clinic.name, "timezone": clinic.timezone} if clinic else None,
        "generated_at": now.isoformat(),
        "total": total,
        "statuses": statuses,
        "top_doctors": [{"id": d, "name": names.get(d, f"Doctor #{d}"), "appointments": n} for n, d in doctors],
        "top_patients": q.top_patients(spans, total),
        "per_day": [{"day": d.isoformat(), "appointments": days.get(d, 0)} for d in period.each_day()],
        "heatmap": {"weekdays": list(WEEKDAYS), "hours": list(range(24)), "counts": heatmap},
        "peak": peak_hours(heatmap),
        "emails": email_delivery(spans, None if clinic else q.span(period.start, period.end, zone_of(None))),
        **live_figures(),
    }


def live_figures() -> dict:
    """The figures that are about now, not the period: connected users and the cache."""
    return {"connected": presence.connected(), "cache": cache_ratio()}


def cache_ratio() -> dict | None:
    """Overall and per-family hit ratios from :func:`hospital.cache.cache_stats` (None when unavailable)."""
    try:
        stats = cache_stats() or {}
    except Exception:  # the cache is an optimisation: its trouble must not break the page
        return None
    hits = sum(int(s.get("hits", 0)) for s in stats.values())
    misses = sum(int(s.get("misses", 0)) for s in stats.values())
    return {"hits": hits, "misses": misses, "ratio": hits / (hits + misses) if hits + misses else None,
            "families": {name: {"hits": int(s.get("hits", 0)), "misses": int(s.get("misses", 0)),
                                "ratio": s.get("hit_ratio")} for name, s in sorted(stats.items())}}


def peak_hours(heatmap: list[list[int]]) -> dict | None:
    """The busiest two consecutive hours of one weekday, in words ("Busiest: Tuesdays 09:00–11:00").

    Ties go to the earlier weekday and hour; an empty hour at either end is left out.
    """
    total = sum(map(sum, heatmap))
    if not total:
        return None
    _, day, hour = max((sum(heatmap[d][h:h + 2]), -d, -h) for d in range(7) for h in range(24))
    day, hour = -day, -hour
    busy = [h for h in (hour, hour + 1) if h < 24 and heatmap[day][h]]
    start, end = busy[0], busy[-1] + 1
    n = sum(heatmap[day][start:end])
    return {"text": f"Busiest: {WEEKDAYS[day]}s {start:02d}:00–{end:02d}:00", "weekday": day,
            "from_hour": start, "to_hour": end, "appointments": n, "share": n / total}
