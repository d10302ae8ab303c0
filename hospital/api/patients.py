"""/api/patients: the signed-in patient's own profile."""
from flask import g
from flask_smorest import Blueprint

from .. import cache
from ..services import accounts
from .schemas import PatientOut, PatientUpdateIn
from .security import token_required

blp = Blueprint("api_patients", __name__, url_prefix="/api/patients", description="Patient profiles")


@blp.get("/me")
@blp.doc(security=[{"bearerAuth": []}])
@blp.response(200, PatientOut)
@token_required("patient")
def me():
    """The caller's patient profile."""
    return cache.patient_profile(g.api_user)


@blp.put("/me")
@blp.doc(security=[{"bearerAuth": []}])
@blp.arguments(PatientUpdateIn)
@blp.response(200, PatientOut)
@token_required("patient")
def update_me(data):
    """Replace the caller's profile fields."""
    return accounts.update_patient_profile(g.api_user, accounts.PatientDetails(
        data["name"], data.get("phone"), data.get("date_of_birth")))
