from django.urls import path

from actions.views.triggers import ActionApi, ActionTriggerApi

# Ids are captured as plain strings so a malformed one is the family's 400, not a bare 404.
urlpatterns = [
    path("<str:action_id>", ActionApi.as_view(), name="action"),
    path("<str:action_id>/trigger", ActionTriggerApi.as_view(), name="action-trigger"),
]
