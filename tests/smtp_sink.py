"""A real SMTP server on loopback (aiosmtpd) that records what it accepts, for tests that send
over Django's SMTP backend. It can be taken down (connections are refused) and brought back up
on the same port, to play a mail outage."""

from __future__ import annotations

import socket

from aiosmtpd.controller import Controller


class SmtpSink:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.on_data = None  # called with each message's number (1, 2, …) before it is accepted
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.on_data is not None:
            self.on_data(len(self.received) + 1)
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250 OK"

    def up(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def down(self) -> None:
        """Stop listening: from now on a connection to the port is refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def smtp_sink_configure(settings, sink: SmtpSink) -> None:
    """Point Django's SMTP backend at the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
