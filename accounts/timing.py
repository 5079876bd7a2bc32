"""Answers that take the same time whatever they found.

Signing up with an address that already has an account creates nothing (allauth mails the
owner instead), so it is naturally quicker than a real sign-up, which writes the account, its
address, consents and acknowledgements. Hashing the password on both paths hides most of the
difference, but not all of it: what is left tells an attacker which addresses are known. So the
sign-up answer is held back to a floor that both paths stay under on a healthy server.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_sooner_than(seconds: float) -> Iterator[None]:
    """Let the block run, then wait out whatever is left of ``seconds``."""
    start = time.monotonic()
    try:
        yield
    finally:
        left = seconds - (time.monotonic() - start)
        if left > 0:
            time.sleep(left)
