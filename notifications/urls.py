from django.urls import URLPattern, path

from notifications import views

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
]
