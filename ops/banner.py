"""The lines `make run` prints before the processes start: where to go and how to log in."""

import argparse

from accounts.demo import DEMO_OFFICER, DEMO_PASSWORD, DEMO_SUPPORT, DEMO_TOTP_SECRET, DEMO_USER


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", default="8000")
    port = parser.parse_args().port
    print(
        f"""
  Workpex Privacy Portal: http://127.0.0.1:{port}/
  Health:                 http://127.0.0.1:{port}/healthz
  Staff admin:            http://127.0.0.1:{port}/admin/

  Demo logins (password for all: {DEMO_PASSWORD})
    account holder:  {DEMO_USER}
    privacy officer: {DEMO_OFFICER}   (two-factor code: `.venv/bin/python manage.py demo_totp`,
    support:         {DEMO_SUPPORT}    or add the secret {DEMO_TOTP_SECRET} to an authenticator app)

  Mail (sign-up confirmations and other messages) is printed below by the web process.
  Stop everything with Ctrl+C.
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
