"""No double booking under a real race: 50 patients book one slot at once through a
running server (gunicorn, gevent worker). Exactly one wins (201), the other 49
get 409, and the database holds one row, on PostgreSQL and on SQLite."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from hospital.extensions import db
from hospital.models import WEEKDAYS, Appointment
from hospital.services import accounts, schedule

from .harness import ROOT, LiveServer
from .api_helpers import PASSWORD, at, working_day

CLIENTS = 50


def race(base_url: str, tokens: list[str], body: dict) -> list[requests.Response]:
    """POST the same booking with every token at the same moment, one thread each."""
    barrier = threading.Barrier(len(tokens))
    responses: list = [None] * len(tokens)

    def attempt(i: int, token: str) -> None:
        with requests.Session() as session:
            session.get(base_url + "/health", timeout=30)  # open the connection before the start line
            barrier.wait(timeout=60)
            responses[i] = session.post(base_url + "/api/appointments/book", json=body, timeout=60,
                                        headers={"Authorization": f"Bearer {token}"})

    threads = [threading.Thread(target=attempt, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None for r in responses), "a booking request did not finish"
    return responses


def assert_one_winner(responses: list[requests.Response]) -> None:
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, (statuses, [r.text for r in responses if r.status_code >= 500][:3])
    for response in responses:
        if response.status_code == 409:
            assert response.headers["Content-Type"].startswith("application/problem+json")
            assert "taken" in response.json()["detail"] or "already booked" in response.json()["detail"]


def test_fifty_concurrent_bookings_of_one_slot_on_postgresql(app, live_server, make_user):
    doctor = make_user("doctor", email="race.doc@example.com").doctor
    day = working_day()
    schedule.replace_weekly_availability(doctor, [{"day": WEEKDAYS[day.weekday()], "start": "09:00", "end": "12:00"}])
    patients = [make_user("patient", email=f"racer{i}@example.com") for i in range(CLIENTS)]
    # The same token /api/auth/login hands out (the live server shares SECRET_KEY).
    tokens = [accounts.issue_token(user, app.config["SECRET_KEY"]) for user in patients]

    responses = race(live_server.url, tokens, {"doctor_id": doctor.id, "start": at(day, 9)})

    assert_one_winner(responses)
    db.session.rollback()  # read what the server committed
    rows = db.session.scalars(select(Appointment).where(Appointment.doctor_id == doctor.id)).all()
    assert len(rows) == 1
    winner = next(r for r in responses if r.status_code == 201).json()
    assert rows[0].id == winner["id"] and rows[0].patient_id == winner["patient_id"]


def _flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True, timeout=60,
                   capture_output=True)


def test_fifty_concurrent_bookings_of_one_slot_on_sqlite(tmp_path, settings):
    path = tmp_path / "race.db"
    env = {"HOSPITAL_ENV": "test", "SECRET_KEY": "test-secret", "DATABASE_URL": f"sqlite:///{path}",
           "REDIS_URL": settings["REDIS_URL"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(settings["MAIL_PORT"])}
    cli_env = {**os.environ, **env, "FLASK_APP": "hospital:create_app"}
    _flask(cli_env, "db", "upgrade")
    _flask(cli_env, "users", "create", "--role", "doctor", "--email", "race.doc@example.com", "--password", PASSWORD,
           "--clinic", "Race Clinic", "--timezone", "Europe/London", "--specialization", "Cardiology")
    # Several worker processes: SQLite serialises writes within one process, so
    # the race between processes is what exercises the unique index.
    server = LiveServer(env, workers=2).start()
    try:
        url = server.url

        def token(email: str) -> str:
            response = requests.post(url + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=60)
            assert response.status_code == 200, response.text
            return response.json()["access_token"]

        day = working_day()
        doctor_auth = {"Authorization": f"Bearer {token('race.doc@example.com')}"}
        hours = requests.post(url + "/api/doctors/availability", headers=doctor_auth, timeout=30, json={
            "availability": [{"day": WEEKDAYS[day.weekday()], "start": "09:00", "end": "12:00"}]})
        assert hours.status_code == 200, hours.text
        doctor_id = hours.json()["doctor_id"]

        def new_patient(i: int) -> str:
            email = f"racer{i}@example.com"
            registered = requests.post(url + "/api/auth/register", timeout=60,
                                       json={"email": email, "password": PASSWORD, "name": f"Racer {i}"})
            assert registered.status_code == 201, registered.text
            return token(email)

        with ThreadPoolExecutor(4) as pool:  # password hashing spreads over the worker processes
            tokens = list(pool.map(new_patient, range(CLIENTS)))
        first = requests.get(url + "/api/appointments/slots", params={"date": day.isoformat(), "doctor_id": doctor_id},
                             timeout=30).json()["slots"][0]
        assert first["start"] == at(day, 9)

        responses = race(url, tokens, {"doctor_id": doctor_id, "start": first["start"]})
    finally:
        server.stop()

    assert_one_winner(responses)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM appointments").fetchone()[0] == 1
