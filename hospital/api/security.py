"""Bearer-token authentication for the JSON API."""
from functools import wraps

from flask import current_app, g, request

from ..errors import DomainError, NotFound
from ..services.accounts import user_from_token


class Unauthorized(DomainError):
    status = 401


def bearer_user():
    """The user named by the request's ``Authorization: Bearer`` token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return user_from_token(token.strip(), current_app.config["SECRET_KEY"],
                           current_app.config["API_TOKEN_MAX_AGE"])


def token_required(*roles: str):
    """Require a valid bearer token (401) and, if given, one of ``roles`` (404)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = bearer_user()
            if user is None:
                raise Unauthorized("A valid bearer token is required")
            if roles and user.role not in roles:
                raise NotFound("Not found")
            g.api_user = user
            return view(*args, **kwargs)
        return wrapped
    return decorator


def bearer_doc() -> dict:
    """OpenAPI extras for a token-protected operation: the scheme and the 401 answer.

    Use as ``@blp.doc(**bearer_doc())``; a fresh dict each time, since the
    spec builder merges it into the operation.
    """
    return {"security": [{"bearerAuth": []}],
            "responses": {"401": {"description": "Missing, invalid, expired or revoked bearer token"}}}
