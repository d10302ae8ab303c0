from flask import render_template
from flask_login import current_user

from ..auth.access import role_required
from . import bp


@bp.get("/dashboard")
@role_required("doctor")
def dashboard():
    return render_template("doctors/dashboard.html", doctor=current_user.doctor)
