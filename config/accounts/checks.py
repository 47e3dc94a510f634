"""Start-up checks of the accounts settings (WEBHOOK_SECRET_KEYS): an invalid key stops
`manage.py` commands (`check`, `migrate`, `runserver`) with Django's system-check error, and
`config.wsgi` (gunicorn) with ImproperlyConfigured, rather than failing at the first webhook."""

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from config.accounts.encryption import key_errors


@checks.register(checks.Tags.security)
def check_webhook_secret_keys(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            message,
            hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'",
            id="accounts.E001",
        )
        for message in key_errors(list(settings.WEBHOOK_SECRET_KEYS))
    ]


def require_valid_webhook_secret_keys() -> None:
    errors = key_errors(list(settings.WEBHOOK_SECRET_KEYS))
    if errors:
        raise ImproperlyConfigured(" ".join(errors))
