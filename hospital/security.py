"""Response headers that every page gets."""
from flask import Flask, request

# Swagger UI's page boots with an inline script, so it gets a looser policy.
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
DOCS_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            docs = request.path.startswith(app.config["OPENAPI_URL_PREFIX"] + app.config["OPENAPI_SWAGGER_UI_PATH"])
            response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        response.vary.add("HX-Request")
        return response
