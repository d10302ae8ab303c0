"""Domain events: blinker signals sent by services **after** their commit.

Side effects (cache invalidation, notifications, emails, live pushes) subscribe
here; a new side effect is a new subscriber, not an edit to every caller.
Payloads are plain ids and strings so subscribers load fresh state themselves.

Signals and their keyword arguments:

- ``appointment_booked``: appointment_id, doctor_id, patient_id, start (UTC datetime), actor_id, event_id
- ``appointment_status_changed``: appointment_id, doctor_id, patient_id, start,
  from_status, to_status, actor_id, event_id
- ``availability_changed``: doctor_id, clinic_id
- ``profile_updated``: user_id, kind ("patient" | "doctor"), profile_id
"""
from blinker import Namespace

signals = Namespace()

appointment_booked = signals.signal("appointment-booked")
appointment_status_changed = signals.signal("appointment-status-changed")
availability_changed = signals.signal("availability-changed")
profile_updated = signals.signal("profile-updated")


def emit(signal, **payload) -> None:
    """Send ``signal`` with ``payload``; call only after the transaction committed."""
    signal.send(None, **payload)
