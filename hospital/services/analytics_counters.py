"""The analytics counters, kept exact in the transaction of the change they count.

Why ORM session hooks rather than a subscriber to the after-commit domain events:
a counter bumped after the commit is lost when the process dies in between, and
the counters would drift from the appointments they count. Here every inserted,
deleted or changed :class:`~hospital.models.Appointment` becomes +1/−1 deltas
that are written just before its transaction commits, so they commit or roll
back with the change.

- ``before_flush`` reads the old values (status, times, doctor, clinic, patient) of
  changed or deleted appointments ``FOR UPDATE`` (the rows are about to be
  updated anyway), so they are right even when the ORM never loaded them.
- ``after_flush`` turns the flush into deltas, remembered with the (sub)transaction
  they belong to; a savepoint or transaction that rolls back drops its own.
- ``before_commit`` upserts the summed deltas in key order, as the transaction's
  last statements: the busy monthly rows are locked only for the commit itself,
  and concurrent transactions lock them in the same order.
- Writes that bypass the ORM (raw SQL, database cascades) are not seen: run
  :func:`rebuild` (``flask analytics rebuild``) after them, and after moving a
  clinic to another time zone (counters are by clinic-local day).

After the commit of any transaction that wrote appointments or outbox emails
(the email worker's bulk UPDATEs included),
:func:`hospital.services.analytics_live.announce` tells the admins' pages.
"""
from __future__ import annotations

import logging
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, func, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AnalyticsCounter, Appointment, Clinic, EmailMessage, PatientBookingTotal
from . import analytics_live

log = logging.getLogger(__name__)
TRACKED = ("status", "start_at", "created_at", "doctor_id", "clinic_id", "patient_id")
_COLUMNS = [getattr(Appointment, name) for name in TRACKED]
_OLD = "analytics_old_values"   # session.info: appointment id -> its TRACKED values before the flush
_PENDING = "analytics_pending"  # session.info: [(SessionTransaction, changes)] not yet written
_CHANGED = "analytics_changed"  # session.info: reasons to announce after the commit
COUNTERS = AnalyticsCounter.__table__
TOTALS = PatientBookingTotal.__table__


# --- the session hooks ------------------------------------------------------------

def _changed(appointment: Appointment) -> bool:
    state = inspect(appointment)
    return any(state.attrs[name].history.has_changes() for name in TRACKED)


def _before_flush(session: Session, _context, _instances) -> None:
    ids = [a.id for a in session.dirty if isinstance(a, Appointment) and a.id is not None and _changed(a)]
    ids += [a.id for a in session.deleted if isinstance(a, Appointment) and a.id is not None]
    if ids:
        rows = session.connection().execute(
            select(Appointment.id, *_COLUMNS).where(Appointment.id.in_(ids)).with_for_update())
        session.info.setdefault(_OLD, {}).update({row[0]: tuple(row[1:]) for row in rows})


def _after_flush(session: Session, _context) -> None:
    old = session.info.pop(_OLD, {})
    changes: list[tuple[int, tuple]] = []
    for obj in session.new:
        if isinstance(obj, Appointment):
            changes.append((+1, _values(obj)))
    for obj in session.dirty:
        if isinstance(obj, Appointment) and obj.id in old:
            changes += [(-1, old[obj.id]), (+1, _values(obj))]
    for obj in session.deleted:
        if isinstance(obj, Appointment) and obj.id in old:
            changes.append((-1, old[obj.id]))
    if changes:
        current = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_PENDING, []).append((current, changes))
        session.info.setdefault(_CHANGED, set()).add("appointments")
    if any(isinstance(obj, EmailMessage) for group in (session.new, session.dirty, session.deleted) for obj in group):
        session.info.setdefault(_CHANGED, set()).add("emails")


def _values(a: Appointment) -> tuple:
    return tuple(getattr(a, name) for name in TRACKED)


def _on_execute(state) -> None:
    """Bulk UPDATE/DELETE statements (the email worker's claims and results) skip the flush."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        entity = state.bind_mapper.class_
        if entity is EmailMessage:
            state.session.info.setdefault(_CHANGED, set()).add("emails")
        elif entity is Appointment:
            log.warning("a bulk change of appointments bypasses the analytics counters: run `flask analytics rebuild`")


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # the commit would flush after this hook: make the last changes' deltas now
    pending = session.info.pop(_PENDING, None)
    if pending:
        apply(session.connection(), [change for _, changes in pending for change in changes])


def _after_soft_rollback(session: Session, previous) -> None:
    """Drop the deltas of the (sub)transaction that rolled back, and of those inside it."""
    def inside(transaction) -> bool:
        while transaction is not None:
            if transaction is previous:
                return True
            transaction = transaction.parent
        return False

    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(t, changes) for t, changes in pending if not inside(t)]
    if not session.in_transaction():
        for key in (_PENDING, _CHANGED, _OLD):
            session.info.pop(key, None)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    reasons = session.info.pop(_CHANGED, None)
    if reasons:
        analytics_live.announce(reasons)


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    for name, handler in (("before_flush", _before_flush), ("after_flush", _after_flush),
                          ("do_orm_execute", _on_execute), ("before_commit", _before_commit),
                          ("after_soft_rollback", _after_soft_rollback), ("after_commit", _after_commit)):
        if not event.contains(Session, name, handler):
            event.listen(Session, name, handler)


# --- applying deltas ------------------------------------------------------------------

def deltas(changes: list[tuple[int, tuple]], zones: dict[int, ZoneInfo]) -> tuple[Counter, Counter]:
    """(counter, patient total) deltas from ``(sign, TRACKED values)`` pairs."""
    counters, patients = Counter(), Counter()
    for sign, (status, start, created, doctor_id, clinic_id, patient_id) in changes:
        zone = zones[clinic_id]
        booked, start = created.astimezone(zone).date(), start.astimezone(zone)
        for grain, bucket in (("day", booked), ("month", booked.replace(day=1))):
            counters[("total", grain, bucket, clinic_id, "all")] += sign
            counters[("status", grain, bucket, clinic_id, status)] += sign
            counters[("doctor", grain, bucket, clinic_id, str(doctor_id))] += sign
            counters[("hour", grain, bucket, clinic_id, f"{start.weekday()}:{start.hour:02d}")] += sign
        patients[(patient_id,)] += sign
    return counters, patients


def _upsert(connection, table, keys: list[str], counts: Counter) -> None:
    rows = [dict(zip(keys, key), count=n) for key, n in sorted(counts.items()) if n]
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for chunk in range(0, len(rows), 500):  # SQLite caps the parameters of one statement
        statement = insert(table).values(rows[chunk:chunk + 500])
        connection.execute(statement.on_conflict_do_update(
            index_elements=keys, set_={"count": table.c.count + statement.excluded.count}))


def apply(connection, changes: list[tuple[int, tuple]]) -> None:
    """Add the deltas of ``changes`` to the counters on ``connection``."""
    clinic_ids = sorted({values[4] for _, values in changes})
    zones = {cid: ZoneInfo(name) for cid, name in connection.execute(
        select(Clinic.id, Clinic.timezone).where(Clinic.id.in_(clinic_ids)))}
    counters, patients = deltas(changes, zones)
    _upsert(connection, COUNTERS, ["metric", "grain", "bucket", "clinic_id", "key"], counters)
    _upsert(connection, TOTALS, ["patient_id"], patients)


# --- rebuilding from the appointments ------------------------------------------------------

_PG_REBUILD = [text("""
    INSERT INTO analytics_counters (metric, grain, bucket, clinic_id, key, count)
    WITH a AS MATERIALIZED (
        SELECT a.clinic_id, (a.created_at AT TIME ZONE c.timezone)::date AS day, a.status, a.doctor_id,
               (extract(isodow FROM a.start_at AT TIME ZONE c.timezone)::int - 1) || ':'
               || to_char(a.start_at AT TIME ZONE c.timezone, 'HH24') AS hour
        FROM appointments a JOIN clinics c ON c.id = a.clinic_id)
    SELECT 'total', 'day', day, clinic_id, 'all', count(*) FROM a GROUP BY day, clinic_id
    UNION ALL SELECT 'status', 'day', day, clinic_id, status, count(*) FROM a GROUP BY day, clinic_id, status
    UNION ALL SELECT 'doctor', 'day', day, clinic_id, doctor_id::text, count(*) FROM a GROUP BY day, clinic_id, doctor_id
    UNION ALL SELECT 'hour', 'day', day, clinic_id, hour, count(*) FROM a GROUP BY day, clinic_id, hour"""), text("""
    INSERT INTO analytics_counters (metric, grain, bucket, clinic_id, key, count)
    SELECT metric, 'month', date_trunc('month', bucket)::date, clinic_id, key, sum(count)
    FROM analytics_counters WHERE grain = 'day' GROUP BY 1, 3, 4, 5"""), text("""
    INSERT INTO patient_booking_totals (patient_id, count) SELECT patient_id, count(*) FROM appointments GROUP BY 1""")]


def rebuild() -> dict[str, int]:
    """Recompute the counters from ``appointments`` in one transaction; returns row counts.

    Safe while the app runs: on PostgreSQL the counter tables are locked against
    writes (not reads) first, so a booking committed meanwhile is counted once,
    either in the rebuilt rows or by its own upsert after the rebuild commits.
    """
    session = db.session
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE analytics_counters, patient_booking_totals IN EXCLUSIVE MODE"))
    connection.execute(delete(COUNTERS))
    connection.execute(delete(TOTALS))
    if connection.dialect.name == "postgresql":
        for statement in _PG_REBUILD:
            connection.execute(statement)
    else:  # SQLite (development): no time zones in SQL, so count in Python
        apply(connection, [(+1, tuple(row)) for row in connection.execute(select(*_COLUMNS))])
    result = {"counter_rows": connection.execute(select(func.count()).select_from(COUNTERS)).scalar_one(),
              "patients": connection.execute(select(func.count()).select_from(TOTALS)).scalar_one()}
    session.info.pop(_PENDING, None)
    session.commit()
    analytics_live.announce({"appointments"})
    log.info("analytics counters rebuilt: %s", result)
    return result
