"""Flask extension singletons.

This module is a leaf: it imports nothing from ``hospital`` so that every other
module can import from it without creating cycles. The objects are bound to an
application in :func:`hospital.create_app`.
"""
from flask_caching import Cache
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Stable constraint names so Alembic autogenerate and SQLite batch mode agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
cache = Cache()
socketio = SocketIO()
mail = Mail()
login = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
# ``if htmx:`` in a view is true for htmx requests (HX-Request header); templates get ``htmx`` too.
htmx = HTMX()
