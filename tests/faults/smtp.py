"""A mail server on 127.0.0.1 for fault tests: it speaks enough SMTP for Django's SMTP backend, keeps
every message it accepted, and can hold its "250 accepted" answer to a message until the test says so.

Holding the answer is how a test puts a fault exactly between "the mail server has the e-mail" and
"the sender recorded that it went out"::

    with SmtpSink() as smtp:
        smtp.hold()                      # the next message waits for its 250
        ...                              # a worker sends; smtp.wait_for_message() returns when it is in
        ...                              # the fault, e.g. PostgreSQL restarted
        smtp.release()                   # the worker gets its 250 and goes on
        assert len(smtp.messages) == 1

Python's own ``smtpd`` is deprecated (gone in 3.12) and ``aiosmtpd`` cannot hold a reply without
reaching into its internals; this sink is small and does only what the tests need.
"""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes
from email.message import Message
from types import TracebackType


class SmtpSink:
    """See the module docstring. ``port`` is free, picked at start; ``url`` suits ``EMAIL_URL``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._held = threading.Event()
        self._held.set()  # not holding
        self._arrived = threading.Condition()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                sink._converse(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        """Keep the next messages waiting for their "250" until ``release()``."""
        self._held.clear()

    def release(self) -> None:
        self._held.set()

    def wait_for_message(self, count: int = 1, *, timeout: float = 30) -> None:
        """Wait until ``count`` messages were received (held ones count: their data is in)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout):
                raise AssertionError(f"{len(self.messages)} message(s) arrived in {timeout} s, expected {count}")

    def _converse(self, rfile, wfile) -> None:  # type: ignore[no-untyped-def]
        def reply(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        reply("220 127.0.0.1 fault-test SMTP")
        while True:
            line = rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                reply("250 127.0.0.1")
            elif verb in {"MAIL", "RCPT", "RSET", "NOOP"}:
                reply("250 OK")
            elif verb == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                body = bytearray()
                while (chunk := rfile.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                with self._arrived:
                    self.messages.append(message_from_bytes(bytes(body)))
                    self._arrived.notify_all()
                self._held.wait(timeout=120)
                reply("250 OK: queued")
            elif verb == "QUIT":
                reply("221 Bye")
                return
            else:
                reply("502 Command not implemented")
