"""Email delivery for the analytics: the one place the analytics read the email outbox.

:func:`email_delivery` counts outbox rows (:class:`~hospital.models.EmailMessage`)
by their last attempt: ``sent``, ``retrying`` (an attempt failed and another is
coming or running) and ``failed`` (no attempts left). Retrying and failed rows
are few and counted directly; sent rows are the bulk of the outbox, so a day's
count is kept in Redis (as whole months and single days) once it can no longer
change, :data:`SETTLED` after the day ends: two years cost one hash read plus
today's rows. Redis holds nothing here that one query cannot rebuild.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import redis
from sqlalchemy import func, literal, select, union_all

from ..extensions import db
from ..models import EmailMessage, utcnow
from . import analytics_live, analytics_queries as q

SENT = "hospital:analytics:emails-sent"  # hash "<clinic id or 0>:<day|month>:<date>" -> emails sent
SETTLED = timedelta(hours=1)  # after a day ends, its late sends (timeouts, stale "sending" rows) are done
KEEP = 7 * 86400              # seconds the hash lives after its last write


def email_delivery(spans, unassigned: tuple | None = None, now: datetime | None = None) -> dict[str, int]:
    """``{"sent", "retrying", "failed"}`` for emails last attempted in the period.

    ``spans`` are ``[(clinic ids, from, to)]`` (each zone's clinics and the period
    in that zone); ``unassigned`` the span for emails of no clinic (e.g. the
    admins' daily summary), counted only when given.
    """
    now = now or utcnow()
    e = EmailMessage
    groups = [(list(ids), lo, hi) for ids, lo, hi in spans if ids] + ([([None], *unassigned)] if unassigned else [])
    closed = [_closed(lo, hi, now) for _, lo, hi in groups]
    queries = []
    for (ids, lo, hi), (live_from, _) in zip(groups, closed):  # each an index range; index-only but the last
        in_span = (_in(ids), e.last_attempt_at >= lo, e.last_attempt_at < hi)
        queries += [
            select(e.status, func.count()).where(e.status.in_(("failed", "queued")), *in_span).group_by(e.status),
            select(literal("sent"), func.count()).where(
                _in(ids), e.status == "sent", e.last_attempt_at >= live_from, e.last_attempt_at < hi),
            select(literal("sending again"), func.count()).where(e.status == "sending", e.attempts > 1, *in_span),
        ]
    result = {"sent": 0, "retrying": 0, "failed": 0}
    if not queries:
        return result
    names = {"failed": "failed", "sent": "sent", "queued": "retrying", "sending again": "retrying"}
    for status, count in db.session.execute(union_all(*queries)):  # one round trip
        # A queued row with an attempt behind it waits for its retry (a queued row never
        # tried has no last attempt, so it is not in the span); "sending" a second time retries.
        result[names[status]] += count
    result["sent"] += _settled_sent(groups, closed)
    return result


def _in(ids: list):
    return EmailMessage.clinic_id.is_(None) if ids == [None] else EmailMessage.clinic_id.in_(ids)


def _closed(lo: datetime, hi: datetime, now: datetime) -> tuple[datetime, list[tuple[str, date]]]:
    """(where the live count starts, the settled buckets before it) for the span [lo, hi)."""
    zone = lo.tzinfo
    first, last = lo.date(), hi.date() - timedelta(days=1)
    last_closed = min(last, (now - SETTLED).astimezone(zone).date() - timedelta(days=1))
    if last_closed < first:
        return lo, []
    buckets = [(grain, bucket) for grain, start, bound in q.parts(first, last_closed)
               for bucket in (_months(start, bound) if grain == "month" else _days(start, bound))]
    return q.span(last_closed, last_closed, zone)[1], buckets


def _days(start: date, bound: date):
    return (start + timedelta(days=n) for n in range((bound - start).days))


def _months(start: date, bound: date):
    while start < bound:
        yield start
        start = (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _settled_sent(groups, closed) -> int:
    """Sent emails of the settled days: from Redis, counted (and stored) where missing."""
    fields = [[f"{clinic_id or 0}:{grain}:{bucket}" for clinic_id in ids for grain, bucket in buckets]
              for (ids, _, _), (_, buckets) in zip(groups, closed)]
    cached = _read([f for group in fields for f in group])
    total, offset = 0, 0
    for (ids, lo, _), (live_from, buckets), names in zip(groups, closed, fields):
        values = cached[offset:offset + len(names)]
        offset += len(names)
        if any(v is None for v in values):
            sums: dict[tuple, int] = {}
            for (clinic, day), n in _count_days(ids, lo, live_from).items():
                for key in ((clinic, "day", day), (clinic, "month", day.replace(day=1))):
                    sums[key] = sums.get(key, 0) + n
            values = [sums.get((clinic_id or 0, grain, bucket), 0) for clinic_id in ids for grain, bucket in buckets]
            _write(dict(zip(names, values)))
        total += sum(int(v) for v in values)
    return total


def _count_days(ids: list, lo: datetime, hi: datetime) -> dict[tuple, int]:
    """Sent emails per (clinic id or 0, clinic-local day) from [lo, hi), ``lo``'s zone."""
    e, zone = EmailMessage, lo.tzinfo
    where = (e.status == "sent", _in(ids), e.last_attempt_at >= lo, e.last_attempt_at < hi)
    if db.session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone(zone.key, e.last_attempt_at))
        rows = db.session.execute(select(e.clinic_id, day, func.count()).where(*where).group_by(e.clinic_id, day))
        return {(clinic_id or 0, d): int(n) for clinic_id, d, n in rows}
    counts: dict[tuple, int] = {}  # SQLite (development): no time zones in SQL
    for clinic_id, at in db.session.execute(select(e.clinic_id, e.last_attempt_at).where(*where)):
        key = (clinic_id or 0, at.astimezone(zone).date())
        counts[key] = counts.get(key, 0) + 1
    return counts


def _read(fields: list[str]) -> list:
    if not fields or not analytics_live.usable():
        return [None] * len(fields)
    try:
        return analytics_live.redis_client().hmget(SENT, fields)
    except redis.RedisError as exc:
        analytics_live.failed("email counts", exc)
        return [None] * len(fields)


def _write(mapping: dict[str, int]) -> None:
    if mapping and analytics_live.usable():
        try:
            analytics_live.redis_client().pipeline().hset(SENT, mapping=mapping).expire(SENT, KEEP).execute()
        except redis.RedisError as exc:
            analytics_live.failed("email counts", exc)
