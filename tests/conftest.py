"""Fixtures: ``app``, ``client``, ``runner``, live server, factories and login helpers."""
from __future__ import annotations

import re

import pytest
import redis as redis_lib
from flask_migrate import upgrade
from sqlalchemy import text

from hospital import create_app
from hospital.config import TestConfig
from hospital.devtools.mailsink import MailSink
from hospital.devtools.servers import free_port
from hospital.extensions import db

from .harness import LiveServer, TestDatabase, TestRedis


@pytest.fixture(scope="session")
def database():
    test_db = TestDatabase()
    yield test_db
    test_db.drop()


@pytest.fixture(scope="session")
def redis_server():
    server = TestRedis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mail_sink():
    with MailSink(free_port()) as sink:
        yield sink


@pytest.fixture(scope="session")
def settings(database, redis_server, mail_sink):
    """Config overrides that point the app at this run's services."""
    return {
        "ENV_NAME": "test",
        "SQLALCHEMY_DATABASE_URI": database.url,
        "REDIS_URL": redis_server.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_sink.port,
    }


@pytest.fixture(scope="session")
def _migrated_app(settings):
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, **settings})
    with app.app_context():
        upgrade()
    return app


def _reset_state(app) -> None:
    """Empty every table and the Redis databases this run owns."""
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
    for url in (app.config["REDIS_URL"], app.config["CACHE_REDIS_URL"]):
        redis_lib.Redis.from_url(url).flushdb()


@pytest.fixture
def app(_migrated_app):
    _reset_state(_migrated_app)
    with _migrated_app.app_context():
        yield _migrated_app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def live_server(_migrated_app, settings):
    env = {
        "HOSPITAL_ENV": "test",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": settings["REDIS_URL"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(settings["MAIL_PORT"]),
    }
    server = LiveServer(env).start()
    yield server
    server.stop()


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/auth/login") -> str:
    """Read the CSRF token a page hands out (as a browser would)."""
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, email: str, password: str):
    token = csrf_token(client)
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def make_user(app):
    """Factory: ``make_user(role, email=None, password=…, **profile)``."""
    from hospital.services import accounts

    counter = {"n": 0}

    def factory(role="patient", email=None, password="correct-horse-9", clinic=None,
                specialization="General Practice", name=None):
        counter["n"] += 1
        email = email or f"{role}{counter['n']}@example.com"
        if role == "doctor" and clinic is None:
            clinic = accounts.get_or_create_clinic("Test Clinic", "Europe/London")
        return accounts.create_user(email, password, role, name=name, clinic=clinic,
                                    specialization=specialization if role == "doctor" else None)

    return factory
