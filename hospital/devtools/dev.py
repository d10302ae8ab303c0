"""``make run``: bring up everything a newcomer needs and start the app.

- Redis: ``REDIS_URL`` if set, else a private ``redis-server`` on a free port;
- database: ``DATABASE_URL`` if set, else SQLite in ``instance/hospital.db``;
- mail: ``MAIL_SERVER`` if set, else the local SMTP sink writing to ``instance/mail``;
- then migrations, demo data, and the Procfile.dev processes under honcho.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .mailsink import MailSink
from .servers import PrivateRedis, free_port

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = ROOT / "instance"


def main() -> int:
    INSTANCE.mkdir(exist_ok=True)
    env = os.environ.copy()
    env.setdefault("FLASK_APP", "hospital:create_app")
    env.setdefault("HOSPITAL_ENV", "development")
    env.setdefault("PORT", "5000")
    redis = sink = None
    if not env.get("REDIS_URL"):
        redis = PrivateRedis(str(INSTANCE / "redis")).start()
        env["REDIS_URL"] = redis.url
        print(f"* private Redis on {redis.url}")
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{INSTANCE / 'hospital.db'}"
    if not env.get("MAIL_SERVER"):
        port = free_port()
        sink = MailSink(port, INSTANCE / "mail").start()
        env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
        print(f"* dev mailbox: SMTP on 127.0.0.1:{port}, messages in {INSTANCE / 'mail'}")
    flask = [sys.executable, "-m", "flask"]
    try:
        subprocess.run(flask + ["db", "upgrade"], check=True, env=env, cwd=ROOT)
        subprocess.run(flask + ["seed-demo"], check=True, env=env, cwd=ROOT)
        print(f"\n* Hospital is starting on http://127.0.0.1:{env['PORT']}/  (Ctrl-C to stop)\n")
        return subprocess.call([sys.executable, "-m", "honcho", "start", "-f", "Procfile.dev", "-p", env["PORT"]],
                               env=env, cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if sink:
            sink.stop()
        if redis:
            redis.stop(remove=False)


if __name__ == "__main__":
    sys.exit(main())
