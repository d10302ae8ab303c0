from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..services import accounts
from . import bp
from .access import home_endpoint
from .forms import DoctorProfileForm, LoginForm, PatientProfileForm, RegisterForm
from .limits import login_throttle


def form_errors(form, error: DomainError) -> None:
    """Copy a service error onto the form's fields (or the form as a whole)."""
    for field, messages in (error.errors or {}).items():
        if field in form:
            form[field].errors = list(form[field].errors) + list(messages)
    if not error.errors:
        form.form_errors.append(error.detail)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_patient(form.email.data, form.password.data, accounts.PatientDetails(
                form.name.data, form.phone.data, form.date_of_birth.data))
        except DomainError as exc:
            form_errors(form, exc)
        else:
            login_user(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("patients.dashboard"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@login_throttle
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user:
            login_user(user)
            return redirect(_safe_next() or url_for(home_endpoint(user)))
        form.form_errors.append("Wrong email or password.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


@bp.post("/logout")
@login_required
def logout():
    accounts.sign_out(current_user._get_current_object())
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    if user.role == "patient":
        form = PatientProfileForm(obj=user.patient)
    elif user.role == "doctor":
        form = DoctorProfileForm(obj=user.doctor)
    else:
        return render_template("auth/profile.html", form=None)
    if form.validate_on_submit():
        try:
            if user.role == "patient":
                accounts.update_patient_profile(user, accounts.PatientDetails(
                    form.name.data, form.phone.data, form.date_of_birth.data))
            else:
                accounts.update_doctor_profile(user, form.name.data, form.bio.data)
        except DomainError as exc:
            form_errors(form, exc)
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("auth.profile"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/profile.html", form=form), status
