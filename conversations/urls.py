from django.urls import URLPattern, path

from conversations.views import BotApi, ConversationMessagesApi

# Ids are captured as strings so a malformed one is the widget family's 404, not a routing miss.
urlpatterns: list[URLPattern] = [
    path("bots/<str:bot_id>", BotApi.as_view(), name="widget-bot"),
    path(
        "bots/<str:bot_id>/conversations/<str:conversation_id>/messages",
        ConversationMessagesApi.as_view(),
        name="widget-conversation-messages",
    ),
]
