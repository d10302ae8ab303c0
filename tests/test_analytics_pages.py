"""The analytics page, its fragments, JSON and CSV, and the API: what admins see and who may see it."""
import csv
import io
from datetime import datetime, time, timedelta, timezone

import pytest

from hospital.extensions import db
from hospital.services import accounts, appointments, booking

from .api_helpers import assert_problem
from .conftest import login
from .test_pages_booking import fresh_request_globals  # noqa: F401  (autouse fixture)

PASSWORD = "correct-horse-9"


def signed_in(app, email):
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 302
    return client


def bearer(client, email):
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def data(app, make_user):
    """Two clinics; three appointments booked yesterday (London time) for yesterday, one long ago."""
    admin = make_user("admin", email="boss@example.com")
    london = accounts.get_or_create_clinic("North", "Europe/London")
    york = accounts.get_or_create_clinic("South", "America/New_York")
    ada = make_user("doctor", email="ada@example.com", clinic=london, name="Dr Ada").doctor
    bo = make_user("doctor", email="bo@example.com", clinic=york, name="Dr Bo").doctor
    pat = make_user("patient", email="pat@example.com", name="=HYPERLINK(\"http://x\")").patient
    sam = make_user("patient", email="sam@example.com", name="Sam Smith").patient
    make_user("doctor", email="doc@example.com", clinic=london)
    day = datetime.now(london.tz).date() - timedelta(days=1)

    def at(hh, tz):
        return datetime.combine(day, time(hh)).replace(tzinfo=tz).astimezone(timezone.utc)

    first = booking.override_book(admin, pat.id, ada.id, at(9, london.tz), 30, status="pending")
    second = booking.override_book(admin, pat.id, ada.id, at(10, london.tz), 30)
    third = booking.override_book(admin, sam.id, bo.id, at(14, york.tz), 30)
    old = booking.override_book(admin, sam.id, bo.id, at(9, york.tz) - timedelta(days=400), 30)
    for a in (first, second, third, old):
        a.created_at = a.start_at - timedelta(hours=3)  # booked that morning (the old one 400 days ago)
    db.session.commit()
    appointments.change_status(admin, first.id, "rejected")
    return {"admin": admin, "london": london, "york": york, "ada": ada, "bo": bo, "pat": pat, "sam": sam, "day": day}


def test_page_shows_the_figures_and_answers_htmx_with_fragments(app, data):
    admin = signed_in(app, "boss@example.com")
    page = admin.get("/admin/analytics?period=7d")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Analytics</h1>" in body
    assert 'data-figure="total">3<' in body and 'data-figure="rejected">1<' in body
    assert 'data-figure="approved">2<' in body and "Dr Ada" in body and "Sam Smith" in body
    assert "vendor/chart.js/chart.umd.min.js" in body and "js/analytics.js" in body
    assert 'href="/admin/analytics"' in body  # in the navigation

    north = admin.get(f"/admin/analytics?period=7d&clinic_id={data['london'].id}", headers={"HX-Request": "true"})
    fragment = north.get_data(as_text=True)
    assert north.status_code == 200 and "<h1>" not in fragment
    assert 'id="analytics-summary"' in fragment and 'hx-swap-oob="true"' in fragment
    assert 'data-figure="total">2<' in fragment and "Dr Bo" not in fragment
    assert north.headers["HX-Push-Url"] == f"/admin/analytics?period=7d&clinic_id={data['london'].id}"

    live = admin.get("/admin/analytics/live", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="analytics-live"' in live and "Connected users now" in live

    figures = admin.get(f"/admin/analytics/data?from={data['day'] - timedelta(days=500)}&to={data['day']}").json
    assert figures["total"] == 4 and figures["period"]["name"] == "custom"


def test_custom_period_errors_re_render_the_form(app, data):
    admin = signed_in(app, "boss@example.com")
    backwards = admin.get("/admin/analytics?period=custom&from=2026-05-10&to=2026-05-01")
    assert backwards.status_code == 422
    assert "The period starts after it ends" in backwards.get_data(as_text=True)
    too_long = admin.get("/admin/analytics?from=2020-01-01&to=2026-01-01", headers={"HX-Request": "true"})
    assert too_long.status_code == 422 and "At most two years" in too_long.get_data(as_text=True)
    assert admin.get("/admin/analytics?from=someday").status_code == 422
    assert admin.get("/admin/analytics/data?from=2026-05-10&to=2026-05-01").status_code == 422
    assert admin.get("/admin/analytics?clinic_id=999").status_code == 404
    assert admin.get("/admin/analytics/export.csv?clinic_id=999").status_code == 404


def test_only_admins_see_analytics(app, data):
    for email in ("pat@example.com", "doc@example.com"):
        other = signed_in(app, email)
        for path in ("/admin/analytics", "/admin/analytics/live", "/admin/analytics/data", "/admin/analytics/export.csv"):
            assert other.get(path).status_code == 404, (email, path)
    anonymous = app.test_client().get("/admin/analytics")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_csv_download_holds_every_figure_safely(app, data):
    admin = signed_in(app, "boss@example.com")
    response = admin.get(f"/admin/analytics/export.csv?period=custom&from={data['day']}&to={data['day']}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="analytics-all-{data["day"]}-{data["day"]}.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["section", "key", "label", "value"]
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    assert by_key[("period", "from")][3] == str(data["day"]) and by_key[("period", "clinic")][2] == "All clinics"
    assert by_key[("status", "total")][3] == "3" and by_key[("status", "rejected")][3] == "1"
    assert by_key[("status", "no_show")][3] == "0"
    assert by_key[("top_doctors", str(data["ada"].id))][2:] == ["Dr Ada", "2"]
    # A patient's name that a spreadsheet would run as a formula is neutralised.
    assert by_key[("top_patients", str(data["pat"].id))][2] == "'=HYPERLINK(\"http://x\")"
    assert by_key[("per_day", str(data["day"]))][3] == "3"
    weekday = data["day"].strftime("%a")
    assert by_key[("heatmap", f"{weekday} 09")][3] == "1"  # London 09:00 (New York 14:00 is another hour)
    assert {r[1] for r in rows if r[0] == "emails"} == {"sent", "retrying", "failed"}
    assert ("connected", "users") in by_key


def test_api_returns_the_same_figures_and_checks_input(app, client, data):
    admin = bearer(client, "boss@example.com")
    day = data["day"]
    response = client.get(f"/api/admin/analytics?from={day}&to={day}&clinic_id={data['york'].id}", headers=admin)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["clinic"] == {"id": data["york"].id, "name": "South", "timezone": "America/New_York"}
    assert body["period"] == {"name": "custom", "from": str(day), "to": str(day), "days": 1}
    assert body["total"] == 1 and body["statuses"]["approved"] == 1
    assert body["top_doctors"] == [{"id": data["bo"].id, "name": "Dr Bo", "appointments": 1}]
    assert body["heatmap"]["counts"][day.weekday()][14] == 1 and body["peak"]["text"].endswith("14:00–15:00")
    assert set(body["emails"]) == {"sent", "retrying", "failed"} and "users" in body["connected"]
    everything = client.get("/api/admin/analytics?period=30d", headers=admin).json
    assert everything["total"] == 3 and everything["period"]["days"] == 30

    assert_problem(client.get("/api/admin/analytics"), 401)
    assert_problem(client.get("/api/admin/analytics", headers=bearer(client, "pat@example.com")), 404)
    assert_problem(client.get("/api/admin/analytics", headers=bearer(client, "doc@example.com")), 404)
    assert_problem(client.get("/api/admin/analytics?from=2026-05-10&to=2026-05-01", headers=admin), 422, "from")
    assert_problem(client.get("/api/admin/analytics?from=2023-01-01&to=2026-01-01", headers=admin), 422, "to")
    assert_problem(client.get("/api/admin/analytics?from=nope", headers=admin), 422, "from")
    assert_problem(client.get("/api/admin/analytics?clinic_id=999", headers=admin), 404)
    assert_problem(client.get("/api/admin/analytics?period=year", headers=admin), 422, "period")


def test_api_is_documented(client):
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/admin/analytics"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "clinic_id"}
    assert {"200", "401", "404", "422"} <= set(operation["responses"])
    assert operation["security"] == [{"bearerAuth": []}]


def test_rebuild_command(runner, data):
    result = runner.invoke(args=["analytics", "rebuild"])
    assert result.exit_code == 0, result.output
    # 14 counters at day grain (3 total, 4 status, 3 doctor, 4 hour) and as many at month grain; two patients
    assert "Rebuilt analytics counters: 28 counters, 2 patients" in result.output
