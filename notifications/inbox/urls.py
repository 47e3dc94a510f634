from django.urls import URLPattern, path

from notifications.inbox import views

app_name = "inbox"

# The id is captured as text and parsed by the selector, so a malformed one is the inbox's own 404.
urlpatterns: list[URLPattern] = [
    path("", views.ListView.as_view(), name="list"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("<str:notification_id>/", views.NotificationView.as_view(), name="notification"),
]
