"""/api/notifications: catch-up listing and admin pushes."""
from hospital.models import Notification


def bearer(client, email):
    token = client.post("/api/auth/login", json={"email": email, "password": "correct-horse-9"}).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_admin_push_to_user_and_role_then_catch_up(client, make_user):
    make_user("admin", email="admin@example.com")
    patient = make_user("patient", email="pat@example.com")
    make_user("patient", email="pat2@example.com")
    admin = bearer(client, "admin@example.com")
    response = client.post("/api/notifications/send", headers=admin, json={"user_id": patient.id, "text": "Hello Pat"})
    assert response.status_code == 201 and response.json == {"sent": 1}
    response = client.post("/api/notifications/send", headers=admin, json={"role": "patient", "text": "Closed Monday", "link": "/patient/"})
    assert response.json == {"sent": 2}
    mine = bearer(client, "pat@example.com")
    listing = client.get("/api/notifications", headers=mine).json
    assert [n["text"] for n in listing["items"]] == ["Hello Pat", "Closed Monday"] and listing["unread"] == 2
    after = client.get(f"/api/notifications?after={listing['items'][0]['id']}", headers=mine).json
    assert [n["text"] for n in after["items"]] == ["Closed Monday"]


def test_non_admin_cannot_push(client, make_user):
    make_user("patient", email="pat@example.com")
    response = client.post("/api/notifications/send", headers=bearer(client, "pat@example.com"), json={"role": "patient", "text": "spam"})
    assert response.status_code == 404
    assert Notification.query.count() == 0


def test_push_input_errors(client, make_user):
    make_user("admin", email="admin@example.com")
    admin = bearer(client, "admin@example.com")
    cases = [({"text": "x"}, 422), ({"text": "x", "role": "pilot"}, 422), ({"text": "", "role": "patient"}, 422),
             ({"text": "x", "user_id": 999}, 404), ({"text": "x", "role": "patient", "link": "https://evil.example"}, 422)]
    for body, status in cases:
        response = client.post("/api/notifications/send", headers=admin, json=body)
        assert response.status_code == status, (body, response.json)
        assert response.mimetype == "application/problem+json"
    assert client.post("/api/notifications/send", json={"role": "patient", "text": "x"}).status_code == 401
