"""/api/notifications: the caller's stored notifications, and admin pushes."""
from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..services import notifications
from .security import token_required

blp = Blueprint("api_notifications", __name__, url_prefix="/api/notifications",
                description="Stored notifications and admin pushes")


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"example": "appointment_status"})
    text = fields.String()
    link = fields.String(allow_none=True)
    appointment_id = fields.Integer(allow_none=True)
    created_at = fields.String(metadata={"example": "2026-11-23T09:00:00+00:00"})
    read = fields.Boolean()


class NotificationListOut(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    unread = fields.Integer()


class ListArgs(Schema):
    after = fields.Integer(load_default=0, metadata={"description": "Only notifications with a larger id (reconnect catch-up)"})


class SendIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={"example": "The clinic closes early today."})
    user_id = fields.Integer(metadata={"description": "One recipient"})
    role = fields.String(validate=validate.OneOf(["patient", "doctor", "admin"]), metadata={"description": "Every active user of a role"})
    link = fields.String(metadata={"example": "/patient/appointments"})


class SendOut(Schema):
    sent = fields.Integer()


@blp.get("")
@blp.doc(security=[{"bearerAuth": []}])
@blp.arguments(ListArgs, location="query")
@blp.response(200, NotificationListOut)
@token_required()
def list_notifications(args):
    """The caller's notifications after ``after`` (oldest first), with the unread count."""
    user_id = g.api_user.id
    return {"items": [n.to_payload() for n in notifications.missed(user_id, args["after"])],
            "unread": notifications.unread_count(user_id)}


@blp.post("/send")
@blp.doc(security=[{"bearerAuth": []}])
@blp.arguments(SendIn)
@blp.response(201, SendOut)
@token_required("admin")
def send(data):
    """Admin: push a message to a user or to a role; stored and delivered live."""
    return {"sent": notifications.admin_push(g.api_user, data["text"], data.get("user_id"), data.get("role"), data.get("link"))}
