from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class LoopbackAdminConfig(AdminConfig):
    """Django's admin on the project's own site (`config.admin.LoopbackAdminSite`)."""

    default_site = "config.admin.LoopbackAdminSite"


class ProjectConfig(AppConfig):
    """The project's plumbing: it has no models, only what must be registered once at start."""

    name = "config"
    label = "config"
    verbose_name = "Loopback"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the system checks
        from config.api import schema  # noqa: F401 - registers the OpenAPI security schemes
