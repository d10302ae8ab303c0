"""Small helpers shared by the page blueprints: reading input and answering htmx.

Views stay thin: they parse input with these helpers, call one service
operation, and answer with :func:`page_or_fragment`.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import make_response, render_template

from .errors import DomainError, InvalidInput
from .extensions import htmx


def wants_fragment() -> bool:
    """An htmx request that wants a piece of a page (a history restore wants the whole page)."""
    return bool(htmx) and not htmx.history_restore_request


def page_or_fragment(page_template: str, fragment_template: str, status: int = 200, push_url: str | None = None,
                     **context):
    """Render ``fragment_template`` for htmx requests, the full ``page_template`` otherwise.

    ``push_url`` (for fragments) puts the matching page URL in the address bar,
    so a reload or a shared link shows the same state.
    """
    if wants_fragment():
        response = make_response(render_template(fragment_template, **context), status)
        if push_url:
            response.headers["HX-Push-Url"] = push_url
    else:
        response = make_response(render_template(page_template, **context), status)
    response.vary.add("HX-Request")  # one URL, two bodies: HTTP caches must keep them apart
    return response


def parse_day(value: str | None, field: str = "date") -> date | None:
    """An ISO date (``2026-05-04``) or None when empty; 422 naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("Enter a date like 2026-05-04", {field: ["Use YYYY-MM-DD"]}) from None


def parse_id(value, field: str) -> int | None:
    """A positive whole number or None when empty; 422 naming the field otherwise."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a number", {field: ["Must be a number"]}) from None
    if number < 1:
        raise InvalidInput(f"{field} must be positive", {field: ["Must be positive"]})
    return number


def parse_start(value: str | None) -> datetime:
    """An ISO 8601 instant with a UTC offset (the hidden ``start`` of a slot)."""
    try:
        start = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("Choose a time from the list", {"start": ["Not a valid time"]}) from None
    if start.tzinfo is None:
        raise InvalidInput("Choose a time from the list", {"start": ["The time needs a UTC offset"]})
    return start


def apply_errors(form, error: DomainError) -> None:
    """Copy a service error onto the form: field messages on their fields, the rest on the form.

    Like :func:`hospital.auth.routes.form_errors`, but messages for names the
    form has no field for (e.g. an overlap across windows) are not lost.
    """
    unmatched = []
    for name, messages in (error.errors or {}).items():
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            unmatched.extend(messages)
    if unmatched or not error.errors:
        form.form_errors.append(error.detail if not unmatched else f"{error.detail}: {' '.join(unmatched)}")
