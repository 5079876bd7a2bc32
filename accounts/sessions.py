"""SESSION_ENGINE = "accounts.sessions": database sessions that know their user."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get("_auth_user_id"))
        except (TypeError, ValueError):
            session.user_id = None
        return session
