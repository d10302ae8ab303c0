"""/api/admin/notifications: the email outbox for monitoring, and retrying failed emails. Admins only."""
from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..models import EMAIL_KINDS, EMAIL_STATUSES
from ..services import emails
from .booking_schemas import PageArgs
from .security import bearer_doc, token_required

blp = Blueprint("api_admin_emails", __name__, url_prefix="/api/admin/notifications",
                description="Email outbox monitoring and retry (admin token; other roles get 404)")


class EmailQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(EMAIL_STATUSES), metadata={"example": "failed"})
    kind = fields.String(validate=validate.OneOf(EMAIL_KINDS), metadata={"example": "confirmed"})


class EmailOut(Schema):
    id = fields.Integer(metadata={"example": 12})
    kind = fields.String(metadata={"example": "confirmed", "enum": list(EMAIL_KINDS)})
    recipient = fields.String(metadata={"example": "ann@example.com"})
    subject = fields.String(metadata={"example": "Your appointment with Dr Adams is confirmed"})
    status = fields.String(metadata={"example": "failed", "enum": list(EMAIL_STATUSES)})
    attempts = fields.Integer(metadata={"example": 3})
    last_error = fields.String(allow_none=True, metadata={"example": "451 4.3.0 Temporary failure, try again later"})
    dedupe_key = fields.String(allow_none=True, metadata={"example": "confirmed:42"})
    appointment_id = fields.Integer(allow_none=True, metadata={"example": 42})
    clinic_id = fields.Integer(allow_none=True, metadata={"example": 1})
    created_at = fields.String(metadata={"example": "2026-11-23T09:00:00+00:00"})
    last_attempt_at = fields.String(allow_none=True)
    sent_at = fields.String(allow_none=True)


class StatusCounts(Schema):
    queued = fields.Integer(metadata={"example": 0})
    sending = fields.Integer(metadata={"example": 0})
    sent = fields.Integer(metadata={"example": 120})
    failed = fields.Integer(metadata={"example": 2})


class EmailPage(Schema):
    counts = fields.Nested(StatusCounts, required=True, metadata={"description": "All emails by status (unfiltered)"})
    items = fields.List(fields.Nested(EmailOut), required=True)
    page = fields.Integer(required=True, metadata={"example": 1})
    per_page = fields.Integer(required=True, metadata={"example": 10})
    total = fields.Integer(required=True, metadata={"example": 2})


@blp.get("")
@blp.doc(**bearer_doc())
@token_required("admin")
@blp.arguments(EmailQuery, location="query")
@blp.response(200, EmailPage)
@blp.alt_response(422, description="Unknown status or kind, or bad page size")
def list_emails(args):
    """Counts by status, and the emails (latest first) filtered by status and kind."""
    page = emails.search(args.get("status"), args.get("kind"), args["page"], args["per_page"])
    return {"counts": emails.status_counts(), "items": [m.to_payload() for m in page.items],
            "page": page.page, "per_page": page.per_page, "total": page.total}


@blp.post("/<int:message_id>/retry")
@blp.doc(**bearer_doc())
@token_required("admin")
@blp.response(202, EmailOut)
@blp.alt_response(404, description="No such email")
@blp.alt_response(409, description="The email is not failed (only failed emails can be retried)")
def retry(message_id):
    """Send a failed email again: it is queued with three fresh attempts."""
    return emails.retry(g.api_user, message_id).to_payload()
