"""The cache's Redis stopped or hung mid-run: pages keep answering from the database at
normal speed, one log line says so, and caching resumes by itself (with nothing stale)."""
from __future__ import annotations

import logging
import os
import signal
import time as clock
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import redis as redis_lib

from hospital import create_app
from hospital.config import TestConfig, redis_db_url
from hospital.devtools.servers import PrivateRedis
from hospital.extensions import db
from hospital.services import schedule

from .conftest import login

PASSWORD = "correct-horse-9"
HTMX = {"HX-Request": "true"}
HOURS = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("monday", "tuesday", "wednesday", "thursday", "friday")]
RETRY_AFTER = 1.0


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    if server.process and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)  # in case a test left it paused
    server.stop()


@pytest.fixture
def flaky_app(app, settings, private_redis, monkeypatch):
    """A second app on the same database whose cache lives in the private Redis
    (RQ, Socket.IO and rate limits stay on the suite's Redis)."""
    # Alembic's fileConfig() (the suite migrates in-process) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("hospital.cache"), "disabled", False)
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    flaky = create_app({**config, **settings, "CACHE_REDIS_URL": redis_db_url(private_redis.url, 1),
                        "CACHE_RETRY_AFTER": RETRY_AFTER})
    yield flaky
    with flaky.app_context():
        db.engine.dispose()


@pytest.fixture
def world(app, make_user):
    doctor = make_user("doctor", email="ada@example.com", name="Dr. Ada", specialization="Cardiology").doctor
    schedule.replace_weekly_availability(doctor, HOURS)
    make_user("patient", email="ann@example.com", name="Ann")
    day = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/London")).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return doctor.id, day


def pages(doctor_id, day) -> dict[str, tuple[dict, str]]:
    """URL -> (headers, text a user must see)."""
    return {
        "/patient/doctors": ({}, "Dr. Ada"),
        "/patient/doctors?specialization=Cardiology": (HTMX, "1 doctor found"),
        f"/patient/doctors/{doctor_id}?date={day}": ({}, ">09:30</a>"),
        f"/patient/doctors/{doctor_id}/slots?date={day}": (HTMX, ">09:30</a>"),
        f"/patient/book?specialization=Cardiology&date={day}": ({}, ">09:30</a>"),
        "/patient/appointments": ({}, "no upcoming appointments"),
        "/patient/": ({}, "Nothing booked yet"),
        "/api/doctors": ({}, "Dr. Ada"),
        f"/api/appointments/slots?date={day}&doctor_id={doctor_id}": ({}, "T09:30:00"),
    }


def signed_in(flaky):
    client = flaky.test_client()
    assert login(client, "ann@example.com", PASSWORD).status_code == 302
    return client


def timed_get(client, url, headers) -> tuple[float, object]:
    started = clock.monotonic()
    response = client.get(url, headers=headers)
    return clock.monotonic() - started, response


def cached_keys(server) -> list[bytes]:
    return list(redis_lib.Redis.from_url(redis_db_url(server.url, 1)).scan_iter(match="hospital:cache:*:*"))


def cache_log(caplog, text) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "hospital.cache" and text in r.getMessage()]


def test_pages_work_while_the_cache_redis_is_stopped_and_caching_resumes(flaky_app, private_redis, world, caplog):
    caplog.set_level(logging.INFO)
    pat = signed_in(flaky_app)
    urls = pages(*world)
    for url, (headers, expected) in urls.items():  # warm the cache
        response = pat.get(url, headers=headers)
        assert response.status_code == 200 and expected in response.get_data(as_text=True), url
    assert cached_keys(private_redis)

    private_redis.stop(remove=False)
    for _ in range(3):
        for url, (headers, expected) in urls.items():
            elapsed, response = timed_get(pat, url, headers)
            assert response.status_code == 200 and expected in response.get_data(as_text=True), url
            # A refused connection, then the breaker: never a socket timeout's wait (generous bound: busy CI).
            assert elapsed < 1.5, (url, elapsed)
    assert len(cache_log(caplog, "unreachable")) == 1

    private_redis.start()
    deadline = clock.monotonic() + RETRY_AFTER + 5
    while not cached_keys(private_redis) and clock.monotonic() < deadline:
        clock.sleep(0.1)
        assert pat.get("/api/doctors").status_code == 200
    assert cached_keys(private_redis), "caching did not resume"
    assert len(cache_log(caplog, "caching resumed")) == 1


def test_a_hung_redis_costs_one_timeout_and_a_change_made_meanwhile_is_not_served_stale(
        flaky_app, private_redis, world, caplog):
    caplog.set_level(logging.INFO)
    doctor_id, day = world
    pat = signed_in(flaky_app)
    url = f"/patient/doctors/{doctor_id}/slots?date={day}"
    assert ">09:30</a>" in pat.get(url, headers=HTMX).get_data(as_text=True)  # cached now

    os.kill(private_redis.process.pid, signal.SIGSTOP)  # Redis hangs: connections open, no answers
    try:
        times = [timed_get(pat, url, HTMX)[0] for _ in range(5)]
        timeout = flaky_app.config["REDIS_SOCKET_TIMEOUT"]
        assert times[0] < 2 * timeout + 2   # the first request waits out the socket timeout (once)…
        assert max(times[1:]) < timeout      # …the breaker spares the others any wait on Redis
        # Book 09:30 while the cache cannot be told: its stale entry stays in Redis.
        token = pat.post("/api/auth/login", json={"email": "ann@example.com", "password": PASSWORD}).json
        booked = pat.post("/api/appointments/book", headers={"Authorization": f"Bearer {token['access_token']}"},
                          json={"doctor_id": doctor_id, "start": datetime.combine(day, time(9, 30)).replace(
                              tzinfo=ZoneInfo("Europe/London")).isoformat()})
        assert booked.status_code == 201, booked.get_json()
        assert ">09:30</a>" not in pat.get(url, headers=HTMX).get_data(as_text=True)  # from the database
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)
    assert len(cache_log(caplog, "unreachable")) == 1

    clock.sleep(RETRY_AFTER + 0.1)  # the breaker's period; the next request probes Redis
    body = pat.get(url, headers=HTMX).get_data(as_text=True)
    assert ">09:00</a>" in body and ">09:30</a>" not in body  # the lost invalidation was made good
    assert len(cache_log(caplog, "caching resumed")) == 1
    assert cached_keys(private_redis)  # and caching goes on
