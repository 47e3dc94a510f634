from django.urls import URLPattern, path

from notifications import views, webhook_views

# Ids are captured as text and parsed by the selectors, so a malformed one is the family's
# NOTIFICATION_NOT_FOUND rather than the generic route 404.
urlpatterns: list[URLPattern] = [
    path("notifications", views.NotificationsApi.as_view(), name="notifications"),
    path(
        "notifications/<str:notification_id>",
        views.NotificationDetailApi.as_view(),
        name="notification-detail",
    ),
    path("client/token", views.ClientTokenApi.as_view(), name="client-token"),
    path("client/notifications", views.ClientNotificationsApi.as_view(), name="client-notifications"),
    path(
        "client/notifications/<str:notification_id>",
        views.ClientNotificationDetailApi.as_view(),
        name="client-notification-detail",
    ),
    path("client/respond", views.RespondApi.as_view(), name="client-respond"),
    # The delivery log (contract 10). The set's replay comes first: `replay` is no webhook-id.
    path("webhook-events", webhook_views.WebhookEventsApi.as_view(), name="webhook-events"),
    path(
        "webhook-events/replay",
        webhook_views.WebhookEventsReplayApi.as_view(),
        name="webhook-events-replay",
    ),
    path(
        "webhook-events/<str:webhook_id>",
        webhook_views.WebhookEventDetailApi.as_view(),
        name="webhook-event-detail",
    ),
    path(
        "webhook-events/<str:webhook_id>/replay",
        webhook_views.WebhookEventReplayApi.as_view(),
        name="webhook-event-replay",
    ),
    path(
        "webhook-secret/rotate", webhook_views.WebhookSecretRotateApi.as_view(), name="webhook-secret-rotate"
    ),
]
