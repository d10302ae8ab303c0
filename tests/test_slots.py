"""Free-time rules, property-tested across time zones and DST changes (pure functions)."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hospital.services.slots import compute_slots, cut_window, local_to_utc

UTC = timezone.utc
ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
         "America/Sao_Paulo", "Europe/Berlin", "UTC"]
# Days around DST changes in several zones, plus ordinary days.
DAYS = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 9, 27), date(2026, 10, 4),
        date(2026, 10, 25), date(2026, 11, 1), date(2026, 6, 15), date(2026, 12, 2)]

quarter_times = st.integers(min_value=0, max_value=24 * 4 - 2).map(lambda q: time(q // 4, (q % 4) * 15))


@st.composite
def window(draw):
    start = draw(quarter_times)
    end_q = draw(st.integers(min_value=(start.hour * 4 + start.minute // 15) + 1, max_value=24 * 4 - 1))
    return start, time(end_q // 4, (end_q % 4) * 15)


def first_instant_reading(day, at, tz):
    """Reference, by brute force: the first whole minute (UTC) whose local reading on ``day`` is >= ``at``."""
    wanted = datetime.combine(day, at)
    readings = [wanted.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)]
    moment = min(readings).replace(second=0, microsecond=0) - timedelta(hours=2)
    while moment.astimezone(tz).replace(tzinfo=None) < wanted:
        moment += timedelta(minutes=1)
    return moment


def local_span_utc(day, span, tz):
    start, end = span
    return first_instant_reading(day, start, tz), first_instant_reading(day, end, tz)


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), day=st.sampled_from(DAYS), minutes=st.sampled_from([10, 15, 20, 30, 45, 60]),
       weekly=st.lists(window(), max_size=3), extra=st.lists(window(), max_size=2),
       off=st.lists(st.one_of(st.none(), window()), max_size=2),
       busy_offsets=st.lists(st.tuples(st.integers(0, 23 * 60), st.integers(5, 120)), max_size=4))
def test_free_times_never_overlap_bookings_and_stay_inside_availability(zone, day, minutes, weekly, extra, off, busy_offsets):
    tz = ZoneInfo(zone)
    midnight = datetime.combine(day, time()).replace(tzinfo=tz).astimezone(UTC)
    busy = [(midnight + timedelta(minutes=o), midnight + timedelta(minutes=o + length)) for o, length in busy_offsets]
    slots = compute_slots(day, tz, minutes, weekly, extra, off, busy)

    whole_day_off = any(span is None for span in off)
    allowed = [local_span_utc(day, w, tz) for w in ([] if whole_day_off else weekly) + extra]
    blocked = [local_span_utc(day, s, tz) for s in off if s is not None]
    for slot in slots:
        assert slot.end - slot.start == timedelta(minutes=minutes)
        assert slot.start.tzinfo is not None and slot.start.utcoffset() == timedelta(0)
        # inside some availability window (real time) ...
        assert any(lo <= slot.start and slot.end <= hi for lo, hi in allowed)
        # ... never overlapping a booking or time off
        assert not any(slot.start < b_end and b_start < slot.end for b_start, b_end in busy + blocked)
        # ... and on the clinic's wall-clock grid
        assert slot.start.astimezone(tz).minute % 5 == 0
    for a, b in zip(slots, slots[1:]):
        assert a.end <= b.start  # no two free times overlap


@settings(max_examples=100, deadline=None)
@given(zone=st.sampled_from(ZONES), day=st.sampled_from(DAYS), weekly=st.lists(window(), min_size=1, max_size=3))
def test_earliest_start_is_respected(zone, day, weekly):
    tz = ZoneInfo(zone)
    earliest = datetime.combine(day, time(12)).replace(tzinfo=tz).astimezone(UTC)
    assert all(s.start >= earliest for s in compute_slots(day, tz, 15, weekly, earliest=earliest))


def test_spring_forward_skips_missing_hour():
    london = ZoneInfo("Europe/London")
    day = date(2026, 3, 29)  # 01:00 -> 02:00
    slots = cut_window(day, time(0, 0), time(3, 0), london, 30)
    local = [s.astimezone(london).strftime("%H:%M") for s, _ in slots]
    assert "01:00" not in local and "01:30" not in local
    assert local[:2] == ["00:00", "00:30"]
    assert local_to_utc(day, time(1, 30), london) is None


def test_fall_back_keeps_slots_distinct():
    new_york = ZoneInfo("America/New_York")
    day = date(2026, 11, 1)  # 02:00 -> 01:00
    slots = compute_slots(day, new_york, 30, [(time(0, 0), time(4, 0))])
    starts = [s.start for s in slots]
    assert len(starts) == len(set(starts))
    assert all(a.end <= b.start for a, b in zip(slots, slots[1:]))


def test_window_is_cut_into_consultation_length():
    slots = compute_slots(date(2026, 6, 15), ZoneInfo("Europe/London"), 20, [(time(9), time(10))])
    assert [s.start.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") for s in slots] == ["09:00", "09:20", "09:40"]


def test_day_off_removes_regular_hours_but_keeps_extra_hours():
    tz = ZoneInfo("Europe/London")
    slots = compute_slots(date(2026, 6, 15), tz, 30, [(time(9), time(12))], extra=[(time(18), time(19))], off=[None])
    assert [s.start.astimezone(tz).strftime("%H:%M") for s in slots] == ["18:00", "18:30"]
