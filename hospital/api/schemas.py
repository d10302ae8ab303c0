"""Request and response schemas shared by the API blueprints."""
from marshmallow import Schema, fields, validate


class RegisterIn(Schema):
    email = fields.String(required=True, metadata={"example": "ann@example.com"})
    password = fields.String(required=True, load_only=True, metadata={"example": "correct horse battery"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "Ann Smith"})


class LoginIn(Schema):
    email = fields.String(required=True, metadata={"example": "ann@example.com"})
    password = fields.String(required=True, load_only=True)


class TokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"example": 3600})


class PatientOut(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    email = fields.String(attribute="user.email")
    name = fields.String()
    phone = fields.String(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)


class PatientUpdateIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    date_of_birth = fields.Date(allow_none=True)
