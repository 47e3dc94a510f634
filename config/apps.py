from django.apps import AppConfig

# The admin names the product and links to the inbox, the site's page for the people it serves.
ADMIN_NAME = "Loopback"
ADMIN_SITE_URL = "/inbox/"


class ProjectConfig(AppConfig):
    """The project's plumbing: it has no models, only what must be registered once at start."""

    name = "config"
    label = "config"
    verbose_name = "Loopback"

    def ready(self) -> None:
        from django.contrib import admin

        from config import checks  # noqa: F401 - registers the system checks
        from config.api import schema  # noqa: F401 - registers the OpenAPI security schemes

        admin.site.site_header = ADMIN_NAME
        admin.site.site_title = ADMIN_NAME
        admin.site.index_title = f"{ADMIN_NAME} administration"
        admin.site.site_url = ADMIN_SITE_URL
