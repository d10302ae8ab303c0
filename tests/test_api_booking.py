"""The booking JSON API: directory, free times, booking and one appointment's lifecycle."""
from datetime import datetime, timedelta, timezone

from .api_helpers import NEW_YORK, assert_problem, at, book, count_appointments, world  # noqa: F401  (fixture)


# --- directory -----------------------------------------------------------------

def test_doctor_directory_is_public_filtered_and_paginated(client, world):
    response = client.get("/api/doctors")
    assert response.status_code == 200
    body = response.json
    assert (body["page"], body["per_page"], body["total"]) == (1, 10, 3)
    adams = next(d for d in body["items"] if d["id"] == world.adams.id)
    assert adams["name"] == "Dr Adams" and adams["specialization"] == "Cardiology"
    assert adams["clinic_id"] == world.adams.clinic_id and adams["clinic_name"] == "Test Clinic"
    assert adams["timezone"] == "Europe/London" and adams["consultation_minutes"] == 15
    assert "email" not in adams
    assert client.get("/api/doctors?specialization=cardiology").json["total"] == 2
    assert client.get(f"/api/doctors?clinic_id={world.cole.clinic_id}").json["items"][0]["name"] == "Dr Cole"
    assert [d["name"] for d in client.get("/api/doctors?q=bak").json["items"]] == ["Dr Baker"]
    second = client.get("/api/doctors?per_page=1&page=2").json
    assert second["total"] == 3 and [d["name"] for d in second["items"]] == ["Dr Baker"]
    assert_problem(client.get("/api/doctors?per_page=51"), 422, "per_page")
    assert_problem(client.get("/api/doctors?page=0"), 422, "page")


# --- free times ----------------------------------------------------------------

def test_slots_of_a_doctor_in_the_clinic_offset(client, world):
    response = client.get(f"/api/appointments/slots?date={world.day}&doctor_id={world.adams.id}")
    assert response.status_code == 200
    body = response.json
    assert body["date"] == world.day.isoformat()
    assert len(body["slots"]) == 12  # 09:00-12:00 in 15-minute slots
    assert body["slots"][0] == {"doctor_id": world.adams.id, "start": at(world.day, 9), "end": at(world.day, 9, 15)}
    assert body["slots"][-1]["end"] == at(world.day, 12)
    cole = client.get(f"/api/appointments/slots?date={world.day}&doctor_id={world.cole.id}").json["slots"]
    assert cole[0]["start"] == at(world.day, 9, tz=NEW_YORK)
    assert cole[0]["start"].endswith(("-05:00", "-04:00"))


def test_slots_by_specialty_are_merged_and_sorted(client, world):
    slots = client.get(f"/api/appointments/slots?date={world.day}&specialization=CARDIOLOGY").json["slots"]
    assert len(slots) == 24
    assert {s["doctor_id"] for s in slots} == {world.adams.id, world.baker.id}
    keys = [(datetime.fromisoformat(s["start"]), s["doctor_id"]) for s in slots]
    assert keys == sorted(keys)
    assert slots[0]["doctor_id"] == min(world.adams.id, world.baker.id)


def test_slots_bad_input(client, world):
    today = datetime.now(timezone.utc).date()
    url = "/api/appointments/slots"
    assert_problem(client.get(f"{url}?date={world.day}&doctor_id=9999"), 404, "doctor_id", "No such doctor")
    assert_problem(client.get(f"{url}?date={world.day}&specialization=Astrology"), 422, "specialization")
    assert_problem(client.get(f"{url}?doctor_id={world.adams.id}"), 422, "date")
    assert_problem(client.get(f"{url}?date=2026-13-45&doctor_id={world.adams.id}"), 422, "date")
    assert_problem(client.get(f"{url}?date=tomorrow&doctor_id={world.adams.id}"), 422, "date")
    past = today - timedelta(days=1)
    assert_problem(client.get(f"{url}?date={past}&doctor_id={world.adams.id}"), 422, "date", "past")
    far = today + timedelta(days=62)
    assert_problem(client.get(f"{url}?date={far}&doctor_id={world.adams.id}"), 422, "date", "60 days")
    assert_problem(client.get(f"{url}?date={far}&specialization=Cardiology"), 422, "date", "60 days")
    assert_problem(client.get(f"{url}?date={world.day}"), 422, "doctor_id")
    assert_problem(client.get(f"{url}?date={world.day}&doctor_id=1&specialization=Cardiology"), 422, "doctor_id")


# --- booking -------------------------------------------------------------------

def test_book_read_and_slot_disappears(client, world):
    response = book(client, world, reason="Chest pain")
    assert response.status_code == 201, response.json
    booked = response.json
    assert booked["status"] == "pending" and booked["doctor_id"] == world.adams.id
    assert booked["start"] == at(world.day, 9) and booked["end"] == at(world.day, 9, 15)
    assert booked["assigned"] is False and booked["doctor_name"] == "Dr Adams"

    detail = client.get(f"/api/appointments/{booked['id']}", headers=world.h["ann"])
    assert detail.status_code == 200
    body = detail.json
    assert body["patient_name"] == "Ann" and body["reason"] == "Chest pain" and body["status"] == "pending"
    assert body["start"] == at(world.day, 9) and body["doctor_name"] == "Dr Adams"
    [event] = body["events"]
    assert event["from"] is None and event["to"] == "pending"
    assert event["actor_id"] == world.ann.user_id and event["note"] == "" and event["at"]

    slots = client.get(f"/api/appointments/slots?date={world.day}&doctor_id={world.adams.id}").json["slots"]
    assert at(world.day, 9) not in [s["start"] for s in slots] and len(slots) == 11

    taken = book(client, world, "bob")
    assert_problem(taken, 409, "start")
    assert count_appointments() == 1


def test_book_by_specialty_assigns_a_doctor_and_says_who(client, world):
    first = book(client, world, specialization="Cardiology")
    assert first.status_code == 201 and first.json["assigned"] is True
    second = book(client, world, "bob", specialization="cardiology")
    assert second.status_code == 201 and second.json["assigned"] is True
    assert {first.json["doctor_id"], second.json["doctor_id"]} == {world.adams.id, world.baker.id}
    assert second.json["doctor_name"] in ("Dr Adams", "Dr Baker")
    third = book(client, world, "admin", specialization="Cardiology", patient_id=world.bob.id)
    assert_problem(third, 409, "start")


def test_repeated_idempotency_key_returns_the_first_booking(client, world):
    first = book(client, world, key="retry-me-1")
    assert first.status_code == 201
    again = book(client, world, key="retry-me-1", start=at(world.day, 10))
    assert again.status_code == 200
    assert again.json == first.json
    assert count_appointments() == 1
    assert_problem(book(client, world, key="x" * 65), 422, "Idempotency-Key")


def test_book_bad_input(client, world):
    today = datetime.now(timezone.utc).date()
    past_day = today - timedelta(days=1)
    assert_problem(book(client, world, start=at(past_day, 9)), 422, "start", "past")
    assert_problem(book(client, world, start=at(today + timedelta(days=62), 9)), 422, "start", "60 days")
    assert_problem(book(client, world, start=at(world.day, 9, 7)), 422, "start", "not one of")
    assert_problem(book(client, world, start=at(world.day, 13)), 422, "start")
    assert_problem(book(client, world, start=f"{world.day}T09:00:00"), 422, "start")
    assert_problem(book(client, world, start="next tuesday"), 422, "start")
    assert_problem(book(client, world, doctor_id=9999), 404, "doctor_id")
    assert_problem(book(client, world, specialization="Astrology"), 422, "specialization")
    assert_problem(book(client, world, doctor_id=world.adams.id, specialization="Cardiology"), 422, "doctor_id")
    assert_problem(client.post("/api/appointments/book", json={"doctor_id": world.adams.id},
                               headers=world.h["ann"]), 422, "start")
    assert_problem(book(client, world, colour="blue"), 422, "colour")
    assert_problem(book(client, world, reason="x" * 1001), 422, "reason")
    malformed = client.post("/api/appointments/book", data='{"start": ', content_type="application/json",
                            headers=world.h["ann"])
    assert_problem(malformed, 400, detail="Malformed JSON")
    assert count_appointments() == 0


def test_who_may_book(client, world):
    assert_problem(client.post("/api/appointments/book", json={"start": at(world.day, 9), "doctor_id": 1}), 401)
    assert_problem(book(client, world, "adams"), 404)  # doctors do not book: the endpoint is not theirs
    assert_problem(book(client, world, "admin"), 422, "patient_id")
    assert_problem(book(client, world, "admin", patient_id=9999), 404, "patient_id")
    assert_problem(book(client, world, "ann", patient_id=world.bob.id), 422, "patient_id")
    for_bob = book(client, world, "admin", patient_id=world.bob.id)
    assert for_bob.status_code == 201 and for_bob.json["patient_id"] == world.bob.id
    assert client.get(f"/api/appointments/{for_bob.json['id']}", headers=world.h["bob"]).status_code == 200


# --- one appointment -----------------------------------------------------------

def test_appointments_are_visible_only_to_their_people(client, world):
    appointment_id = book(client, world).json["id"]
    url = f"/api/appointments/{appointment_id}"
    for who in ("ann", "adams", "admin"):
        assert client.get(url, headers=world.h[who]).status_code == 200
    for who in ("bob", "baker"):
        assert_problem(client.get(url, headers=world.h[who]), 404)
    assert_problem(client.delete(url, headers=world.h["bob"]), 404)
    assert_problem(client.patch(url + "/status", json={"status": "approved"}, headers=world.h["baker"]), 404)
    assert_problem(client.get("/api/appointments/9999", headers=world.h["admin"]), 404)
    assert_problem(client.get(url), 401)
    assert client.get(url, headers=world.h["ann"]).json["status"] == "pending"


def test_lifecycle_through_the_api(client, world):
    appointment_id = book(client, world).json["id"]
    url = f"/api/appointments/{appointment_id}"
    assert_problem(client.patch(url + "/status", json={"status": "approved"}, headers=world.h["ann"]),
                   409, detail="only cancel")
    approved = client.patch(url + "/status", json={"status": "approved", "note": "See you"},
                            headers=world.h["adams"])
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert_problem(client.patch(url + "/status", json={"status": "completed"}, headers=world.h["adams"]),
                   409, detail="not started")
    assert_problem(client.patch(url + "/status", json={"status": "pending"}, headers=world.h["adams"]),
                   409, detail="cannot become pending")
    assert_problem(client.patch(url + "/status", json={"status": "done"}, headers=world.h["adams"]), 422, "status")
    assert_problem(client.patch(url + "/status", json={}, headers=world.h["adams"]), 422, "status")
    assert_problem(client.patch(url + "/status", data="{", content_type="application/json",
                                headers=world.h["adams"]), 400)
    events = client.get(url, headers=world.h["ann"]).json["events"]
    assert [(e["from"], e["to"]) for e in events] == [(None, "pending"), ("pending", "approved")]
    assert events[1]["actor_id"] == world.adams.user_id and events[1]["note"] == "See you"

    cancelled = client.delete(url, headers=world.h["ann"])
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert_problem(client.delete(url, headers=world.h["ann"]), 409, detail="cancelled appointment cannot")
    # The freed time can be booked again.
    assert book(client, world, "bob").status_code == 201


def test_admin_may_do_what_a_doctor_may(client, world):
    appointment_id = book(client, world).json["id"]
    response = client.patch(f"/api/appointments/{appointment_id}/status", json={"status": "rejected"},
                            headers=world.h["admin"])
    assert response.status_code == 200 and response.json["status"] == "rejected"
    assert_problem(client.patch(f"/api/appointments/{appointment_id}/status", json={"status": "approved"},
                                headers=world.h["admin"]), 409)


def test_cancelling_too_late_is_409_with_the_reason(client, world):
    soon = (datetime.now(timezone.utc) + timedelta(minutes=60)).replace(second=0, microsecond=0)
    override = client.post("/api/admin/appointments/override", headers=world.h["admin"], json={
        "patient_id": world.ann.id, "doctor_id": world.adams.id, "start": soon.isoformat()})
    assert override.status_code == 201
    url = f"/api/appointments/{override.json['id']}"
    assert_problem(client.delete(url, headers=world.h["ann"]), 409, detail="Too late to cancel online")
    assert client.get(url, headers=world.h["ann"]).json["status"] == "approved"
    assert client.delete(url, headers=world.h["adams"]).json["status"] == "cancelled"  # the doctor still may
