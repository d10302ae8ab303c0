"""ORM models, one module per aggregate. Importing this package registers them all."""
from .clinic import Clinic
from .types import UTCDateTime, utcnow
from .user import ROLES, Doctor, Patient, User

__all__ = ["Clinic", "Doctor", "Patient", "ROLES", "User", "UTCDateTime", "utcnow"]
