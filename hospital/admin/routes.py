from flask import render_template

from ..auth.access import role_required
from . import bp


@bp.get("/")
@role_required("admin")
def dashboard():
    return render_template("admin/dashboard.html")
