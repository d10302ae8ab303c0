"""Background processes.

``python worker.py``            an RQ worker (with RQ's scheduler for delayed jobs and retries)
``python worker.py scheduler``  the cron scheduler (rq-scheduler) running the cron table
"""
import logging
import os
import sys

# A worker only sends Socket.IO messages (through the Redis queue): no async server.
os.environ["ASYNC_MODE"] = "threading"

from rq import SimpleWorker  # noqa: E402
from rq_scheduler import Scheduler  # noqa: E402

from hospital import create_app  # noqa: E402
from hospital.jobs.queue import get_queue, redis_connection  # noqa: E402
from hospital.jobs.schedule import register  # noqa: E402

log = logging.getLogger("hospital.worker")


class AppWorker(SimpleWorker):
    """Runs each job in this process (no fork per job) inside a fresh app
    context, so every job starts with a clean database session."""

    app = None

    def perform_job(self, job, queue):
        with self.app.app_context():
            return super().perform_job(job, queue)


def run_worker(app) -> None:
    AppWorker.app = app
    with app.app_context():
        connection = redis_connection()
        queue = get_queue(connection)
    AppWorker([queue], connection=connection).work(with_scheduler=True)


def run_scheduler(app) -> None:
    with app.app_context():
        connection = redis_connection()
        scheduler = Scheduler(queue_name=app.config["RQ_QUEUE"], connection=connection, interval=10)
        ids = register(scheduler, app.config["RQ_QUEUE"])
        log.info("cron table registered: %s", ", ".join(ids) or "(empty)")
    scheduler.run()


def main(argv: list[str]) -> None:
    app = create_app()
    if argv[1:2] == ["scheduler"]:
        run_scheduler(app)
    else:
        run_worker(app)


if __name__ == "__main__":
    main(sys.argv)
