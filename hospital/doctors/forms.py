"""Forms of the doctor's availability page (clinic-local times)."""
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..models import WEEKDAYS

DAY_CHOICES = [SelectChoice(name, name.title()) for name in WEEKDAYS]


class WindowForm(FlaskForm):
    """One weekly window, e.g. every Monday 09:00–12:00."""
    day = SelectField("Day", choices=DAY_CHOICES, validators=[DataRequired()])
    start = TimeField("From", validators=[DataRequired(message="Enter a start time, e.g. 09:00")])
    end = TimeField("Until", validators=[DataRequired(message="Enter an end time, e.g. 12:00")])


class ExceptionForm(FlaskForm):
    """A dated change: time off (whole day without times) or extra hours."""
    day = DateField("Date", validators=[DataRequired(message="Choose a date")])
    kind = SelectField("Change", choices=[SelectChoice("off", "Time off"), SelectChoice("extra", "Extra hours")], default="off")
    start = TimeField("From", validators=[Optional()], description="Leave both times empty for the whole day off.")
    end = TimeField("Until", validators=[Optional()])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=200)])
