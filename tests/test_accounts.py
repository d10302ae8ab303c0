"""Registering, signing in and out, profiles and role-gated areas in the browser flow."""
import pytest

from hospital.models import User

from .conftest import csrf_token, login


def register(client, **overrides):
    data = {"name": "Ann Smith", "email": "ann@example.com", "password": "long-enough-pw"}
    data.update(overrides)
    data["csrf_token"] = csrf_token(client, "/auth/register")
    return client.post("/auth/register", data=data)


def test_patient_registers_and_lands_on_dashboard(client):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/patient/")
    page = client.get("/patient/").get_data(as_text=True)
    assert "Hello, Ann Smith" in page
    assert User.query.filter_by(email="ann@example.com").one().role == "patient"


def test_email_is_case_insensitive_and_duplicates_refused(client):
    assert register(client, email="Ann@Example.com").status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/patient/")})
    response = register(client, email="ANN@example.COM")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert User.query.count() == 1


@pytest.mark.parametrize("field, value, message", [
    ("password", "short", "at least 10 characters"),
    ("email", "not-an-email", "valid email"),
    ("name", "", "This field is required"),
])
def test_bad_registration_input_rerenders_with_message_and_keeps_input(client, field, value, message):
    response = register(client, **{field: value, "phone": "+44 20 7946 0000"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message.lower() in body.lower()
    assert "+44 20 7946 0000" in body  # what the user typed is not lost
    assert User.query.count() == 0


def test_missing_csrf_token_is_refused(client):
    response = client.post("/auth/register", data={"name": "A", "email": "a@example.com", "password": "long-enough-pw"})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert User.query.count() == 0


def test_wrong_password_gets_generic_message(client, make_user):
    make_user("patient", email="pat@example.com")
    for email, password in [("pat@example.com", "wrong-password"), ("nobody@example.com", "whatever-123")]:
        response = login(client, email, password)
        assert response.status_code == 422
        assert "Wrong email or password." in response.get_data(as_text=True)


def test_sign_in_and_out(client, make_user):
    make_user("patient", email="pat@example.com")
    response = login(client, "PAT@example.com", "correct-horse-9")
    assert response.status_code == 302
    assert client.get("/patient/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/patient/")})
    response = client.get("/patient/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_signed_out_cookie_cannot_be_replayed(app, make_user):
    make_user("patient", email="pat@example.com")
    browser = app.test_client()
    login(browser, "pat@example.com", "correct-horse-9")
    stolen = browser.get_cookie("session").value
    browser.post("/auth/logout", data={"csrf_token": csrf_token(browser, "/patient/")})
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    response = attacker.get("/patient/")
    assert response.status_code == 302  # sent to sign in: the old session is dead


def test_session_cookie_flags(client, make_user):
    make_user("patient", email="pat@example.com")
    response = login(client, "pat@example.com", "correct-horse-9")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_is_throttled_per_account(client, make_user):
    make_user("patient", email="pat@example.com")
    for _ in range(5):
        assert login(client, "pat@example.com", "wrong-password").status_code == 422
    response = login(client, "pat@example.com", "correct-horse-9")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.get_data(as_text=True)


def test_login_is_throttled_per_ip_across_accounts(client):
    for n in range(5):
        assert login(client, f"someone{n}@example.com", "wrong-password").status_code == 422
    assert login(client, "another@example.com", "wrong-password").status_code == 429


@pytest.mark.parametrize("role, own, others", [
    ("patient", "/patient/", ["/doctor/dashboard", "/admin/"]),
    ("doctor", "/doctor/dashboard", ["/patient/", "/admin/"]),
    ("admin", "/admin/", ["/patient/", "/doctor/dashboard"]),
])
def test_role_gated_areas(client, make_user, role, own, others):
    make_user(role, email=f"{role}@example.com")
    login(client, f"{role}@example.com", "correct-horse-9")
    assert client.get(own).status_code == 200
    for path in others:
        assert client.get(path).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/doctor/dashboard")
    assert response.status_code == 302
    assert "/auth/login?next=" in response.headers["Location"]


def test_patient_edits_profile(client, make_user):
    make_user("patient", email="pat@example.com")
    login(client, "pat@example.com", "correct-horse-9")
    token = csrf_token(client, "/auth/profile")
    response = client.post("/auth/profile", data={"name": "Pat New", "phone": "0123", "csrf_token": token})
    assert response.status_code == 302
    assert "Pat New" in client.get("/patient/").get_data(as_text=True)
    bad = client.post("/auth/profile", data={"name": "Pat", "date_of_birth": "2999-01-01", "csrf_token": token})
    assert bad.status_code == 422 and "future" in bad.get_data(as_text=True)


def test_unknown_route_and_oversized_body(client):
    assert client.get("/no/such/page").status_code == 404
    response = client.post("/auth/register", data="x" * (2 * 1024 * 1024),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
