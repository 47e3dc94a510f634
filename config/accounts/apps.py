from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "config.accounts"
    label = "accounts"
    verbose_name = "Services and credentials"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the deploy checks
        from config.accounts import checks as accounts_checks  # noqa: F401 - WEBHOOK_SECRET_KEYS
        from config.api import schema  # noqa: F401 - registers the OpenAPI security schemes
