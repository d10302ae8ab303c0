"""Chat about an appointment, in-process: rules, pages, fragments and the JSON API."""
import time
from dataclasses import dataclass

import pytest

from hospital.errors import Conflict, Forbidden, InvalidInput, NotFound
from hospital.models import ChatMessage, Notification, User
from hospital.services import appointments, booking, chat, chatinbox, chatstate

from .api_helpers import bearer
from .conftest import csrf_token, login
from .factories import doctor_with_hours, local, next_weekday

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@dataclass
class Chat:
    doctor: User
    patient: User
    outsider: User
    admin: User
    appointment_id: int


@pytest.fixture
def world(app, make_user):
    doctor = doctor_with_hours(make_user, email="doc@example.com")
    patient = make_user("patient", email="pat@example.com", name="Pat Patient")
    outsider = make_user("patient", email="snoop@example.com", name="Sam Snoop")
    admin = make_user("admin", email="admin@example.com")
    start = local(next_weekday(), 9, 0, doctor.doctor.clinic.tz)
    appointment = booking.book_appointment(patient.patient, start, patient, doctor_id=doctor.doctor.id).appointment
    return Chat(doctor, patient, outsider, admin, appointment.id)


def stored(appointment_id):
    return [m.body for m in ChatMessage.query.filter_by(appointment_id=appointment_id).order_by(ChatMessage.id)]


def test_messages_are_stored_trimmed_and_returned_as_payloads(world):
    data, view = chat.post_message(world.patient, world.appointment_id, "  Should I fast before?  \n")
    assert set(data) == {"id", "appointment_id", "sender_id", "body", "created_at", "read_at"}
    assert data["body"] == "Should I fast before?" and data["sender_id"] == world.patient.id
    assert view.counterpart_user_id == world.doctor.id and view.can_write
    reply, _ = chat.post_message(world.doctor, world.appointment_id, "Yes, from midnight.")
    assert stored(world.appointment_id) == ["Should I fast before?", "Yes, from midnight."]
    assert reply["id"] > data["id"]


@pytest.mark.parametrize("body", ["", "   \n\t ", None, 42, "x" * 2001])
def test_empty_and_oversized_messages_are_refused_and_not_stored(world, body):
    with pytest.raises(InvalidInput) as refused:
        chat.post_message(world.patient, world.appointment_id, body)
    assert "body" in refused.value.errors
    assert stored(world.appointment_id) == []


def test_a_message_of_exactly_2000_characters_is_kept_whole(world):
    chat.post_message(world.patient, world.appointment_id, "é" * 2000)
    assert stored(world.appointment_id) == ["é" * 2000]


def test_outsiders_get_404_and_admins_read_only(world):
    with pytest.raises(NotFound):
        chat.post_message(world.outsider, world.appointment_id, "hello?")
    with pytest.raises(NotFound):
        chat.open_chat(world.outsider, world.appointment_id)
    with pytest.raises(Forbidden):
        chat.post_message(world.admin, world.appointment_id, "admin here")
    view = chat.open_chat(world.admin, world.appointment_id)
    assert not view.can_write and not view.is_party
    assert stored(world.appointment_id) == []


def test_closed_chat_is_read_only_and_only_the_doctor_closes(world):
    chat.post_message(world.patient, world.appointment_id, "Before closing")
    with pytest.raises(Forbidden):
        chat.close(world.patient, world.appointment_id)
    view = chat.close(world.doctor, world.appointment_id)
    assert view.closed and not view.can_write
    assert chat.close(world.doctor, world.appointment_id).closed  # twice is harmless
    with pytest.raises(Conflict):
        chat.post_message(world.patient, world.appointment_id, "After closing")
    with pytest.raises(Conflict):
        chat.post_message(world.doctor, world.appointment_id, "After closing")
    assert stored(world.appointment_id) == ["Before closing"]
    messages, _ = chat.latest(chat.open_chat(world.patient, world.appointment_id))
    assert [m.body for m in messages] == ["Before closing"]  # still readable


def test_chat_of_a_cancelled_appointment_stays_readable(client, world):
    chat.post_message(world.patient, world.appointment_id, "Can we move it?")
    appointments.change_status(world.doctor, world.appointment_id, "cancelled")
    chat.post_message(world.doctor, world.appointment_id, "Cancelled; please book a new time.")
    login(client, "pat@example.com", "correct-horse-9")
    page = client.get(f"/chat/connect?appointment_id={world.appointment_id}").get_data(as_text=True)
    assert "Can we move it?" in page and "please book a new time" in page
    detail = client.get(f"/patient/appointments/{world.appointment_id}").get_data(as_text=True)
    assert f'hx-get="/chat/connect?appointment_id={world.appointment_id}"' in detail  # the panel still loads there
    assert [e.appointment.id for e in chatinbox.inbox(world.patient)] == [world.appointment_id]


def test_rate_limit_refuses_the_eleventh_message_in_ten_seconds(world):
    for n in range(10):
        chat.post_message(world.patient, world.appointment_id, f"message {n}")
    with pytest.raises(chat.RateLimited) as refused:
        chat.post_message(world.patient, world.appointment_id, "one too many")
    assert refused.value.status == 429 and refused.value.extra["retry_after"] > 0
    assert len(stored(world.appointment_id)) == 10
    chat.post_message(world.doctor, world.appointment_id, "the doctor has a limit of their own")
    # The window slides: ten seconds later there is room again.
    assert chatstate.take_message_slot(world.patient.id, now=time.time() + 10.5) == 0.0


def test_message_to_someone_away_becomes_one_notification(world):
    chat.post_message(world.patient, world.appointment_id, "Are you there?")
    data, view = chat.post_message(world.patient, world.appointment_id, "Hello?")
    assert chat.notify_if_away(view, data) is True
    assert chat.notify_if_away(view, data) is False  # an unread one is waiting already
    [note] = Notification.query.filter_by(user_id=world.doctor.id, kind="chat_message").all()
    assert "Pat Patient" in note.text and note.link == f"/chat/connect?appointment_id={world.appointment_id}"
    chatstate.enter(world.appointment_id, world.patient.id, "sid-1")
    reply, reply_view = chat.post_message(world.doctor, world.appointment_id, "Here")
    assert chat.notify_if_away(reply_view, reply) is False  # the patient has the chat open
    chatstate.leave(world.appointment_id, world.patient.id, "sid-1")
    assert chat.notify_if_away(reply_view, reply) is True


def test_read_marks_and_the_doctors_inbox(world):
    first, _ = chat.post_message(world.patient, world.appointment_id, "One")
    second, _ = chat.post_message(world.patient, world.appointment_id, "Two")
    [entry] = chatinbox.inbox(world.doctor)
    assert entry.unread == 2 and entry.last.body == "Two" and entry.appointment.id == world.appointment_id
    assert chat.mark_read(world.admin, world.appointment_id, second["id"])[0] == 0  # admins mark nothing
    assert chat.mark_read(world.patient, world.appointment_id, second["id"])[0] == 0  # own messages
    changed, read_at, _ = chat.mark_read(world.doctor, world.appointment_id, first["id"])
    assert changed == 1 and read_at is not None
    assert chatinbox.inbox(world.doctor)[0].unread == 1
    chat.mark_read(world.doctor, world.appointment_id, second["id"])
    assert chatinbox.unread_total(world.doctor) == 0
    assert chatinbox.inbox(world.outsider) == [] and chatinbox.inbox(world.admin) == []


def test_panel_escapes_html_and_shows_history(client, world):
    chat.post_message(world.patient, world.appointment_id, XSS)
    login(client, "doc@example.com", "correct-horse-9")
    page = client.get(f"/chat/connect?appointment_id={world.appointment_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Chat with Pat Patient" in html
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html and "<script>window.__xss" not in html
    assert "Close chat" in html
    fragment = client.get(f"/chat/connect?appointment_id={world.appointment_id}", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith("<section class=\"chat\"")


def test_load_older_and_catch_up_fragments(client, world):
    ids = [chat.post_message(u, world.appointment_id, f"m{n}")[0]["id"]
           for n, u in enumerate([world.patient, world.doctor] * 5)]
    login(client, "pat@example.com", "correct-horse-9")
    older = client.get(f"/chat/{world.appointment_id}/messages?before={ids[3]}").get_data(as_text=True)
    assert all(f"m{n}<" in older for n in range(3)) and "m3<" not in older
    assert "Load older" not in older
    after = client.get(f"/chat/{world.appointment_id}/messages?after={ids[7]}").get_data(as_text=True)
    assert "m8<" in after and "m9<" in after and "m7<" not in after
    assert client.get(f"/chat/{world.appointment_id}/messages?before=abc").status_code == 422


def test_outsider_sees_no_chat_page_or_fragment(client, world):
    chat.post_message(world.patient, world.appointment_id, "private")
    login(client, "snoop@example.com", "correct-horse-9")
    for path in (f"/chat/connect?appointment_id={world.appointment_id}", f"/chat/{world.appointment_id}/messages"):
        response = client.get(path)
        assert response.status_code == 404 and "private" not in response.get_data(as_text=True)


def test_form_post_without_socket_keeps_the_draft_on_error(client, world):
    login(client, "pat@example.com", "correct-horse-9")
    token = csrf_token(client, f"/chat/connect?appointment_id={world.appointment_id}")
    sent = client.post(f"/chat/{world.appointment_id}/messages", data={"body": "By form", "csrf_token": token})
    assert sent.status_code == 303 and stored(world.appointment_id) == ["By form"]
    too_long = "y" * 2001
    refused = client.post(f"/chat/{world.appointment_id}/messages", data={"body": too_long, "csrf_token": token})
    assert refused.status_code == 422 and too_long in refused.get_data(as_text=True)
    assert stored(world.appointment_id) == ["By form"]


def test_connect_json_for_api_clients(client, world):
    chat.post_message(world.patient, world.appointment_id, "Hello doctor")
    headers = bearer(client, "doc@example.com")
    answer = client.get(f"/chat/connect?appointment_id={world.appointment_id}", headers=headers)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["room"] == f"appointment:{world.appointment_id}" and body["socket"]["namespace"] == "/chat"
    assert [m["body"] for m in body["messages"]] == ["Hello doctor"] and body["can_write"] is True
    assert body["history_url"] == f"/api/appointments/{world.appointment_id}/messages"
    snoop = client.get(f"/chat/connect?appointment_id={world.appointment_id}", headers=bearer(client, "snoop@example.com"))
    assert snoop.status_code == 404 and snoop.mimetype == "application/problem+json"
    anonymous = client.get(f"/chat/connect?appointment_id={world.appointment_id}", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401


def test_messages_api_pages_catch_up_and_docs(client, world):
    for n in range(12):
        chat.post_message(world.patient if n % 2 else world.doctor, world.appointment_id, f"n{n}")
    headers = bearer(client, "pat@example.com")
    url = f"/api/appointments/{world.appointment_id}/messages"
    first = client.get(url + "?per_page=5", headers=headers).json
    assert [m["body"] for m in first["items"]] == ["n11", "n10", "n9", "n8", "n7"] and first["total"] == 12
    after = client.get(f"{url}?after={first['items'][2]['id']}", headers=headers).json
    assert [m["body"] for m in after["items"]] == ["n10", "n11"]
    assert client.get(url, headers=bearer(client, "snoop@example.com")).status_code == 404
    assert client.get(url).status_code == 401
    sent = client.post(url, json={"body": "  via API "}, headers=headers)
    assert sent.status_code == 201 and sent.json["body"] == "via API"
    assert client.post(url, json={"body": " "}, headers=headers).status_code == 422
    assert client.post(url, json={"body": "x"}, headers=bearer(client, "admin@example.com")).status_code == 403
    closed = client.post(f"/api/appointments/{world.appointment_id}/chat/close", headers=bearer(client, "doc@example.com"))
    assert closed.status_code == 200 and closed.json["closed"] is True
    assert client.post(url, json={"body": "late"}, headers=headers).status_code == 409
    spec = client.get("/api/openapi.json").json
    assert "/api/appointments/{appointment_id}/messages" in spec["paths"]
    assert spec["paths"]["/api/appointments/{appointment_id}/messages"]["get"]["security"] == [{"bearerAuth": []}]


def test_inbox_page_and_dashboard_card(client, world):
    chat.post_message(world.patient, world.appointment_id, "Question about my visit")
    login(client, "doc@example.com", "correct-horse-9")
    inbox = client.get("/chat/inbox").get_data(as_text=True)
    assert "Pat Patient" in inbox and "Question about my visit" in inbox and 'aria-label="1 unread"' in inbox
    assert 'href="/chat/inbox"' in client.get("/doctor/dashboard").get_data(as_text=True)
    compact = client.get("/chat/inbox?compact=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert compact.lstrip().startswith('<div id="chat-inbox"')
