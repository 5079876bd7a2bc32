"""A real receiving system for the webhook tests: an HTTP server on 127.0.0.1 in a thread that
verifies every request with the `standardwebhooks` library, as docs/webhooks.md tells a receiver
to, and keeps each event once by its id. It can be down (nothing listening on its port) or
answer an error, and come up again on the same port."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    def __init__(self, *, port: int | None = None):
        self.port = port or free_port()
        self.secret = ""
        self.answer = 200  # what a verified request gets
        self.events: dict[str, dict] = {}  # id -> payload, each id once (the dedupe)
        self.arrivals: list[str] = []  # every verified request's id, repeats included
        self.refused = 0  # requests whose signature did not verify
        self.raw: list[tuple[bytes, dict]] = []  # every request as it came: body, headers
        self.lock = threading.Lock()
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.raw.append((body, dict(self.headers)))
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.refused += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.lock:
                    status = receiver.answer
                    if 200 <= status < 300:
                        message_id = self.headers["webhook-id"]
                        receiver.arrivals.append(message_id)
                        receiver.events.setdefault(message_id, payload)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(json.dumps({"ok": status < 300}).encode())

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver():
    """A receiving system that is up (tests/dsar/conftest.py and tests/api/conftest.py offer
    it to their tests)."""
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
