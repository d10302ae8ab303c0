"""Live analytics through a real server (gunicorn + gevent) and real Socket.IO clients on /admin."""
import queue
import time
from datetime import timedelta

import pytest
import requests
import socketio

from hospital.extensions import db
from hospital.models import EmailMessage, utcnow
from hospital.services import analytics, booking

from .factories import doctor_with_hours, local, next_weekday
from .test_realtime import token

pytestmark = pytest.mark.live


class AdminListener:
    """A python-socketio client on /admin recording each analytics_changed push with its arrival time."""

    def __init__(self, url, auth):
        self.events = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("analytics_changed", lambda data: self.events.put((time.monotonic(), data)), namespace="/admin")
        self.client.connect(url, namespaces=["/admin"], auth=auth, transports=["websocket"], wait_timeout=10)

    def next(self, timeout):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no analytics_changed within {timeout}s") from None

    def drain(self, seconds):
        """Every push arriving within ``seconds``."""
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.events.get(timeout=left))
            except queue.Empty:
                break
        return got

    def close(self):
        self.client.disconnect()


@pytest.fixture
def people(app, make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    admin = make_user("admin", email="boss@example.com")
    return doctor, patient, admin


def test_admin_socket_gets_an_update_within_two_seconds_of_a_booking(live_server, people):
    doctor, patient, _ = people
    admin = AdminListener(live_server.url, {"token": token(live_server, "boss@example.com")})
    try:
        admin.drain(1.2)  # let any window opened by the set-up close
        start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
        headers = {"Authorization": f"Bearer {token(live_server, 'pat@example.com')}"}
        sent = time.monotonic()
        booked = requests.post(f"{live_server.url}/api/appointments/book", headers=headers,
                               json={"start": start.isoformat(), "doctor_id": doctor.doctor.id}, timeout=10)
        assert booked.status_code == 201, booked.text
        received, data = admin.next(timeout=2.0)
        while "appointments" not in data["reasons"]:  # a "presence" push may come first
            received, data = admin.next(timeout=2.0 - (received - sent))
        assert received - sent < 2.0 and data["type"] == "analytics"
        figures = requests.get(f"{live_server.url}/api/admin/analytics?period=30d",
                               headers={"Authorization": f"Bearer {token(live_server, 'boss@example.com')}"}, timeout=10)
        assert figures.json()["statuses"]["pending"] == 1
    finally:
        admin.close()


def test_non_admins_are_refused_on_the_admin_namespace(live_server, people):
    for auth in (None, {"token": "forged"}, {"token": token(live_server, "pat@example.com")},
                 {"token": token(live_server, "doc@example.com")}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(live_server.url, namespaces=["/admin"], auth=auth, transports=["websocket"], wait_timeout=5)
        client.disconnect()


def test_a_burst_of_changes_is_coalesced_to_one_push_a_second(live_server, people):
    doctor, patient, admin_user = people
    admin = AdminListener(live_server.url, {"token": token(live_server, "boss@example.com")})
    try:
        admin.drain(1.2)
        day = next_weekday()
        began = time.monotonic()
        for n in range(12):  # in this process: pushes go through Redis like a worker's would
            booking.override_book(admin_user, patient.patient.id, doctor.doctor.id,
                                  local(day, 13, 0, doctor.doctor.clinic.tz) + timedelta(minutes=20 * n), 15)
        burst = time.monotonic() - began
        pushes = admin.drain(burst + 2.5)
        times = [at for at, _ in pushes]
        assert 1 <= len(pushes) <= burst + 2, (burst, times)
        assert all(b - a >= 0.9 for a, b in zip(times, times[1:])), times
        assert times[0] - began < 1.0  # the first change is told at once
        assert times[-1] >= began + burst - 1.1  # and the last is not dropped (trailing push)
    finally:
        admin.close()


def test_email_changes_are_pushed(live_server, people):
    admin = AdminListener(live_server.url, {"token": token(live_server, "boss@example.com")})
    try:
        admin.drain(1.2)
        db.session.add(EmailMessage(kind="confirmed", recipient="pat@example.com", subject="s", body_text="b",
                                    status="failed", attempts=3, last_attempt_at=utcnow(), next_attempt_at=utcnow()))
        db.session.commit()
        _, data = admin.next(timeout=2.0)
        assert "emails" in data["reasons"]
    finally:
        admin.close()


def test_connected_users_are_counted_across_connections(live_server, people):
    def connected():
        return analytics.live_figures()["connected"]

    def wait_for(expected):
        deadline = time.monotonic() + 3
        while connected() != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return connected()

    before = connected()
    sockets = []
    for email in ("pat@example.com", "pat@example.com", "doc@example.com"):  # two tabs of one patient
        client = socketio.Client(reconnection=False)
        client.connect(live_server.url, namespaces=["/notifications"], auth={"token": token(live_server, email)},
                       transports=["websocket"], wait_timeout=10)
        sockets.append(client)
    try:
        assert wait_for({"users": before["users"] + 2, "connections": before["connections"] + 3}) == \
            {"users": before["users"] + 2, "connections": before["connections"] + 3}
        sockets.pop().disconnect()
        assert wait_for({"users": before["users"] + 1, "connections": before["connections"] + 2})["users"] == \
            before["users"] + 1
    finally:
        for client in sockets:
            client.disconnect()
    assert wait_for(before) == before
