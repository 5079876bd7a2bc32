import time
import zoneinfo

from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .app_settings import app_settings


class UserPreferencesMiddleware:
    """Show the portal in the signed-in user's own language and time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            if user.time_zone:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
                except zoneinfo.ZoneInfoNotFoundError:
                    timezone.deactivate()
            else:
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


SESSION_LOGIN_AT = "_accounts_login_at"
SESSION_SEEN_AT = "_accounts_seen_at"
# The last-seen time is written at most this often, so not every request writes the session.
SEEN_AT_RESOLUTION_SECONDS = 60


def session_login_started(sender, request, user, **kwargs):
    """Receiver of Django's user_logged_in (sent by every login, allauth's included): the clock of
    the absolute timeout starts here."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now


class SessionTimeoutMiddleware:
    """Ends a signed-in session after ACCOUNTS_SESSION_IDLE_TIMEOUT_SECONDS without a request, and
    ACCOUNTS_SESSION_ABSOLUTE_TIMEOUT_SECONDS after the login however busy it is. The person is
    logged out (the session is flushed, so staff pass two-factor authentication again) and told why
    on the next page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request):
        session = request.session
        now = int(time.time())
        login_at = session.get(SESSION_LOGIN_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        if not isinstance(login_at, int) or not isinstance(seen_at, int):
            # A session from before this middleware: its clocks start now.
            session[SESSION_LOGIN_AT] = login_at if isinstance(login_at, int) else now
            session[SESSION_SEEN_AT] = now
            return
        idle = app_settings.SESSION_IDLE_TIMEOUT.total_seconds()
        absolute = app_settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
        if now - seen_at > idle:
            self._end(request, _("You were logged out after a time without activity."))
        elif now - login_at > absolute:
            self._end(
                request, _("You were logged out because your session reached its time limit.")
            )
        elif now - seen_at >= SEEN_AT_RESOLUTION_SECONDS:
            session[SESSION_SEEN_AT] = now

    @staticmethod
    def _end(request, text):
        logout(request)
        messages.info(request, text + " " + _("Please log in again."))
