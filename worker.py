"""Background processes.

``python worker.py``            an RQ worker (with RQ's scheduler for delayed jobs and retries)
``python worker.py scheduler``  the cron scheduler (rq-scheduler) running the cron table
"""
import logging
import sys

from rq import SimpleWorker
from rq_scheduler import Scheduler

from hospital import create_app
from hospital.jobs.queue import get_queue, redis_connection
from hospital.jobs.schedule import register

log = logging.getLogger("hospital.worker")


def run_worker(app) -> None:
    # SimpleWorker runs jobs in this process (no fork per job): jobs share the
    # app context and its connection pools, and throughput is much higher.
    with app.app_context():
        connection = redis_connection()
        worker = SimpleWorker([get_queue(connection)], connection=connection)
        worker.work(with_scheduler=True)


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
