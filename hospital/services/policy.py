"""Booking policy values from the app config, with the defaults users expect."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app


@dataclass(frozen=True)
class BookingPolicy:
    min_notice: timedelta = timedelta(hours=1)
    horizon_days: int = 60
    cancellation_notice: timedelta = timedelta(hours=2)


def booking_policy() -> BookingPolicy:
    config = current_app.config
    return BookingPolicy(
        min_notice=timedelta(minutes=config.get("BOOKING_MIN_NOTICE_MINUTES", 60)),
        horizon_days=config.get("BOOKING_HORIZON_DAYS", 60),
        cancellation_notice=timedelta(minutes=config.get("CANCELLATION_NOTICE_MINUTES", 120)),
    )
