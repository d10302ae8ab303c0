"""GET /api/stream/appointments: appointment status changes as Server-Sent Events."""
from __future__ import annotations

import json
import time

import redis
from flask import Response, current_app, request, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from ..extensions import db
from ..services import stream
from .security import Unauthorized, bearer_user

blp = Blueprint("api_stream", __name__, url_prefix="/api/stream", description="Live streams (Server-Sent Events)")
HEARTBEAT_SECONDS = 15


def _format(payload: dict) -> str:
    return f"id: {payload['id']}\nevent: appointment_status\ndata: {json.dumps(payload)}\n\n"


def _resume_point() -> int:
    """``Last-Event-ID`` (or ``?last_event_id=``); missing or malformed starts from now."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw and raw.isdigit():
        return int(raw)
    return stream.latest_event_id()


@blp.get("/appointments")
@blp.doc(security=[{"bearerAuth": []}], responses={200: {
    "description": "text/event-stream; each event is `appointment_status` with JSON data "
                   "{id, appointment_id, from, to, actor_id, at, note, doctor_id, patient_id, start}. "
                   "Patients get their own appointments, doctors theirs, admins all. Send `Last-Event-ID` to resume.",
    "content": {"text/event-stream": {}}}})
def appointments():
    """Follow appointment status changes live (a bearer token or a signed-in session)."""
    user = bearer_user() or (current_user._get_current_object() if current_user.is_authenticated else None)
    if user is None:
        raise Unauthorized("A valid bearer token or session is required")
    after = _resume_point()
    audience = stream.audience_of(user)
    pubsub = stream.connection(current_app.config).pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(stream.CHANNEL)  # subscribe first, then replay: no gap between the two
    except redis.RedisError:
        pubsub = None  # send the backlog and end; the client reconnects with Last-Event-ID
    backlog = stream.replay(audience, after)
    db.session.remove()  # a long-lived stream must not hold a database connection

    def generate():
        last = after
        yield "retry: 3000\n\n"
        for payload in backlog:
            if payload["id"] > last:
                last = payload["id"]
                yield _format(payload)
        if pubsub is None:
            return
        next_beat = time.monotonic() + HEARTBEAT_SECONDS
        try:
            while True:
                try:
                    message = pubsub.get_message(timeout=1.0)
                except redis.RedisError:
                    return  # Redis went away: end the stream, the client resumes later
                if message and message.get("type") == "message":
                    payload = json.loads(message["data"])
                    if payload["id"] > last and stream.can_see(audience, payload):
                        last = payload["id"]
                        yield _format(payload)
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + HEARTBEAT_SECONDS
                    yield ": heartbeat\n\n"
        finally:
            pubsub.close()

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
