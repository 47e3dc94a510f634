"""The project's routes with the floor mounted, as config/urls.py does when BENCH_FLOOR_ENABLED is on.

config/urls.py reads the setting once, at import, and the test settings leave it off.
"""

from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/", include("config.bench.urls"))]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
