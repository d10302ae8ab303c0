"""The dev mailbox page: the ``.eml`` files ``make run``'s SMTP sink writes, readable in the browser.

Registered only when ``ENV_NAME == "development"`` (see :func:`hospital.create_app`);
it shows every email to anyone, which is fine for demo data and nowhere else.
"""
from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, make_response, render_template

bp = Blueprint("dev", __name__, url_prefix="/dev")
NAME = re.compile(r"^[\w.-]+\.eml$")
SHOWN = 200


@dataclass
class Mail:
    name: str
    sender: str
    to: str
    subject: str
    date: str


def _folder() -> Path:
    return Path(current_app.config["DEV_MAILBOX_DIR"])


def _read(name: str) -> email.message.EmailMessage:
    path = _folder() / name
    if not NAME.match(name) or not path.is_file():
        abort(404)
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _part(message, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else None


@bp.get("/mailbox")
def mailbox():
    """The newest messages first (file names start with the time they arrived)."""
    folder = _folder()
    files = sorted(folder.glob("*.eml"), reverse=True)[:SHOWN] if folder.is_dir() else []
    mails = []
    for path in files:
        headers = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        mails.append(Mail(path.name, str(headers["From"] or ""), str(headers["To"] or ""),
                          str(headers["Subject"] or "(no subject)"), str(headers["Date"] or "")))
    return render_template("dev/mailbox.html", mails=mails, folder=folder)


@bp.get("/mailbox/<name>")
def message(name: str):
    mail = _read(name)
    return render_template("dev/message.html", name=name, mail=mail, text=_part(mail, "plain"),
                           has_html=_part(mail, "html") is not None)


@bp.get("/mailbox/<name>/html")
def message_html(name: str):
    """The HTML part on its own, sandboxed: no scripts, nothing loaded from elsewhere."""
    html = _part(_read(name), "html")
    if html is None:
        abort(404)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                                   "img-src data:")
    return response
