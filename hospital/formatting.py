"""Human-readable times in a clinic's time zone."""
from datetime import datetime


def local_time(moment: datetime, tz) -> str:
    """e.g. 'Mon 30 Nov 2026, 09:00 GMT'."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"
