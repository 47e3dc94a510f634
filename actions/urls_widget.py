from django.urls import URLPattern, path

from actions.views.erasure import VisitorErasureApi
from actions.views.executions import ExecutionCreateApi, ExecutionDetailApi, ExecutionResultApi

# Ids are captured as strings so a malformed one is the widget family's 404, not a routing miss.
urlpatterns: list[URLPattern] = [
    path("bots/<str:bot_id>/action-executions", ExecutionCreateApi.as_view(), name="widget-executions"),
    path(
        "bots/<str:bot_id>/action-executions/<str:execution_id>",
        ExecutionDetailApi.as_view(),
        name="widget-execution",
    ),
    # `path`: a visitor id is any string of 1 to 128 characters, slashes included.
    path("bots/<str:bot_id>/visitors/<path:visitor_id>", VisitorErasureApi.as_view(), name="widget-visitor"),
    path(
        "public/actions/<str:execution_id>/result",
        ExecutionResultApi.as_view(),
        name="widget-execution-result",
    ),
]
