"""Periodic cache upkeep: drop what inactive users had cached (cron, every minute)."""
from __future__ import annotations

import logging

from .. import cache

log = logging.getLogger(__name__)


def sweep_inactive_users() -> int:
    """Drop cached entries of users without a request for ``CACHE_INACTIVE_AFTER`` seconds.

    Takes no arguments and reads only Redis; safe to run twice or concurrently
    (deleting a deleted key is a no-op). Returns the number of keys removed.
    """
    removed = cache.sweep_inactive_users()
    if removed:
        log.info("cache sweep: dropped %d entries of inactive users", removed)
    return removed
