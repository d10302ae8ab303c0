"""Health check, configuration, migrations and the command line."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hospital import create_app
from hospital.config import ConfigError, load_config
from hospital.extensions import db
from hospital.models import Clinic, Doctor, User


def test_health_reports_both_services(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json["database"]["ok"] is True
    assert response.json["database"]["detail"] == "postgresql"
    assert response.json["redis"]["ok"] is True


def test_health_is_503_when_redis_is_down(settings):
    from hospital.devtools.servers import free_port

    app = create_app({"ENV_NAME": "test", "SECRET_KEY": "x", **settings,
                      "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["redis"]["ok"] is False and response.json["database"]["ok"] is True


def test_production_refuses_to_start_without_secret_key():
    settings = load_config("production", {})
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(settings)
    with pytest.raises(ConfigError, match="development value"):
        create_app({**settings, "SECRET_KEY": "dev-only-not-secret"})


def test_environment_overrides_defaults():
    settings = load_config("production", {"SECRET_KEY": "s3cret", "DATABASE_URL": "postgres://u@h/db",
                                          "REDIS_URL": "redis://r:6379/2", "MAIL_PORT": "2525"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["MAIL_PORT"] == 2525
    assert settings["SESSION_COOKIE_SECURE"] is True
    app = create_app({**settings})
    assert app.config["CACHE_REDIS_URL"] == "redis://r:6379/3"  # the cache has its own database


def test_migrations_have_one_head_and_match_the_models(app):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_cli_creates_users(runner):
    result = runner.invoke(args=["users", "create", "--role", "admin", "--email", "Boss@Example.com", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    assert User.query.filter_by(email="boss@example.com").one().role == "admin"
    result = runner.invoke(args=["users", "create", "--role", "doctor", "--email", "doc@example.com", "--password", "long-enough-pw",
                                 "--clinic", "North", "--specialization", "Cardiology"])
    assert result.exit_code == 0, result.output
    assert Clinic.query.filter_by(name="North").one()
    weak = runner.invoke(args=["users", "create", "--role", "patient", "--email", "p@example.com", "--password", "short"])
    assert weak.exit_code != 0 and "at least 10" in weak.output
    no_clinic = runner.invoke(args=["users", "create", "--role", "doctor", "--email", "d2@example.com", "--password", "long-enough-pw"])
    assert no_clinic.exit_code != 0 and "--clinic" in no_clinic.output


def test_seed_demo_is_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = {role: User.query.filter_by(role=role).count() for role in ("admin", "doctor", "patient")}
    assert counts["admin"] == 1 and counts["doctor"] >= 8 and counts["patient"] >= 12
    assert len({d.specialization for d in Doctor.query}) >= 4
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert {role: User.query.filter_by(role=role).count() for role in counts} == counts
    assert Clinic.query.count() == 2
    assert "admin@example.com" in first.output and "demo-password" in first.output
