"""WSGI entry point.

The async library is patched before anything else is imported. gevent is the
default (``gunicorn -k gevent wsgi:app``); ``ASYNC_MODE=eventlet`` is served
with ``python wsgi.py`` (gunicorn no longer ships an eventlet worker).
"""
import os

ASYNC_MODE = os.environ.setdefault("ASYNC_MODE", "gevent")

if ASYNC_MODE == "gevent":
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()
elif ASYNC_MODE == "eventlet":
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    import eventlet

    eventlet.monkey_patch()

from hospital import create_app  # noqa: E402
from hospital.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    socketio.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=port, max_size=10000)
