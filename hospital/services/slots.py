"""Free-time arithmetic, free of the database: cut windows into slots.

All inputs are plain values so the rules can be property-tested across time
zones and DST changes. Windows are clinic-local wall-clock times; slots come
out as timezone-aware UTC instants.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime    # aware, UTC
    doctor_id: int = 0


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``; None if that time
    does not exist (skipped by a DST change). Ambiguous times take the first occurrence."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return utc


def wall_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first UTC instant at which the clinic's clock reads ``at`` or later on ``day``.

    For an existing time that is its (first) occurrence; for a time skipped by
    a DST change it is the moment of the change, so a window edge that falls
    in the gap never stretches the window.
    """
    exact = local_to_utc(day, at, tz)
    if exact is not None:
        return exact
    naive = datetime.combine(day, at)
    # Skipped time: the change lies between the two readings of the wall time.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    whole = hi.replace(microsecond=0)  # changes happen on whole seconds
    return whole if whole.astimezone(tz).replace(tzinfo=None) >= naive else whole + timedelta(seconds=1)


def _span_to_utc(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return wall_instant(day, start, tz), wall_instant(day, end, tz)


def cut_window(day: date, start: time, end: time, tz: ZoneInfo, minutes: int) -> list[tuple[datetime, datetime]]:
    """Cut one window into consecutive slots of ``minutes`` on the wall-clock grid.

    A slot whose wall-clock start does not exist is skipped; a slot must end
    (in real time) no later than the window's end.
    """
    step = timedelta(minutes=minutes)
    _, window_end = _span_to_utc(day, start, end, tz)
    slots = []
    cursor = datetime.combine(day, start)
    last = datetime.combine(day, end)
    while cursor + step <= last:
        slot_start = local_to_utc(day, cursor.time(), tz)
        if slot_start is not None and slot_start + step <= window_end:
            slots.append((slot_start, slot_start + step))
        cursor += step
    return slots


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def candidate_slots(
    day: date,
    tz: ZoneInfo,
    minutes: int,
    weekly: list[tuple[time, time]],
    extra: list[tuple[time, time]] = (),
    off: list[tuple[time, time] | None] = (),
    busy: list[tuple[datetime, datetime]] = (),
) -> list[tuple[datetime, datetime]]:
    """The day's grid of (start, end) UTC spans clear of time off and bookings, sorted.

    It does not depend on the clock, so it can be cached; :func:`pick_slots`
    applies the minimum notice per request.
    """
    whole_day_off = any(span is None for span in off)
    windows = ([] if whole_day_off else list(weekly)) + list(extra)
    blocked = [_span_to_utc(day, s, e, tz) for span in off if span is not None for s, e in [span]]
    blocked += list(busy)
    found: set[tuple[datetime, datetime]] = set()
    for start, end in windows:
        found.update(cut_window(day, start, end, tz, minutes))
    return [(start, end) for start, end in sorted(found)
            if not any(overlaps(start, end, b_start, b_end) for b_start, b_end in blocked)]


def pick_slots(candidates: list[tuple[datetime, datetime]], earliest: datetime | None = None,
               doctor_id: int = 0) -> list[Slot]:
    """Free slots from :func:`candidate_slots`: none before ``earliest``, none overlapping."""
    result = []
    for start, end in candidates:
        if earliest is not None and start < earliest:
            continue
        if result and start < result[-1].end:
            continue  # overlapping windows: keep the earlier slot
        result.append(Slot(start, end, doctor_id))
    return result


def compute_slots(
    day: date,
    tz: ZoneInfo,
    minutes: int,
    weekly: list[tuple[time, time]],
    extra: list[tuple[time, time]] = (),
    off: list[tuple[time, time] | None] = (),
    busy: list[tuple[datetime, datetime]] = (),
    earliest: datetime | None = None,
    doctor_id: int = 0,
) -> list[Slot]:
    """Free slots of one doctor on one clinic-local ``day``.

    ``weekly`` are the day's regular windows, ``extra`` dated extra hours,
    ``off`` dated time off (``None`` = the whole day's regular hours), ``busy``
    the UTC spans of active appointments, ``earliest`` the first allowed start
    (now + minimum notice).
    """
    return pick_slots(candidate_slots(day, tz, minutes, weekly, extra, off, busy), earliest, doctor_id)
