import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.accounts.checks import require_valid_webhook_secret_keys  # noqa: E402 - as below
from config.checks import warn_if_unshared_cache  # noqa: E402 - needs the settings loaded above

require_valid_webhook_secret_keys()
warn_if_unshared_cache()
