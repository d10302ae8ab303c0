"""/api/admin/analytics: the figures of the admin's analytics page as JSON. Admins only."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..services import analytics
from .security import bearer_doc, token_required

blp = Blueprint("api_analytics", __name__, url_prefix="/api/admin",
                description="Analytics for admins (admin token; other roles get 404)")


class AnalyticsQuery(Schema):
    period = fields.String(validate=validate.OneOf(analytics.PERIOD_NAMES), metadata={
        "description": "A preset ending today (clinic time), or custom (the default when from/to are given)"})
    from_ = fields.Date(data_key="from", metadata={"description": "First day (clinic-local), inclusive. "
                                                   "Default: 30 days before `to`", "example": "2026-11-01"})
    to = fields.Date(metadata={"description": "Last day (clinic-local), inclusive; at most two years after `from`. "
                                              "Default: today", "example": "2026-11-30"})
    clinic_id = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "One clinic; every clinic when absent", "example": 1})


class AnalyticsPeriodOut(Schema):
    name = fields.String(metadata={"example": "custom"})
    from_ = fields.String(data_key="from", attribute="from", metadata={"example": "2026-11-01"})
    to = fields.String(metadata={"example": "2026-11-30"})
    days = fields.Integer(metadata={"example": 30})


class AnalyticsClinicOut(Schema):
    id = fields.Integer()
    name = fields.String()
    timezone = fields.String(metadata={"example": "Europe/London"})


class AnalyticsStatusCounts(Schema):
    pending = fields.Integer()
    approved = fields.Integer()
    rejected = fields.Integer()
    cancelled = fields.Integer()
    completed = fields.Integer()
    no_show = fields.Integer()


class AnalyticsRanked(Schema):
    id = fields.Integer()
    name = fields.String()
    appointments = fields.Integer()


class AnalyticsDayCount(Schema):
    day = fields.String(metadata={"example": "2026-11-02"})
    appointments = fields.Integer()


class AnalyticsHeatmap(Schema):
    weekdays = fields.List(fields.String(), metadata={"description": "Monday first"})
    hours = fields.List(fields.Integer(), metadata={"description": "0 to 23, clinic time"})
    counts = fields.List(fields.List(fields.Integer()), metadata={"description": "counts[weekday][hour]"})


class AnalyticsPeak(Schema):
    text = fields.String(metadata={"example": "Busiest: Tuesdays 09:00–11:00"})
    weekday = fields.Integer(metadata={"description": "0 = Monday"})
    from_hour = fields.Integer()
    to_hour = fields.Integer()
    appointments = fields.Integer()
    share = fields.Float(metadata={"description": "Of all appointments in the period"})


class AnalyticsEmails(Schema):
    sent = fields.Integer()
    retrying = fields.Integer(metadata={"description": "An attempt failed; another is scheduled or running"})
    failed = fields.Integer(metadata={"description": "No attempts left"})


class AnalyticsConnected(Schema):
    users = fields.Integer(allow_none=True, metadata={"description": "Distinct signed-in users with a live connection"})
    connections = fields.Integer(allow_none=True)


class AnalyticsCacheFamily(Schema):
    hits = fields.Integer()
    misses = fields.Integer()
    ratio = fields.Float(allow_none=True)


class AnalyticsCacheOut(AnalyticsCacheFamily):
    families = fields.Dict(keys=fields.String(), values=fields.Nested(AnalyticsCacheFamily))


class AnalyticsOut(Schema):
    period = fields.Nested(AnalyticsPeriodOut)
    clinic = fields.Nested(AnalyticsClinicOut, allow_none=True)
    generated_at = fields.String(metadata={"example": "2026-11-30T14:05:00+00:00"})
    total = fields.Integer(metadata={"description": "Appointments of any status starting in the period"})
    statuses = fields.Nested(AnalyticsStatusCounts, metadata={"description": "By current status"})
    top_doctors = fields.List(fields.Nested(AnalyticsRanked), metadata={"description": "Top 10 by appointments"})
    top_patients = fields.List(fields.Nested(AnalyticsRanked), metadata={"description": "Top 10 by appointments"})
    per_day = fields.List(fields.Nested(AnalyticsDayCount), metadata={"description": "Every day of the period"})
    heatmap = fields.Nested(AnalyticsHeatmap)
    peak = fields.Nested(AnalyticsPeak, allow_none=True)
    emails = fields.Nested(AnalyticsEmails, metadata={"description": "Outbox emails last attempted in the period"})
    connected = fields.Nested(AnalyticsConnected, metadata={"description": "Now, not the period"})
    cache = fields.Nested(AnalyticsCacheOut, allow_none=True, metadata={"description": "Since the cache stats were reset"})


@blp.get("/analytics")
@blp.doc(**bearer_doc())
@token_required("admin")
@blp.arguments(AnalyticsQuery, location="query")
@blp.response(200, AnalyticsOut)
@blp.alt_response(404, description="Unknown clinic")
@blp.alt_response(422, description="Bad date, `from` after `to`, or a period longer than two years")
def figures(args):
    """The figures of the analytics page: appointments by status, the busiest doctors and patients,
    bookings per day, the weekday × hour heatmap, email delivery, connected users and the cache.

    Appointments count by the clinic-local day they start on; the period is whole days.
    """
    clinic = analytics.get_clinic(args.get("clinic_id"))
    period = analytics.resolve_period(args.get("period"), args.get("from_"), args.get("to"),
                                      analytics.today_for(clinic))
    return analytics.figures(period, clinic)
