"""The analytics page: figures for a period and clinic, as numbers, tables and charts, updated live.

``GET /admin/analytics`` is the page (htmx: the summary fragment plus the
details swapped out of band); ``/analytics/live`` the connected-users and cache
fragment; ``/analytics/data`` the same figures as JSON for the charts;
``/analytics/export.csv`` the figures as a download. Admins only (others 404).
Every view takes the same query string: ``period`` (today, 7d, 30d, custom),
``from``/``to`` (YYYY-MM-DD, custom) and ``clinic_id``.
"""
from __future__ import annotations

import csv
import io
import math

from flask import Response, jsonify, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..auth.access import role_required
from ..errors import InvalidInput
from ..services import analytics
from ..webhelpers import page_or_fragment, parse_id
from . import bp
from .forms import clinic_options, optional_int

PERIOD_CHOICES = [SelectChoice("today", "Today"), SelectChoice("7d", "Last 7 days"), SelectChoice("30d", "Last 30 days"),
                  SelectChoice("custom", "Custom dates")]
STATUS_LABELS = {"approved": "Approved", "pending": "Pending", "rejected": "Rejected", "cancelled": "Cancelled",
                 "completed": "Completed", "no_show": "No-show"}


class AnalyticsForm(FlaskForm):
    """The period picker (a GET form: no CSRF token). Rules live in :func:`analytics.resolve_period`."""
    class Meta:
        csrf = False

    period = SelectField("Period", choices=PERIOD_CHOICES, default="30d")
    date_from = DateField("From", name="from", validators=[Optional()])
    date_to = DateField("To", name="to", validators=[Optional()])
    clinic_id = SelectField("Clinic", coerce=optional_int, validate_choice=False, validators=[Optional()])


def _selection():
    """(form, period or None, clinic) from the query string; 404 for an unknown clinic."""
    clinic = analytics.get_clinic(parse_id(request.args.get("clinic_id"), "clinic_id"))
    form = AnalyticsForm(request.args)
    form.clinic_id.choices = clinic_options(analytics.clinics(), "All clinics")
    if not form.validate():
        return form, None, clinic
    try:
        period = analytics.resolve_period(request.args.get("period") or None, form.date_from.data,
                                          form.date_to.data, analytics.today_for(clinic))
    except InvalidInput as exc:
        for name, field in (("period", form.period), ("from", form.date_from), ("to", form.date_to)):
            field.errors = list(field.errors) + list(exc.errors.get(name, []))
        form.form_errors.append(exc.detail)
        return form, None, clinic
    form.period.data, form.date_from.data, form.date_to.data = period.name, period.start, period.end
    return form, period, clinic


def _strict():
    """(period, clinic) for the JSON and CSV views: a bad period is a 422 naming the field."""
    form, period, clinic = _selection()
    if period is None:
        names = {"date_from": "from", "date_to": "to", None: "period"}
        raise InvalidInput("Choose a valid period", {names.get(k, k): v for k, v in form.errors.items()})
    return period, clinic


def query_args(period: analytics.Period, clinic) -> dict:
    args = {"period": period.name}
    if period.name == "custom":
        args.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    if clinic:
        args["clinic_id"] = clinic.id
    return args


def heat_rows(data: dict) -> tuple[list[int], list[dict]]:
    """Hours to show (08–18 at least, widened to every busy hour) and rows with a 0–5 shade per cell."""
    counts = data["heatmap"]["counts"]
    busy = [h for h in range(24) if any(row[h] for row in counts)]
    hours = list(range(min(busy + [8]), max(busy + [17]) + 1))
    top = max(max(row) for row in counts) or 1
    return hours, [{"name": name, "cells": [(h, row[h], math.ceil(5 * row[h] / top)) for h in hours]}
                   for name, row in zip(data["heatmap"]["weekdays"], counts)]


def _context(form, period, clinic) -> dict:
    if period is None:
        return {"form": form, "data": None, "args": {}}
    data = analytics.figures(period, clinic)
    hours, rows = heat_rows(data)
    return {"form": form, "data": data, "args": query_args(period, clinic), "heat_hours": hours, "heat_rows": rows,
            "status_labels": STATUS_LABELS}


@bp.get("/analytics")
@role_required("admin")
def analytics_page():
    form, period, clinic = _selection()
    context = _context(form, period, clinic)
    push = url_for("admin.analytics_page", **context["args"]) if period else None
    return page_or_fragment("admin/analytics.html", "admin/_analytics_update.html", 200 if period else 422,
                            push_url=push, **context)


@bp.get("/analytics/live")
@role_required("admin")
def analytics_live():
    return render_template("admin/_analytics_live.html", live=analytics.live_figures())


@bp.get("/analytics/data")
@role_required("admin")
def analytics_data():
    period, clinic = _strict()
    return jsonify(analytics.figures(period, clinic))


@bp.get("/analytics/export.csv")
@role_required("admin")
def analytics_csv():
    period, clinic = _strict()
    data = analytics.figures(period, clinic)
    name = f"analytics-{clinic.id if clinic else 'all'}-{period.start}-{period.end}.csv"
    return Response(to_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (names are user input)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(data: dict):
    """``(section, key, label, value)`` rows: one figure per row, easy to filter and pivot."""
    clinic = data["clinic"]
    yield "period", "from", "", data["period"]["from"]
    yield "period", "to", "", data["period"]["to"]
    yield "period", "clinic", clinic["name"] if clinic else "All clinics", clinic["id"] if clinic else ""
    yield "status", "total", "All appointments", data["total"]
    for status, n in data["statuses"].items():
        yield "status", status, STATUS_LABELS.get(status, status), n
    for section in ("top_doctors", "top_patients"):
        for item in data[section]:
            yield section, item["id"], item["name"], item["appointments"]
    for item in data["per_day"]:
        yield "per_day", item["day"], "", item["appointments"]
    for name, row in zip(data["heatmap"]["weekdays"], data["heatmap"]["counts"]):
        for hour, n in enumerate(row):
            yield "heatmap", f"{name[:3]} {hour:02d}", f"{name} {hour:02d}:00–{hour + 1:02d}:00", n
    if data["peak"]:
        yield "peak", "busiest", data["peak"]["text"], data["peak"]["appointments"]
    for status, n in data["emails"].items():
        yield "emails", status, "", n
    for key, n in data["connected"].items():
        yield "connected", key, "", "" if n is None else n
    if data["cache"]:
        yield "cache", "hit_ratio", "", "" if data["cache"]["ratio"] is None else round(data["cache"]["ratio"], 4)


def to_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "label", "value"])
    writer.writerows([_cell(v) for v in row] for row in csv_rows(data))
    return out.getvalue()
