"""Domain events: blinker signals sent by services **after** their commit.

Side effects (cache invalidation, notifications, emails, live pushes) subscribe
here; a new side effect is a new subscriber, not an edit to every caller.
Payloads are plain ids and strings so subscribers load fresh state themselves.

Signals and their keyword arguments:

- ``appointment_booked``: appointment_id, doctor_id, patient_id, start (UTC datetime), actor_id, event_id
- ``appointment_status_changed``: appointment_id, doctor_id, patient_id, start,
  from_status, to_status, actor_id, event_id
- ``availability_changed``: doctor_id, clinic_id
- ``profile_updated``: user_id, kind ("patient" | "doctor"), profile_id (also sent
  when a doctor account is created: the directory changes)

Sent **inside** the transaction, before its commit (subscribers may add rows to
``db.session`` but never commit; an error in one aborts the change, which is
the point: the change and, e.g., its outbox email commit together or not at all):

- ``appointment_status_changing``: appointment_id, from_status (None for a new
  booking), to_status, actor_id
"""
import functools
import logging

from blinker import Namespace

from .extensions import db

log = logging.getLogger(__name__)

signals = Namespace()

appointment_booked = signals.signal("appointment-booked")
appointment_status_changed = signals.signal("appointment-status-changed")
availability_changed = signals.signal("availability-changed")
profile_updated = signals.signal("profile-updated")
appointment_status_changing = signals.signal("appointment-status-changing")


def emit_in_transaction(signal, **payload) -> None:
    """Send an in-transaction ``signal``: call after flushing, before the commit."""
    signal.send(None, **payload)


# Receivers that must run before the others (blinker does not order receivers):
# cache invalidation, so that a live push never sends a browser to fetch stale data.
_first: dict[str, list] = {}


def connect_first(signal, receiver) -> None:
    """Connect ``receiver`` to run before ``signal``'s ordinary receivers (idempotent)."""
    receivers = _first.setdefault(signal.name, [])
    if receiver not in receivers:
        receivers.append(receiver)


def emit(signal, **payload) -> None:
    """Send ``signal`` with ``payload``; call only after the transaction committed."""
    for receiver in _first.get(signal.name, ()):
        receiver(None, **payload)
    signal.send(None, **payload)


def safe_subscriber(handler):
    """Wrap an after-commit subscriber: it takes the payload as keywords, and a
    failure is logged and rolled back without undoing the committed change."""
    @functools.wraps(handler)
    def wrapped(sender, **payload):
        try:
            handler(**payload)
        except Exception:
            db.session.rollback()
            log.exception("subscriber %s failed for %s", handler.__name__, payload)
    return wrapped
