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


def _span_to_utc(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start_utc = datetime.combine(day, start).replace(tzinfo=tz).astimezone(UTC)
    end_utc = datetime.combine(day, end).replace(tzinfo=tz).astimezone(UTC)
    return start_utc, end_utc


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
    whole_day_off = any(span is None for span in off)
    windows = ([] if whole_day_off else list(weekly)) + list(extra)
    blocked = [_span_to_utc(day, s, e, tz) for span in off if span is not None for s, e in [span]]
    blocked += list(busy)
    found: set[tuple[datetime, datetime]] = set()
    for start, end in windows:
        found.update(cut_window(day, start, end, tz, minutes))
    result = []
    for start, end in sorted(found):
        if earliest is not None and start < earliest:
            continue
        if any(overlaps(start, end, b_start, b_end) for b_start, b_end in blocked):
            continue
        if result and start < result[-1].end:
            continue  # overlapping windows: keep the earlier slot
        result.append(Slot(start, end, doctor_id))
    return result
