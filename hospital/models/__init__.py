"""ORM models, one module per aggregate. Importing this package registers them all."""
from .appointment import ACTIVE_STATUSES, STATUSES, Appointment, AppointmentEvent
from .clinic import Clinic
from .notification import Notification
from .schedule import EXCEPTION_KINDS, WEEKDAYS, AvailabilityException, AvailabilityWindow
from .types import UTCDateTime, utcnow
from .user import ROLES, Doctor, Patient, User

__all__ = ["ACTIVE_STATUSES", "Appointment", "AppointmentEvent", "AvailabilityException",
           "AvailabilityWindow", "Clinic", "Doctor", "EXCEPTION_KINDS", "Notification", "Patient", "ROLES", "STATUSES",
           "User", "UTCDateTime", "WEEKDAYS", "utcnow"]
