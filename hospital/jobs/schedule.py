"""The cron table, as data, and its idempotent registration with rq-scheduler.

Each entry has a fixed id: registering twice leaves one entry per job, and a
scheduled job whose id is no longer in the table is cancelled.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from rq_scheduler import Scheduler

log = logging.getLogger(__name__)
# No ":" in job ids: rq 2 reads "a:b" as an execution key of job "a" (Job.fetch("cron:x") looks up "cron"),
# so rq-scheduler could never fetch such an entry and silently dropped it when it came due.
ID_PREFIX = "cron-"


@dataclass(frozen=True)
class CronEntry:
    id: str
    func: str  # dotted path, resolved by the worker
    cron: str  # crontab syntax, in UTC
    kwargs: dict = field(default_factory=dict)
    description: str = ""


CRON_TABLE: list[CronEntry] = [
    CronEntry("live-reminders-sweep", "hospital.jobs.reminders.sweep_live_reminders", "* * * * *",
              description="15-minute live reminders the queue may have missed"),
    CronEntry("email-outbox-sweep", "hospital.jobs.emails.sweep_outbox", "* * * * *",
              description="re-enqueue outbox emails the queue lost (Redis down, killed worker)"),
    CronEntry("email-reminders-24h", "hospital.jobs.reminders.queue_day_reminders", "0 * * * *",
              description="day-before reminder emails for approved appointments in the next 24 hours"),
    CronEntry("daily-summary", "hospital.jobs.reports.send_daily_summaries", "5 * * * *",
              description="admins' daily summary per clinic, at DAILY_SUMMARY_HOUR clinic time"),
    CronEntry("cache-inactive-sweep", "hospital.jobs.cache_sweep.sweep_inactive_users", "* * * * *",
              description="drop cached pages of users inactive for 10 minutes"),
]


def register(scheduler: Scheduler, queue_name: str, table: list[CronEntry] | None = None) -> list[str]:
    """Make the scheduler's entries match ``table``; return the registered ids."""
    table = CRON_TABLE if table is None else table
    wanted = {ID_PREFIX + entry.id: entry for entry in table}
    for job in scheduler.get_jobs():
        if job.id.startswith(ID_PREFIX) and job.id not in wanted:
            log.info("cancelling cron entry no longer declared: %s", job.id)
            scheduler.cancel(job)
    for job_id, entry in wanted.items():
        if job_id in scheduler:
            scheduler.cancel(job_id)
        scheduler.cron(entry.cron, func=entry.func, kwargs=entry.kwargs, id=job_id,
                       queue_name=queue_name, description=entry.description or entry.id,
                       use_local_timezone=False)
    return sorted(wanted)
