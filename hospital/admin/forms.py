"""Forms of the admin's appointment pages. Choices (doctors, patients, clinics) are set by the views."""
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..models import STATUSES

STATUS_LABELS = {"no_show": "No-show"}
STATUS_CHOICES = [SelectChoice(s, STATUS_LABELS.get(s, s.title())) for s in STATUSES]


def optional_int(value):
    """Coerce a select's value: '' means "any" (None)."""
    if value in (None, "", "None"):
        return None
    return int(value)


def doctor_options(doctors, blank: str):
    return [SelectChoice("", blank)] + [SelectChoice(d.id, f"{d.name} · {d.specialization} · {d.clinic.name}")
                                        for d in doctors]


def patient_options(patients, blank: str):
    return [SelectChoice("", blank)] + [SelectChoice(p.id, f"{p.name} · {p.user.email}") for p in patients]


def clinic_options(clinics, blank: str):
    return [SelectChoice("", blank)] + [SelectChoice(c.id, c.name) for c in clinics]


class AppointmentFilterForm(FlaskForm):
    """The filters of the appointments list (a GET form: no CSRF token)."""
    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + STATUS_CHOICES, validators=[Optional()])
    doctor_id = SelectField("Doctor", coerce=optional_int, validators=[Optional()])
    clinic_id = SelectField("Clinic", coerce=optional_int, validators=[Optional()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("Must be on or after the start date")


class OverrideForm(FlaskForm):
    """Book outside the doctor's normal hours (never over another active appointment)."""
    patient_id = SelectField("Patient", coerce=optional_int, validators=[DataRequired(message="Choose a patient")])
    doctor_id = SelectField("Doctor", coerce=optional_int, validators=[DataRequired(message="Choose a doctor")])
    start = DateTimeLocalField("Starts at", format="%Y-%m-%dT%H:%M",
                               validators=[DataRequired(message="Enter a date and time")],
                               description="In the doctor's clinic time zone.")
    minutes = IntegerField("Length in minutes", validators=[Optional(), NumberRange(5, 480)],
                           description="Empty: the doctor's usual consultation length.")
    status = SelectField("Status", choices=[SelectChoice("approved", "Approved"), SelectChoice("pending", "Pending")], default="approved")
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)])


class BehalfForm(FlaskForm):
    """Who to book for and with whom (a GET form; the slot picker does the rest)."""
    class Meta:
        csrf = False

    patient_id = SelectField("Patient", coerce=optional_int, validators=[DataRequired(message="Choose a patient")])
    doctor_id = SelectField("Doctor", coerce=optional_int, validators=[DataRequired(message="Choose a doctor")])
