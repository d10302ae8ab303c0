"""``flask`` commands: accounts, demo data and job wiring checks."""
import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .errors import DomainError
from .extensions import db
from .models import ROLES
from .services import accounts, analytics_counters, demo

users_cli = AppGroup("users", help="Manage accounts.")
analytics_cli = AppGroup("analytics", help="The admin's analytics.")


@users_cli.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default=None)
@click.option("--clinic", "clinic_name", default=None, help="Clinic name (created if missing).")
@click.option("--timezone", default=None, help="Time zone for a new clinic.")
@click.option("--specialization", default=None, help="Doctors only.")
def create_user(role, email, password, name, clinic_name, timezone, specialization):
    """Create an account (production needs a first admin)."""
    clinic = None
    if clinic_name:
        clinic = accounts.get_or_create_clinic(clinic_name, timezone or current_app.config["DEFAULT_CLINIC_TIMEZONE"])
    if role == "doctor" and (clinic is None or not specialization):
        raise click.UsageError("a doctor needs --clinic and --specialization")
    try:
        user = accounts.create_user(email, password, role, name=name, clinic=clinic, specialization=specialization)
    except DomainError as exc:
        db.session.rollback()
        messages = "; ".join(m for msgs in exc.errors.values() for m in msgs) or exc.detail
        raise click.ClickException(messages) from exc
    click.echo(f"Created {role} {user.email} (id {user.id})")


@click.command("seed-demo")
def seed_demo():
    """Create demo clinics, doctors, patients and an admin (idempotent)."""
    logins = demo.seed_demo()
    click.echo(f"Demo logins (password: {demo.DEMO_PASSWORD}):")
    for role in ROLES[::-1]:
        emails = [email for r, email in logins if r == role]
        shown = ", ".join(emails[:3]) + (f" (+{len(emails) - 3} more)" if len(emails) > 3 else "")
        click.echo(f"  {role:8} {shown}")


@click.command("rq-ping")
@click.option("--wait", default=10.0, help="Seconds to wait for a worker.")
def rq_ping(wait):
    """Enqueue a trivial job and wait for a worker to run it."""
    from .jobs.queue import enqueue, get_queue
    from .jobs.ping import ping

    job = enqueue(ping, "hello")
    result = job.latest_result(timeout=int(wait)) if hasattr(job, "latest_result") else None
    if result is None or result.type != result.Type.SUCCESSFUL:
        raise click.ClickException(f"no worker answered on queue {get_queue().name!r} within {wait}s")
    click.echo(f"worker answered: {result.return_value}")


@analytics_cli.command("rebuild")
def analytics_rebuild():
    """Recompute the analytics counters from the appointments (safe while the app runs)."""
    result = analytics_counters.rebuild()
    click.echo(f"Rebuilt analytics counters: {result['counter_rows']} counters, {result['patients']} patients")


def register_commands(app: Flask) -> None:
    app.cli.add_command(analytics_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(rq_ping)
