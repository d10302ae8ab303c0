"""Domain errors raised by services and how they reach users.

Services raise these; the handlers registered here turn them (and every HTTP
error) into an HTML page for the browser or an ``application/problem+json``
document under ``/api``.
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES


class DomainError(Exception):
    """Base class: ``status`` is the HTTP status the error maps to."""

    status = 400

    def __init__(self, detail: str, errors: dict | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra


class InvalidInput(DomainError):
    """Input that names a field wrongly or breaks a rule: 422."""

    status = 422


class NotFound(DomainError):
    """Missing, or not the caller's to see: 404 (never 403, so nothing leaks)."""

    status = 404


class Conflict(DomainError):
    """The request is valid but clashes with current state: 409."""

    status = 409


class Forbidden(DomainError):
    status = 403


def wants_problem_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/health"


def problem(status: int, detail: str, errors: dict | None = None, **extra):
    """An RFC 9457 problem document response."""
    title = HTTP_STATUS_CODES.get(status, "Error")
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _http_error_detail(error: HTTPException) -> tuple[str, dict]:
    data = getattr(error, "data", None) or {}
    errors: dict = {}
    messages = data.get("messages")
    if isinstance(messages, dict):
        # webargs: {"json": {"field": ["msg"]}} -> {"field": ["msg"]}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                errors.update(location_errors)
            else:
                errors.setdefault("_body", location_errors)
    detail = data.get("message") or error.description or error.name
    if errors and error.code == 422 and not data.get("message"):
        names = ", ".join(sorted(k for k in errors if not k.startswith("_")))
        detail = f"Invalid input: {names}" if names else "Invalid input"
    if errors.get("_body") and error.code == 400:
        detail = "Malformed JSON body"
    return detail, errors


def handle_http_exception(error: HTTPException):
    if error.code is None:
        return error
    detail, errors = _http_error_detail(error)
    if wants_problem_json():
        response = problem(error.code, detail, errors)
        if error.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return render_template("errors/error.html", status=error.code, title=error.name,
                           detail=error.description), error.code


def handle_domain_error(error: DomainError):
    if wants_problem_json():
        return problem(error.status, error.detail, error.errors, **error.extra)
    title = HTTP_STATUS_CODES.get(error.status, "Error")
    return render_template("errors/error.html", status=error.status, title=title,
                           detail=error.detail), error.status


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
