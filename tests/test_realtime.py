"""Live pushes through a real server (gunicorn + gevent) and real Socket.IO / SSE clients."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import socketio
import websocket

from hospital.jobs.queue import get_queue
from hospital.jobs.reminders import send_live_reminder
from hospital.services import appointments, booking, notifications

from .factories import doctor_with_hours, local, next_weekday

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.live


def token(live_server, email, password="correct-horse-9"):
    response = requests.post(f"{live_server.url}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class Listener:
    """A python-socketio client on /notifications that queues what it receives."""

    def __init__(self, url, auth=None, headers=None):
        self.events = queue.Queue()
        self.seen = []
        self.client = socketio.Client(reconnection=False)
        for name in ("notification", "appointment_status", "appointment_booked", "reminder"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data, time.monotonic())),
                           namespace="/notifications")
        self.client.connect(url, namespaces=["/notifications"], auth=auth, headers=headers or {},
                            transports=["websocket"], wait_timeout=10)

    def wait_for(self, name, timeout=5.0):
        """The first not-yet-taken ``name`` event (others stay queued for later waits)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, (event, data, at) in enumerate(self.seen):
                if event == name:
                    del self.seen[index]
                    return data, at
            try:
                self.seen.append(self.events.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {name!r} within {timeout}s") from None

    def close(self):
        self.client.disconnect()


@pytest.fixture
def people(app, make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    return doctor, patient


def test_patient_gets_status_within_a_second_and_doctor_gets_booking(live_server, people):
    doctor, patient = people
    patient_socket = Listener(live_server.url, auth={"token": token(live_server, "pat@example.com")})
    doctor_socket = Listener(live_server.url, auth={"token": token(live_server, "doc@example.com")})
    try:
        start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
        headers = {"Authorization": f"Bearer {token(live_server, 'pat@example.com')}"}
        booked = requests.post(f"{live_server.url}/api/appointments/book", headers=headers,
                               json={"start": start.isoformat(), "doctor_id": doctor.doctor.id}, timeout=10)
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["id"]
        data, _ = doctor_socket.wait_for("appointment_booked")
        assert data["id"] == appointment_id and data["status"] == "pending"

        sent = time.monotonic()
        approve = requests.patch(f"{live_server.url}/api/appointments/{appointment_id}/status", json={"status": "approved"},
                                 headers={"Authorization": f"Bearer {token(live_server, 'doc@example.com')}"}, timeout=10)
        assert approve.status_code == 200, approve.text
        data, received = patient_socket.wait_for("appointment_status", timeout=1.0)
        assert data == {**data, "id": appointment_id, "status": "approved", "from": "pending"}
        assert received - sent < 1.0
        note, _ = patient_socket.wait_for("notification")
        assert "confirmed" in note["text"] and note["read"] is False
    finally:
        patient_socket.close()
        doctor_socket.close()


def test_connection_refused_without_session_or_with_bad_token(live_server):
    for auth in (None, {"token": "forged"}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(live_server.url, namespaces=["/notifications"], auth=auth, transports=["websocket"], wait_timeout=5)
        client.disconnect()


def test_foreign_origin_is_refused_at_the_handshake(live_server):
    ws_url = live_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url, origin="http://evil.example.com", timeout=5)
    assert refused.value.status_code == 400
    same = websocket.create_connection(ws_url, origin=live_server.url, timeout=5)
    assert same.recv().startswith("0")  # Engine.IO "open" packet
    same.close()


def test_client_cannot_join_another_users_room(live_server, people, make_user):
    doctor, patient = people
    make_user("patient", email="snoop@example.com")
    snoop = Listener(live_server.url, auth={"token": token(live_server, "snoop@example.com")})
    victim = Listener(live_server.url, auth={"token": token(live_server, "pat@example.com")})
    try:
        answer = snoop.client.call("join", {"room": f"user:{patient.id}"}, namespace="/notifications", timeout=5)
        assert answer["ok"] is False
        notifications.admin_push(make_user("admin"), "private to pat", user_id=patient.id)
        victim.wait_for("notification")
        with pytest.raises(AssertionError):
            snoop.wait_for("notification", timeout=1.0)
    finally:
        snoop.close()
        victim.close()


def test_emit_from_an_rq_worker_process_reaches_the_client(live_server, people, settings):
    """The 15-minute reminder, run by a real worker, arrives over the socket."""
    doctor, patient = people
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    appointments.change_status(doctor, appointment.id, "approved")
    listener = Listener(live_server.url, auth={"token": token(live_server, "pat@example.com")})
    env = {**os.environ, "HOSPITAL_ENV": "test", "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": settings["REDIS_URL"]}
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Time is controlled by handing the job a "now" 10 minutes before the start.
        get_queue().enqueue(send_live_reminder, appointment.id, start - timedelta(minutes=10))
        data, _ = listener.wait_for("reminder", timeout=20)
        assert data["id"] == appointment.id and data["minutes"] == 15
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        listener.close()


def read_sse(response, count, timeout=10.0):
    """Collect ``count`` SSE events (dicts with id and data) from a streaming response."""
    events, current = [], {}
    out = queue.Queue()

    def pump():
        try:
            for line in response.iter_lines(decode_unicode=True):
                out.put(line)
        except Exception:
            out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        try:
            line = out.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        if line == "":
            if "data" in current:
                events.append({"id": int(current["id"]), "data": json.loads(current["data"])})
            current = {}
        elif not line.startswith(":") and ":" in line:
            key, value = line.split(":", 1)
            current[key] = value.strip()
    return events


def test_sse_stream_delivers_changes_and_resumes_with_last_event_id(live_server, people, make_user):
    doctor, patient = people
    other_patient = make_user("patient", email="other@example.com")
    headers = {"Authorization": f"Bearer {token(live_server, 'pat@example.com')}"}
    assert requests.get(f"{live_server.url}/api/stream/appointments", timeout=5).status_code == 401

    stream = requests.get(f"{live_server.url}/api/stream/appointments", headers=headers, stream=True, timeout=10)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    time.sleep(0.3)  # let the server subscribe before the change
    day = next_weekday()
    tz = doctor.doctor.clinic.tz
    mine = booking.book_appointment(patient.patient, local(day, 9, 0, tz), patient, doctor_id=doctor.doctor.id).appointment
    booking.book_appointment(other_patient.patient, local(day, 9, 15, tz), other_patient, doctor_id=doctor.doctor.id)
    appointments.change_status(doctor, mine.id, "approved")
    events = read_sse(stream, 2)
    stream.close()
    assert [(e["data"]["appointment_id"], e["data"]["to"]) for e in events] == [(mine.id, "pending"), (mine.id, "approved")]

    # Offline for a while: two more changes, then resume from the first event seen.
    appointments.change_status(doctor, mine.id, "cancelled")
    resumed = requests.get(f"{live_server.url}/api/stream/appointments", headers={**headers, "Last-Event-ID": str(events[0]["id"])},
                           stream=True, timeout=10)
    replayed = read_sse(resumed, 2)
    resumed.close()
    assert [e["data"]["to"] for e in replayed] == ["approved", "cancelled"]
    assert all(e["data"]["patient_id"] == patient.patient.id for e in replayed)

    bad = requests.get(f"{live_server.url}/api/stream/appointments", headers={**headers, "Last-Event-ID": "garbage"},
                       stream=True, timeout=10)
    assert read_sse(bad, 1, timeout=1.5) == []  # starts from now: nothing old replayed
    bad.close()
