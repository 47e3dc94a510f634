from django.urls import path

from config.bench.views import FloorApi

urlpatterns = [path("floor", FloorApi.as_view(), name="bench-floor")]
