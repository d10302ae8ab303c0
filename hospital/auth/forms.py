from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class RegisterForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=256, message="Use at least 10 characters")],
                             description="At least 10 characters.")
    phone = StringField("Phone (optional)", validators=[Optional(), Length(max=32)])
    date_of_birth = DateField("Date of birth (optional)", validators=[Optional()])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class PatientProfileForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    phone = StringField("Phone", validators=[Optional(), Length(max=32)])
    date_of_birth = DateField("Date of birth", validators=[Optional()])


class DoctorProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    bio = TextAreaField("About you", validators=[Optional(), Length(max=4000)])
