"""Chat through a real server (gunicorn + gevent) with real Socket.IO clients on /chat."""
import queue
import time

import pytest
import requests
import socketio

from hospital.models import ChatMessage, Notification
from hospital.services.accounts import issue_token, sign_out

from .harness import LiveServer
from .test_chat import XSS, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.live
CONTRACT = {"id", "appointment_id", "sender_id", "body", "created_at"}


class ChatClient:
    """A python-socketio client on /chat that queues every server event it receives."""

    def __init__(self, url, user):
        self.user = user
        self.events = queue.Queue()
        self.seen = []
        self.client = socketio.Client(reconnection=False)
        for name in ("message", "typing", "read", "closed", "inbox", "error"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data)), namespace="/chat")
        self.client.connect(url, namespaces=["/chat"], auth={"token": issue_token(user, "test-secret")},
                            transports=["websocket"], wait_timeout=10)

    def call(self, event, data):
        return self.client.call(event, data, namespace="/chat", timeout=5)

    def join(self, appointment_id, **extra):
        ack = self.call("join", {"appointment_id": appointment_id, **extra})
        assert ack["ok"], ack
        return ack

    def send(self, appointment_id, body):
        return self.call("message", {"appointment_id": appointment_id, "body": body})

    def wait_for(self, name, timeout=5.0, where=lambda data: True):
        """The first not-yet-taken ``name`` event matching ``where`` (others stay queued)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, (event, data) in enumerate(self.seen):
                if event == name and where(data):
                    del self.seen[index]
                    return data
            try:
                self.seen.append(self.events.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {name!r} within {timeout}s; saw {self.seen}") from None

    def gets_no(self, name, within=1.0):
        with pytest.raises(AssertionError):
            self.wait_for(name, timeout=within)
        return True

    def close(self):
        self.client.disconnect()


@pytest.fixture
def clients(live_server):
    opened = []

    def open_for(user, url=None):
        client = ChatClient(url or live_server.url, user)
        opened.append(client)
        return client

    yield open_for
    for client in opened:
        client.close()


def api(server, user, path, method="get", **kwargs):
    headers = {"Authorization": f"Bearer {issue_token(user, 'test-secret')}"}
    return requests.request(method, f"{server.url}{path}", headers=headers, timeout=10, **kwargs)


def test_patient_and_doctor_exchange_messages_live(live_server, world, clients):
    patient, doctor = clients(world.patient), clients(world.doctor)
    appointment = world.appointment_id
    joined = patient.join(appointment)
    assert joined["room"] == f"appointment:{appointment}" and joined["can_write"] and not joined["closed"]

    # The doctor is connected (their inbox page) but not in this chat: the inbox redraws, a notification is stored.
    first = patient.send(appointment, "Hello?")
    assert doctor.wait_for("inbox") == {"appointment_id": appointment, "message_id": first["id"]}
    assert doctor.gets_no("message", within=0.3)
    assert Notification.query.filter_by(user_id=world.doctor.id, kind="chat_message").count() == 1

    doctor.join(appointment)
    ack = patient.send(appointment, "  Can I bring my daughter?  ")
    assert ack["ok"] and ack["id"] == ack["message"]["id"]
    got = doctor.wait_for("message")
    assert CONTRACT <= set(got) and got["id"] == ack["id"] and got["appointment_id"] == appointment
    assert got["sender_id"] == world.patient.id and got["body"] == "Can I bring my daughter?"
    assert got["sender_name"] == "Pat Patient" and "Can I bring my daughter?" in got["html"]
    assert patient.gets_no("message", within=0.3)  # the sender has it from the ack

    assert doctor.call("typing", {"appointment_id": appointment, "typing": True}) == {"ok": True}
    typing = patient.wait_for("typing")
    assert typing["user_id"] == world.doctor.id and typing["typing"] is True
    reply = doctor.send(appointment, "Of course.")
    assert patient.wait_for("message", where=lambda m: m["id"] == reply["id"])["body"] == "Of course."

    assert doctor.call("read", {"appointment_id": appointment, "up_to": ack["id"]}) == {"ok": True, "marked": 2}
    read = patient.wait_for("read")
    assert read["reader_id"] == world.doctor.id and read["up_to"] == ack["id"]
    assert doctor.wait_for("inbox")["appointment_id"] == appointment  # unread count changed
    bodies = [(m.body, m.read_at is not None) for m in ChatMessage.query.order_by(ChatMessage.id)]
    assert bodies == [("Hello?", True), ("Can I bring my daughter?", True), ("Of course.", False)]

    patient.send(appointment, XSS)  # stored as written, pushed escaped
    markup = doctor.wait_for("message", where=lambda m: m["body"] == XSS)["html"]
    assert "&lt;script&gt;" in markup and "<script" not in markup and "<img" not in markup
    # Both had the chat open since: nobody was notified again.
    assert Notification.query.filter_by(kind="chat_message").count() == 1


def test_third_user_can_neither_join_nor_read(live_server, world, clients):
    patient, doctor, snoop = clients(world.patient), clients(world.doctor), clients(world.outsider)
    patient.join(world.appointment_id)
    doctor.join(world.appointment_id)
    refused = snoop.call("join", {"appointment_id": world.appointment_id})
    assert refused["ok"] is False and refused["code"] == "not_found" and "missed" not in refused
    assert snoop.wait_for("error")["message"] == "No such appointment"
    assert snoop.send(world.appointment_id, "let me in")["ok"] is False
    assert snoop.call("join", {"appointment_id": world.appointment_id, "after": 0})["ok"] is False

    patient.send(world.appointment_id, "private matter")
    doctor.wait_for("message")
    assert snoop.gets_no("message") and snoop.gets_no("inbox", within=0.1)
    assert snoop.call("typing", {"appointment_id": world.appointment_id})["ok"] is False
    for path in (f"/api/appointments/{world.appointment_id}/messages", f"/chat/connect?appointment_id={world.appointment_id}"):
        response = api(live_server, world.outsider, path)
        assert response.status_code == 404 and "private matter" not in response.text
    assert [m.body for m in ChatMessage.query] == ["private matter"]


def test_signing_out_ends_the_chat_connection(live_server, world, clients):
    patient = clients(world.patient)
    patient.join(world.appointment_id)
    sign_out(world.patient)  # rotates the session token: every device is signed out
    patient.client.emit("message", {"appointment_id": world.appointment_id, "body": "still here?"}, namespace="/chat")
    assert patient.wait_for("error")["code"] == "signed_out"  # then the server hangs up (no ack)
    deadline = time.monotonic() + 5
    while patient.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not patient.client.connected and ChatMessage.query.count() == 0


def test_reconnect_catches_up_on_missed_messages(live_server, world, clients):
    patient, doctor = clients(world.patient), clients(world.doctor)
    patient.join(world.appointment_id)
    doctor.join(world.appointment_id)
    first = doctor.send(world.appointment_id, "first")
    last_seen = patient.wait_for("message")["id"]
    assert last_seen == first["id"]
    patient.close()  # the patient goes offline (a dropped connection, a closed laptop)

    doctor.send(world.appointment_id, "second")
    doctor.send(world.appointment_id, "third")
    back = clients(world.patient)
    missed = back.join(world.appointment_id, after=last_seen)["missed"]
    assert [m["body"] for m in missed] == ["second", "third"] and all(m["html"] for m in missed)
    assert [m["sender_id"] for m in missed] == [world.doctor.id] * 2
    via_api = api(live_server, world.patient, f"/api/appointments/{world.appointment_id}/messages?after={last_seen}").json()
    assert [m["body"] for m in via_api["items"]] == ["second", "third"]
    # The patient was away: the doctor's messages left one stored notification.
    [note] = Notification.query.filter_by(user_id=world.patient.id, kind="chat_message").all()
    assert "second" in note.text


def test_rate_limit_and_bad_messages_over_the_socket(live_server, world, clients):
    patient = clients(world.patient)
    patient.join(world.appointment_id)
    for body in ("", "   ", "z" * 2001, None):
        refused = patient.send(world.appointment_id, body)
        assert refused["ok"] is False and refused["code"] == "invalid"
        assert patient.wait_for("error")["code"] == "invalid"
    for n in range(10):
        assert patient.send(world.appointment_id, f"flood {n}")["ok"]
    over = patient.send(world.appointment_id, "flood 10")
    assert over["ok"] is False and over["code"] == "rate_limited" and over["retry_after"] > 0
    assert "too fast" in patient.wait_for("error", where=lambda e: e["code"] == "rate_limited")["message"]
    assert ChatMessage.query.count() == 10


def test_closed_chat_refuses_messages(live_server, world, clients):
    patient = clients(world.patient)
    patient.join(world.appointment_id)
    patient.send(world.appointment_id, "thanks for today")
    closed = api(live_server, world.doctor, f"/api/appointments/{world.appointment_id}/chat/close", method="post")
    assert closed.status_code == 200
    assert patient.wait_for("closed")["appointment_id"] == world.appointment_id
    refused = patient.send(world.appointment_id, "one more thing")
    assert refused["ok"] is False and refused["code"] == "closed"
    again = clients(world.patient).join(world.appointment_id, after=0)
    assert again["closed"] is True and again["can_write"] is False
    assert [m["body"] for m in again["missed"]] == ["thanks for today"]  # still readable


def test_history_survives_a_server_restart(live_server, world, clients):
    server = LiveServer({k: v for k, v in live_server.env.items()
                         if k in ("HOSPITAL_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT")})
    server.start()
    try:
        patient = clients(world.patient, url=server.url)
        patient.join(world.appointment_id)
        sent = [patient.send(world.appointment_id, f"before restart {n}")["id"] for n in range(3)]
        patient.close()
        server.stop()
        server.start()
        history = api(server, world.doctor, f"/api/appointments/{world.appointment_id}/messages").json()
        assert [m["id"] for m in history["items"]] == sent[::-1]
        doctor = clients(world.doctor, url=server.url)
        assert [m["id"] for m in doctor.join(world.appointment_id, after=0)["missed"]] == sent
        doctor.close()  # an open socket would hold up the graceful shutdown
    finally:
        server.stop()
