"""The worker process and a smoke run of the whole app on SQLite."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade

from hospital import create_app
from hospital.config import TestConfig
from hospital.services import demo

from .conftest import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_process(settings):
    env = {**os.environ, "HOSPITAL_ENV": "test", "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": settings["REDIS_URL"]}
    process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process
    process.terminate()
    process.wait(timeout=10)


def test_worker_runs_a_job_in_app_context(runner, worker_process):
    result = runner.invoke(args=["rq-ping", "--wait", "20"])
    assert result.exit_code == 0, result.output
    assert "pong: hello from hospital" in result.output


def test_rq_ping_reports_a_missing_worker(runner):
    result = runner.invoke(args=["rq-ping", "--wait", "1"])
    assert result.exit_code != 0
    assert "no worker answered" in result.output


def test_smoke_on_sqlite(tmp_path, settings):
    """The zero-setup default: migrations, demo data and sign-in on a SQLite file."""
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, **settings, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'smoke.db'}"})
    with app.app_context():
        upgrade()
        demo.seed_demo()
        client = app.test_client()
        assert client.get("/health").json["database"]["detail"] == "sqlite"
        assert login(client, "dr.jones@example.com", demo.DEMO_PASSWORD).status_code == 302
        assert "Dr. Emma Jones" in client.get("/doctor/dashboard").get_data(as_text=True)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/doctor/dashboard")})
        token = csrf_token(client, "/auth/register")
        response = client.post("/auth/register", data={"name": "New Patient", "email": "new@example.com",
                                                       "password": "long-enough-pw", "csrf_token": token})
        assert response.status_code == 302
