"""A clinic: the tenant every doctor and appointment belongs to."""
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(120), unique=True)
    timezone: Mapped[str] = mapped_column(db.String(64), default="Europe/London")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Clinic {self.id} {self.name}>"
