"""A trivial job that proves the worker wiring (app context included)."""
from flask import current_app


def ping(message: str) -> str:
    return f"pong: {message} from {current_app.name}"
