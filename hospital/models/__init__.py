"""ORM models, one module per aggregate. Importing this package registers them all."""
from .analytics import AnalyticsCounter, PatientBookingTotal
from .appointment import ACTIVE_STATUSES, STATUSES, Appointment, AppointmentEvent
from .chat import ChatClosure, ChatMessage
from .clinic import Clinic
from .email import EMAIL_KINDS, EMAIL_STATUSES, EmailMessage
from .notification import Notification
from .schedule import EXCEPTION_KINDS, WEEKDAYS, AvailabilityException, AvailabilityWindow
from .types import UTCDateTime, utcnow
from .user import ROLES, Doctor, Patient, User

__all__ = ["ACTIVE_STATUSES", "Appointment", "AppointmentEvent", "AvailabilityException",
           "AvailabilityWindow", "Clinic", "Doctor", "EMAIL_KINDS", "EMAIL_STATUSES", "EmailMessage", "EXCEPTION_KINDS", "Notification", "Patient", "ROLES", "STATUSES",
           "User", "UTCDateTime", "WEEKDAYS", "utcnow"]
__all__ += ["ChatClosure", "ChatMessage"]
__all__ += ["AnalyticsCounter", "PatientBookingTotal"]
