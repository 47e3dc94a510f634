import re

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api.families import FAMILIES
from config.api.views import healthz, readyz, unknown_route

# Each family's prefix and everything under it; `[\s\S]`, not `.`, since a path may hold a decoded
# newline (an inline `(?s)` would make the URLconf unreversible).
API_PREFIXES = "|".join(re.escape(family.prefix.strip("/")) for family in FAMILIES)
API_PATHS = rf"^(?:{API_PREFIXES})(?:/[\s\S]*)?$"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("v1/", include("conversations.urls")),
    path("v1/", include("actions.urls_widget")),
    path("api/v1/", include("notifications.urls")),
    path("actions/", include("actions.urls")),
    path("inbox/", include("notifications.inbox.urls")),
    # Last: what no route above takes under an API prefix.
    re_path(API_PATHS, unknown_route),
]

handler400 = "config.api.handlers.handler400"
handler403 = "config.api.handlers.handler403"
handler404 = "config.api.handlers.handler404"
handler500 = "config.api.handlers.handler500"
