"""The doctor's availability page: weekly hours and dated exceptions, edited with htmx.

Each section (``_windows.html``, ``_exceptions.html``) is one template used by
the page and by the endpoints that change it; field errors come back in the
section with status 422 and the typed input kept.
"""
import json

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from ..auth.access import role_required
from ..errors import InvalidInput
from ..models import utcnow
from ..services import schedule
from ..webhelpers import apply_errors, wants_fragment
from . import bp
from .forms import DAY_CHOICES, ExceptionForm, WindowForm

WINDOWS = "doctors/_windows.html"
EXCEPTIONS = "doctors/_exceptions.html"


def _render(fragment: str | None, status: int = 200, toast: str | None = None,
            window_form: WindowForm | None = None, exception_form: ExceptionForm | None = None):
    """The whole page, or one section for htmx (with a toast on success)."""
    doctor = current_user.doctor
    today = utcnow().astimezone(doctor.clinic.tz).date()
    context = {
        "doctor": doctor, "today": today, "days": DAY_CHOICES,
        "windows": schedule.weekly_windows(doctor),
        "exceptions": schedule.upcoming_exceptions(doctor, today),
        "window_form": window_form or WindowForm(formdata=None, prefix="window"),
        "exception_form": exception_form or ExceptionForm(formdata=None, prefix="exception"),
    }
    if fragment and wants_fragment():
        response = make_response(render_template(fragment, **context), status)
        if toast:
            response.headers["HX-Trigger"] = json.dumps({"toast": toast})  # ASCII-escaped: safe in a header
        return response
    if fragment and status == 200:
        flash(toast or "Saved.", "success")
        return redirect(url_for("doctors.availability"), 303)
    return render_template("doctors/availability.html", **context), status


@bp.get("/availability")
@role_required("doctor")
def availability():
    return _render(None)


@bp.post("/availability/windows")
@role_required("doctor")
def add_window():
    form = WindowForm(prefix="window")
    if form.validate_on_submit():
        try:
            window = schedule.add_window(current_user.doctor, form.day.data, form.start.data, form.end.data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            toast = f"Added {window.day_name.title()} {window.start_time:%H:%M}–{window.end_time:%H:%M}."
            return _render(WINDOWS, toast=toast, window_form=WindowForm(formdata=None, prefix="window",
                                                                        day=form.day.data))
    return _render(WINDOWS, 422, window_form=form)


@bp.post("/availability/windows/<int:window_id>/delete")
@role_required("doctor")
def remove_window(window_id: int):
    schedule.remove_window(current_user.doctor, window_id)
    return _render(WINDOWS, toast="Hours removed.")


@bp.post("/availability/exceptions")
@role_required("doctor")
def add_exception():
    form = ExceptionForm(prefix="exception")
    if form.validate_on_submit():
        today = utcnow().astimezone(current_user.doctor.clinic.tz).date()
        try:
            if form.day.data < today:
                raise InvalidInput("That date is in the past", {"day": ["Choose today or a later date"]})
            exception = schedule.add_exception(current_user.doctor, form.day.data, form.kind.data,
                                               form.start.data, form.end.data, form.note.data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            label = "Extra hours" if exception.kind == "extra" else "Time off"
            return _render(EXCEPTIONS, toast=f"{label} added for {exception.day:%a %-d %b}.")
    return _render(EXCEPTIONS, 422, exception_form=form)


@bp.post("/availability/exceptions/<int:exception_id>/delete")
@role_required("doctor")
def remove_exception(exception_id: int):
    schedule.remove_exception(current_user.doctor, exception_id)
    return _render(EXCEPTIONS, toast="Change removed.")
