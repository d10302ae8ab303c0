from flask import render_template
from flask_login import current_user

from ..auth.access import role_required
from . import bp


@bp.get("/")
@role_required("patient")
def dashboard():
    return render_template("patients/dashboard.html", patient=current_user.patient)
