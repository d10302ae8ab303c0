"""The JSON API contract for accounts and errors as problem documents."""


def test_register_login_and_profile_round_trip(client):
    response = client.post("/api/auth/register", json={"email": "Api@Example.com", "password": "long-enough-pw", "name": "Api User"})
    assert response.status_code == 201
    assert response.json["email"] == "api@example.com"
    response = client.post("/api/auth/login", json={"email": "api@example.com", "password": "long-enough-pw"})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/api/patients/me", headers=headers)
    assert me.status_code == 200 and me.json["name"] == "Api User"
    updated = client.put("/api/patients/me", headers=headers, json={"name": "New Name", "phone": "555"})
    assert updated.status_code == 200 and updated.json["name"] == "New Name"
    assert client.get("/api/patients/me", headers=headers).json["phone"] == "555"


def test_errors_are_problem_documents(client):
    client.post("/api/auth/register", json={"email": "a@example.com", "password": "long-enough-pw", "name": "A"})
    cases = [
        (client.post("/api/auth/register", json={"email": "A@example.com", "password": "long-enough-pw", "name": "A"}), 409, "already exists"),
        (client.post("/api/auth/register", json={"email": "b@example.com", "password": "short", "name": "B"}), 422, "Password too short"),
        (client.post("/api/auth/register", json={"email": "nope", "password": "long-enough-pw", "name": "B"}), 422, "valid email"),
        (client.post("/api/auth/register", json={"email": "c@example.com"}), 422, "name, password"),
        (client.post("/api/auth/register", data="{not json", content_type="application/json"), 400, "Malformed JSON"),
        (client.post("/api/auth/login", json={"email": "a@example.com", "password": "wrong-password"}), 401, "Wrong email or password"),
        (client.get("/api/patients/me"), 401, "bearer token"),
        (client.get("/api/patients/me", headers={"Authorization": "Bearer forged"}), 401, "bearer token"),
        (client.get("/api/nothing-here"), 404, ""),
    ]
    for response, status, detail in cases:
        assert response.status_code == status, (response.status_code, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == status
        assert detail in response.json["detail"]


def test_field_errors_name_the_field(client):
    response = client.post("/api/auth/register", json={"email": "c@example.com", "password": "long-enough-pw"})
    assert "name" in response.json["errors"]


def test_token_is_revoked_by_sign_out(app, client, make_user):
    from hospital.services import accounts

    user = make_user("patient", email="pat@example.com")
    token = client.post("/api/auth/login", json={"email": "pat@example.com", "password": "correct-horse-9"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/patients/me", headers=headers).status_code == 200
    accounts.sign_out(user)
    assert client.get("/api/patients/me", headers=headers).status_code == 401


def test_non_patient_token_cannot_read_patient_profile(client, make_user):
    make_user("doctor", email="doc@example.com")
    token = client.post("/api/auth/login", json={"email": "doc@example.com", "password": "correct-horse-9"}).json["access_token"]
    response = client.get("/api/patients/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_api_login_throttled(client):
    for _ in range(5):
        assert client.post("/api/auth/login", json={"email": "x@example.com", "password": "bad-password"}).status_code == 401
    response = client.post("/api/auth/login", json={"email": "x@example.com", "password": "bad-password"})
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/auth/register", "/api/auth/login", "/api/patients/me"):
        assert path in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
