"""Django's database sessions, read by a statement compiled once per process.

Every request of a signed-in person (the inbox, the admin) reads its session first; building and
compiling that lookup cost more than running it (`config.db.Prepared`). Stored, expired, cycled
and cleared exactly as `django.contrib.sessions.backends.db` does: only the read differs.
"""

from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from config.db import Param, Prepared

_UNEXPIRED = Prepared(
    lambda: db.SessionStore.get_model_class().objects.filter(
        session_key=Param("session_key"), expire_date__gt=Param("now")
    )
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        session = _UNEXPIRED.one(session_key=self.session_key, now=timezone.now())
        if session is None:
            # As the parent does: a missing or expired session is a new, empty one.
            self._session_key = None
        return session
