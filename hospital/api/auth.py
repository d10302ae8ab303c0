"""/api/auth: register and obtain a bearer token."""
from flask import current_app
from flask_smorest import Blueprint

from ..auth.limits import login_throttle
from ..services import accounts
from .schemas import LoginIn, PatientOut, RegisterIn, TokenOut
from .security import Unauthorized

blp = Blueprint("api_auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


@blp.post("/register")
@blp.arguments(RegisterIn)
@blp.response(201, PatientOut)
@blp.alt_response(409, description="Email already registered")
@blp.alt_response(422, description="Invalid email, weak password or missing name")
def register(data):
    """Register a patient account."""
    user = accounts.register_patient(data["email"], data["password"], accounts.PatientDetails(data["name"]))
    return user.patient


@blp.post("/login")
@blp.arguments(LoginIn)
@blp.response(200, TokenOut)
@blp.alt_response(401, description="Wrong email or password")
@blp.alt_response(429, description="Too many failed attempts")
@login_throttle
def login(data):
    """Exchange credentials for a signed, expiring bearer token."""
    user = accounts.authenticate(data["email"], data["password"])
    if user is None:
        raise Unauthorized("Wrong email or password")
    return {"access_token": accounts.issue_token(user, current_app.config["SECRET_KEY"]),
            "token_type": "Bearer", "expires_in": current_app.config["API_TOKEN_MAX_AGE"]}
