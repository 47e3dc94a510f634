from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project's plumbing: it has no models, only what must be registered once at start."""

    name = "config"
    label = "config"
    verbose_name = "Loopback"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the system checks
        from config.api import schema  # noqa: F401 - registers the OpenAPI security schemes
