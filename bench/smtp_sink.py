"""A local SMTP sink for the benchmarks: aiosmtpd in a second process on a free loopback port.

It accepts every message and appends it to a spool file (envelope sender, recipients and the
exact bytes received), so that a baseline can hand the very same mails over again. Both paths
of a benchmark talk to a sink of their own that does the same work per message.

    with smtp_sink(path) as sink:       # sink.port: where to connect
        ...
    sink.received                        # messages accepted, known after the block
    for mail_from, rcpt_tos, content in spool_read(path): ...
"""

from __future__ import annotations

import multiprocessing
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_RECORD = struct.Struct("!III")  # lengths of sender, recipients (NUL-separated), content


def _serve(pipe, spool: str) -> None:
    """The sink process: serve until the pipe says stop, then report the count."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Spool:
        def __init__(self, out) -> None:
            self.out = out
            self.count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            sender = (envelope.mail_from or "").encode()
            recipients = "\0".join(envelope.rcpt_tos).encode()
            content = envelope.original_content or b""
            self.out.write(_RECORD.pack(len(sender), len(recipients), len(content)))
            self.out.write(sender + recipients + content)
            self.count += 1
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with open(spool, "wb") as out:
            handler = Spool(out)
            server = await loop.create_server(
                # A fixed hostname: the default asks DNS for this machine's name per connection.
                lambda: SMTP(handler, hostname="sink.bench.invalid"),
                "127.0.0.1",
                0,
            )
            pipe.send(server.sockets[0].getsockname()[1])
            await loop.run_in_executor(None, pipe.recv)  # "stop"
            server.close()
            await server.wait_closed()
        pipe.send(handler.count)

    asyncio.run(main())


@dataclass
class Sink:
    port: int
    received: int = 0


@contextmanager
def smtp_sink(spool: Path) -> Iterator[Sink]:
    """Run a sink (a fresh process) for the block; it spools what it receives to `spool`."""
    context = multiprocessing.get_context("spawn")  # no copy of this process's connections
    mine, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, str(spool)), daemon=True)
    process.start()
    try:
        if not mine.poll(60):
            raise RuntimeError("the SMTP sink did not start")
        sink = Sink(port=mine.recv())
        yield sink
        mine.send("stop")
        if not mine.poll(60):
            raise RuntimeError("the SMTP sink did not stop")
        sink.received = mine.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)


def spool_read(spool: Path) -> Iterator[tuple[str, list[str], bytes]]:
    """The mails a sink received, in order: (sender, recipients, content)."""
    with open(spool, "rb") as spooled:
        while header := spooled.read(_RECORD.size):
            sender, recipients, content = _RECORD.unpack(header)
            yield (
                spooled.read(sender).decode(),
                spooled.read(recipients).decode().split("\0"),
                spooled.read(content),
            )
