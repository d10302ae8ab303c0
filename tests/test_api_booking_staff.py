"""The booking JSON API for staff: doctors' hours and lists, admin search, override and doctors; the docs."""
from datetime import timedelta

from sqlalchemy import event

from hospital.extensions import db

from .api_helpers import NEW_YORK, assert_problem, at, book, world  # noqa: F401  (fixture)


# --- doctors' own endpoints -----------------------------------------------------

def test_doctor_replaces_weekly_availability(client, world):
    new = {"availability": [{"day": "Wednesday", "start": "14:00", "end": "16:00"},
                            {"day": "monday", "start": "13:00", "end": "17:00"},
                            {"day": "monday", "start": "08:30", "end": "12:00"}]}
    response = client.post("/api/doctors/availability", json=new, headers=world.h["adams"])
    assert response.status_code == 200
    body = response.json
    assert body["doctor_id"] == world.adams.id and body["timezone"] == "Europe/London"
    assert [(w["day"], w["start"], w["end"]) for w in body["availability"]] == [
        ("monday", "08:30", "12:00"), ("monday", "13:00", "17:00"), ("wednesday", "14:00", "16:00")]
    assert client.get("/api/doctors/availability", headers=world.h["adams"]).json == body

    monday = world.day + timedelta(days=(7 - world.day.weekday()) % 7 or 7)
    slots = client.get(f"/api/appointments/slots?date={monday}&doctor_id={world.adams.id}").json["slots"]
    assert slots[0]["start"] == at(monday, 8, 30) and len(slots) == 14 + 16
    if world.day.weekday() not in (0, 2):
        assert client.get(f"/api/appointments/slots?date={world.day}&doctor_id={world.adams.id}").json["slots"] == []


def test_availability_bad_input(client, world):
    def post(body, who="adams"):
        return client.post("/api/doctors/availability", json=body, headers=world.h[who])

    assert_problem(post({"availability": [{"day": "funday", "start": "09:00", "end": "12:00"}]}), 422, "day")
    assert_problem(post({"availability": [{"day": "monday", "start": "9am", "end": "12:00"}]}), 422, "start")
    assert_problem(post({"availability": [{"day": "monday", "start": "12:00", "end": "09:00"}]}), 422, "end")
    assert_problem(post({"availability": [{"day": "monday", "start": "09:00", "end": "12:00"},
                                          {"day": "monday", "start": "11:00", "end": "13:00"}]}), 422, "availability")
    assert_problem(post({"availability": [{"day": "monday", "start": "09:00"}]}), 422, "availability")
    assert_problem(post({}), 422, "availability")
    assert_problem(client.post("/api/doctors/availability", data="[", content_type="application/json",
                               headers=world.h["adams"]), 400)
    assert_problem(post({"availability": []}, "ann"), 404)
    assert_problem(post({"availability": []}, "admin"), 404)
    assert_problem(client.get("/api/doctors/availability", headers=world.h["ann"]), 404)
    # Nothing was replaced by the failures.
    assert len(client.get("/api/doctors/availability", headers=world.h["adams"]).json["availability"]) == 1


def test_doctor_lists_own_appointments(client, world):
    first = book(client, world).json["id"]
    book(client, world, "bob", start=at(world.day, 9, 15))
    book(client, world, "bob", start=at(world.day, 9, 30), doctor_id=world.baker.id)
    client.patch(f"/api/appointments/{first}/status", json={"status": "approved"}, headers=world.h["adams"])
    mine = client.get("/api/doctors/appointments", headers=world.h["adams"]).json
    assert mine["total"] == 2 and {a["doctor_id"] for a in mine["items"]} == {world.adams.id}
    approved = client.get("/api/doctors/appointments?status=approved", headers=world.h["adams"]).json
    assert [a["id"] for a in approved["items"]] == [first]
    paged = client.get("/api/doctors/appointments?per_page=1&page=2", headers=world.h["adams"]).json
    assert (paged["page"], paged["per_page"], paged["total"], len(paged["items"])) == (2, 1, 2, 1)
    assert_problem(client.get("/api/doctors/appointments?per_page=51", headers=world.h["adams"]), 422, "per_page")
    assert_problem(client.get("/api/doctors/appointments?status=lost", headers=world.h["adams"]), 422, "status")
    assert_problem(client.get("/api/doctors/appointments", headers=world.h["ann"]), 404)


# --- admin ---------------------------------------------------------------------

def test_admin_searches_appointments(client, world):
    a = book(client, world).json["id"]
    b = book(client, world, "bob", start=at(world.day, 10), doctor_id=world.baker.id).json["id"]
    c = book(client, world, "bob", start=at(world.day, 9, tz=NEW_YORK), doctor_id=world.cole.id).json["id"]
    client.patch(f"/api/appointments/{b}/status", json={"status": "approved"}, headers=world.h["baker"])
    get = lambda query="": client.get(f"/api/admin/appointments{query}", headers=world.h["admin"])  # noqa: E731
    everything = get().json
    assert everything["total"] == 3 and everything["per_page"] == 10
    assert {i["id"] for i in everything["items"]} == {a, b, c}
    assert [i["id"] for i in get("?status=approved").json["items"]] == [b]
    assert [i["id"] for i in get(f"?doctor_id={world.adams.id}").json["items"]] == [a]
    assert [i["id"] for i in get(f"?clinic_id={world.cole.clinic_id}").json["items"]] == [c]
    day_after = world.day + timedelta(days=1)
    assert get(f"?date_from={world.day}&date_to={world.day}").json["total"] == 3  # New York 09:00 is 14:00 UTC
    assert get(f"?date_from={day_after}").json["total"] == 0
    assert get(f"?date_to={world.day - timedelta(days=1)}").json["total"] == 0
    assert get("?per_page=2&page=2").json["items"][0]["id"] in (a, b, c)
    assert_problem(get("?per_page=51"), 422, "per_page")
    assert_problem(get("?date_from=31-12-2026"), 422, "date_from")
    assert_problem(get(f"?date_from={day_after}&date_to={world.day}"), 422, "date_to")
    assert_problem(get("?status=lost"), 422, "status")
    for who in ("ann", "adams"):
        assert_problem(client.get("/api/admin/appointments", headers=world.h[who]), 404)


def test_admin_override_books_outside_hours_but_never_overlapping(client, world):
    post = lambda body, who="admin": client.post("/api/admin/appointments/override", json=body,  # noqa: E731
                                                 headers=world.h[who])
    evening = {"patient_id": world.ann.id, "doctor_id": world.adams.id, "start": at(world.day, 18),
               "minutes": 30, "reason": "Urgent"}
    created = post(evening)
    assert created.status_code == 201
    assert created.json["status"] == "approved" and created.json["end"] == at(world.day, 18, 30)
    assert_problem(post({**evening, "patient_id": world.bob.id, "start": at(world.day, 18, 15)}), 409, "start")
    assert_problem(post({**evening, "patient_id": 9999}), 404, "patient_id")
    assert_problem(post({**evening, "doctor_id": 9999}), 404, "doctor_id")
    assert_problem(post({**evening, "minutes": 3}), 422, "minutes")
    assert_problem(post({**evening, "status": "completed"}), 422, "status")
    assert_problem(post({**evening, "start": f"{world.day}T18:00"}), 422, "start")
    assert_problem(post({"doctor_id": world.adams.id, "start": at(world.day, 19)}), 422, "patient_id")
    assert_problem(post(evening, "ann"), 404)
    pending = post({**evening, "start": at(world.day, 9), "status": "pending"})
    assert pending.status_code == 201 and pending.json["status"] == "pending"
    assert_problem(book(client, world, "bob"), 409)  # the override holds the 09:00 slot


def test_admin_lists_doctors(client, world):
    response = client.get("/api/admin/doctors?per_page=2", headers=world.h["admin"])
    assert response.status_code == 200
    body = response.json
    assert (body["total"], body["per_page"], len(body["items"])) == (3, 2, 2)
    assert body["items"][0]["email"] == "adams@example.com" and body["items"][0]["active"] is True
    assert client.get("/api/admin/doctors?specialization=Dermatology", headers=world.h["admin"]).json["total"] == 1
    assert_problem(client.get("/api/admin/doctors?per_page=51", headers=world.h["admin"]), 422, "per_page")
    assert_problem(client.get("/api/admin/doctors", headers=world.h["adams"]), 404)
    assert_problem(client.get("/api/admin/doctors"), 401)


def test_lists_load_in_a_fixed_number_of_queries(client, world):
    """No N+1: a page of three rows costs as many queries as a page of one."""
    book(client, world)
    book(client, world, "bob", start=at(world.day, 9, 15))
    book(client, world, "bob", start=at(world.day, 9, 30))

    def statements(url: str, who: str) -> int:
        db.session.expunge_all()  # nothing cached in the shared test session
        seen = []
        record = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, …)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = client.get(url, headers=world.h[who])
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert response.status_code == 200 and response.json["total"] == 3
        return len(seen)

    for url, who in (("/api/doctors", "ann"), ("/api/admin/doctors", "admin"),
                     ("/api/admin/appointments", "admin"), ("/api/doctors/appointments", "adams")):
        assert statements(f"{url}?per_page=1", who) == statements(f"{url}?per_page=3", who), url


# --- documentation -------------------------------------------------------------

def test_openapi_documents_every_booking_path(client):
    spec = client.get("/api/openapi.json").json
    expected = {
        "/api/doctors": {"get"},
        "/api/doctors/availability": {"get", "post"},
        "/api/doctors/appointments": {"get"},
        "/api/appointments/slots": {"get"},
        "/api/appointments/book": {"post"},
        "/api/appointments/{appointment_id}": {"get", "delete"},
        "/api/appointments/{appointment_id}/status": {"patch"},
        "/api/admin/appointments": {"get"},
        "/api/admin/appointments/override": {"post"},
        "/api/admin/doctors": {"get"},
    }
    for path, methods in expected.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, spec["paths"][path].keys())
    book_op = spec["paths"]["/api/appointments/book"]["post"]
    assert book_op["security"] == [{"bearerAuth": []}]
    assert {"200", "201", "401", "409", "422"} <= set(book_op["responses"])
    assert book_op["responses"]["201"]["content"]["application/json"]["example"]["status"] == "pending"
    assert book_op["requestBody"]["content"]["application/json"]["example"]["doctor_id"]
    assert any(p["name"] == "Idempotency-Key" for p in book_op["parameters"])
    assert "security" not in spec["paths"]["/api/doctors"]["get"]  # the directory is public
    for path in expected:
        for method, op in spec["paths"][path].items():
            if method != "parameters" and path != "/api/doctors" and not path.endswith("/slots"):
                assert op.get("security") == [{"bearerAuth": []}], (path, method)
