"""A local SMTP server (aiosmtpd) that keeps every message it accepts.

In development it is the dev mailbox: each message is written as an ``.eml``
file under ``--dir``. Tests use :class:`MailSink` in-process and can make the
first N deliveries fail with a temporary (4xx) error.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import logging
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)


class MailboxHandler:
    """aiosmtpd handler: store messages, optionally fail the first ``fail_first``."""

    def __init__(self, directory: Path | None = None, fail_first: int = 0):
        self.directory = directory
        self.fail_first = fail_first
        self.attempts = 0
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return "451 4.3.0 Temporary failure, try again later"
            message = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
            self.messages.append(message)
            if self.directory:
                name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._seq):05d}.eml"
                (self.directory / name).write_bytes(envelope.original_content or envelope.content)
        log.info("mail sink accepted a message for %s: %s", ", ".join(envelope.rcpt_tos), message["Subject"])
        return "250 Message accepted for delivery"


class MailSink:
    """Run the SMTP sink in a background thread (``with MailSink() as sink``)."""

    def __init__(self, port: int, directory: Path | None = None, fail_first: int = 0,
                 host: str = "127.0.0.1"):
        if directory:
            directory.mkdir(parents=True, exist_ok=True)
        self.handler = MailboxHandler(directory, fail_first)
        self.controller = Controller(self.handler, hostname=host, port=port)
        self.port = port

    @property
    def messages(self):
        return self.handler.messages

    def start(self) -> "MailSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink for development")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("instance/mail"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mail: %(message)s")
    with MailSink(args.port, args.dir):
        log.info("SMTP sink on 127.0.0.1:%s, messages saved in %s", args.port, args.dir)
        threading.Event().wait()


if __name__ == "__main__":
    main()
