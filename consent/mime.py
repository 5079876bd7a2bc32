"""The bytes Django's SMTP backend hands over for a message of `consent.mail`, written directly.

For a batch of notices, Django's `EmailMessage.message()`, the email package's generator and the
backend's parsing of both addresses cost about 0.6 ms per message, more than the SMTP exchange.
`consent.mail` makes one shape of message only: a UTF-8 text/plain body, perhaps with a text/html
alternative, and a few headers. For that shape this module writes exactly what
`EmailMultiAlternatives(...).message().as_bytes(linesep="\\r\\n")` writes: each header through the
same functions (Django's `forbid_multi_line_headers`, the compat32 policy's folding), in the same
order, and each body as `SafeMIMEText` encodes it (as it is, 7bit or 8bit; quoted-printable when
a line is over 998 bytes). tests/consent/test_mail_bytes.py compares the two, byte for byte.
"""

from __future__ import annotations

import re
from email import policy
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.utils import formatdate, make_msgid
from functools import lru_cache

from django.conf import settings
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    sanitize_address,
)
from django.core.mail.utils import DNS_NAME

CHARSET = "utf-8"  # Django's DEFAULT_CHARSET (system check consent.E002)
_POLICY = policy.compat32.clone(linesep="\r\n")  # what as_bytes(linesep="\r\n") folds with
_NEWLINES = re.compile(rb"\r\n|\r|\n")
_QUOTED_PRINTABLE = Charset(CHARSET)
_QUOTED_PRINTABLE.body_encoding = QP
# A dot-atom at a domain of plain labels: `sanitize_address` gives such an address back as it is
# (~60 µs to find out); anything else goes through it.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(\.{_ATOM})*@[A-Za-z0-9-]{{1,63}}(\.[A-Za-z0-9-]{{1,63}})*\Z")


@lru_cache(maxsize=256)  # the subject, sender, date of a whole batch; a miss costs ~1 µs
def header(name: str, value: str) -> bytes:
    """One header line as `message()` stores it and the generator folds it."""
    if value.isascii() and value.isprintable() and " " not in value and len(name) + len(value) < 77:
        # One short word (an address, a Message-ID): stored and folded as it is, in ~1 µs
        # instead of ~12 µs.
        return f"{name}: {value}\r\n".encode("ascii")
    return _POLICY.fold_binary(*forbid_multi_line_headers(name, value, CHARSET))


def envelope_address(address: str) -> str:
    """The address as the SMTP backend gives it to `sendmail` (`sanitize_address`)."""
    return address if _PLAIN_ADDRESS.match(address) else sanitize_address(address, CHARSET)


def _text_part(text: str, subtype: bytes) -> tuple[bytes, bytes]:
    """(headers, body) of a `SafeMIMEText(text, subtype, "utf-8")`."""
    data = text.encode(CHARSET)
    if any(
        len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
        for line in text.splitlines()
    ):
        data = _QUOTED_PRINTABLE.body_encode(data).encode("ascii")
        encoding = b"quoted-printable"
    else:
        encoding = b"7bit" if data.isascii() else b"8bit"
    headers = (
        b"Content-Type: text/" + subtype + b'; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        b"Content-Transfer-Encoding: " + encoding + b"\r\n"
    )
    return headers, b"\r\n".join(_NEWLINES.split(data))


def message_bytes(*, title: str, body: str, html: str | None, to: str, headers: dict) -> bytes:
    """The bytes of `mail._email(title=…, body=…, html=…, to=…, headers=…)`."""
    if html:
        parts = [_text_part(body, b"plain")] if body else []
        parts.append(_text_part(html, b"html"))
        texts = [part_headers + b"\r\n" + part_body for part_headers, part_body in parts]
        boundary = BytesGenerator._make_boundary(b"\r\n".join(texts))  # as the generator does
        mark = b"--" + boundary.encode("ascii")
        top = header("Content-Type", f'multipart/alternative; boundary="{boundary}"')
        top += b"MIME-Version: 1.0\r\n"
        content = mark + b"\r\n" + (b"\r\n" + mark + b"\r\n").join(texts)
        content += b"\r\n" + mark + b"--\r\n"
    else:
        top, content = _text_part(body, b"plain")
    lines = [
        top,
        header("Subject", title),
        header("From", settings.DEFAULT_FROM_EMAIL),
        header("To", to),
    ]
    names = {name.lower() for name in headers}
    if "date" not in names:
        lines.append(header("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        lines.append(header("Message-ID", make_msgid(domain=DNS_NAME)))
    lines += [
        header(name, value)
        for name, value in headers.items()
        if name.lower() not in {"from", "to", "cc", "reply-to"}  # as message() leaves them
    ]
    return b"".join(lines) + b"\r\n" + content
