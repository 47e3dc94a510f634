"""Django's model backend, whose lookup of the signed-in user is compiled once per process.

Every request of a signed-in person reads their user after the session (`config.db.Prepared`);
signing in, permissions and who may sign in are `ModelBackend`'s own.
"""

from typing import Any

from django.contrib.auth import backends, get_user_model

from config.db import Param, Prepared

_USER = Prepared(lambda: get_user_model()._default_manager.filter(pk=Param("pk")))


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = _USER.one(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
