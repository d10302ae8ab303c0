"""/api/appointments/<id>/messages: an appointment's chat for API clients.

Live messages go over Socket.IO (namespace ``/chat``; ``GET /chat/connect``
describes it); these endpoints read history, catch up after a reconnect
(``after``), send without a socket and let the doctor close the chat.
"""
from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..chat.push import present, present_all, publish, publish_closed
from ..services import chat
from .booking_schemas import PageArgs, page_of
from .security import bearer_doc, token_required

blp = Blueprint("api_chat", __name__, url_prefix="/api/appointments",
                description="Chat about an appointment between its patient and its doctor")

MESSAGE_EXAMPLE = {"id": 7, "appointment_id": 42, "sender_id": 5, "sender_name": "Ann Smith",
                   "body": "Should I bring my old test results?", "created_at": "2026-11-30T08:12:03.120000+00:00",
                   "read_at": None}


class MessageOut(Schema):
    id = fields.Integer()
    appointment_id = fields.Integer()
    sender_id = fields.Integer(allow_none=True, metadata={
        "description": "The sender's user id (null if the account was deleted)"})
    sender_name = fields.String()
    body = fields.String(metadata={"description": "Plain text as written (trimmed); show it as text, never as HTML"})
    created_at = fields.String(metadata={"example": MESSAGE_EXAMPLE["created_at"]})
    read_at = fields.String(allow_none=True, metadata={"description": "When the recipient read it"})


class MessagePage(page_of(MessageOut, "MessageEnvelope")):
    can_write = fields.Boolean(metadata={"description": "False for admins and in a closed chat"})
    closed = fields.Boolean()


class MessageQuery(PageArgs):
    after = fields.Integer(validate=validate.Range(min=0), metadata={
        "description": "Only messages with a larger id, oldest first (catch-up after a reconnect)"})


class MessageIn(Schema):
    body = fields.String(required=True, metadata={"description": "Plain text, 1 to 2,000 characters after trimming",
                                                  "example": "Should I bring my old test results?"})


class ChatStateOut(Schema):
    appointment_id = fields.Integer()
    closed = fields.Boolean()
    closed_at = fields.String(allow_none=True)


@blp.get("/<int:appointment_id>/messages")
@blp.doc(**bearer_doc())
@token_required()
@blp.arguments(MessageQuery, location="query")
@blp.response(200, MessagePage, example={"items": [MESSAGE_EXAMPLE], "page": 1, "per_page": 10, "total": 1,
                                         "can_write": True, "closed": False})
@blp.alt_response(404, description="No such appointment, or not yours")
@blp.alt_response(422, description="Bad page, page size (1 to 50) or after")
def list_messages(args, appointment_id):
    """The appointment's chat messages: newest first, or oldest first after ``after``.

    Readable by the appointment's patient, its doctor and admins; anyone else
    gets 404 and no history.
    """
    view = chat.open_chat(g.api_user, appointment_id)
    result = chat.page(view, args["page"], args["per_page"], args.get("after"))
    return {"items": present_all(view, result.items), "page": result.page, "per_page": result.per_page,
            "total": result.total, "can_write": view.can_write, "closed": view.closed}


@blp.post("/<int:appointment_id>/messages")
@blp.doc(**bearer_doc())
@token_required()
@blp.arguments(MessageIn)
@blp.response(201, MessageOut, example=MESSAGE_EXAMPLE)
@blp.alt_response(403, description="Admins read chats but do not write in them")
@blp.alt_response(404, description="No such appointment, or not yours")
@blp.alt_response(409, description="The doctor closed this chat")
@blp.alt_response(422, description="Empty, or longer than 2,000 characters")
@blp.alt_response(429, description="More than 10 messages in 10 seconds; nothing was stored")
def send_message(data, appointment_id):
    """Send a message without a socket. It is stored, then pushed to the chat's room like a socket message."""
    stored, view = chat.post_message(g.api_user, appointment_id, data["body"])
    publish(view, stored)
    return present(view, stored), 201


@blp.post("/<int:appointment_id>/chat/close")
@blp.doc(**bearer_doc())
@token_required("doctor")
@blp.response(200, ChatStateOut)
@blp.alt_response(404, description="No such appointment, or not yours")
def close_chat(appointment_id):
    """The doctor closes the chat: read-only from then on (closing twice is harmless). Doctors only."""
    view = chat.close(g.api_user, appointment_id)
    publish_closed(view)
    return {"appointment_id": view.appointment_id, "closed": True,
            "closed_at": view.closed_at.isoformat() if view.closed_at else None}
