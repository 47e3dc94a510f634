"""The project's routes plus the floor (`POST /bench/floor`), for the bench's server only."""

from django.urls import path

from bench.views import FloorApi
from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/floor", FloorApi.as_view(), name="bench-floor")]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
