"""The floor: the least a write endpoint of this stack can cost.

One indexed SELECT and one UPDATE in a transaction, through the same middleware, the same DRF view
class, the same strict JSON body parsing and serializer validation as the real endpoints. Each
endpoint's throughput is read as a fraction of this one's, measured in the same run on the same
server, so the noise of a shared machine mostly cancels out.
"""

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import errors
from config.api.parsing import json_body
from config.api.serializers import InputSerializer
from config.api.views import PublicApiView
from conversations.models import Bot


class FloorApi(PublicApiView):
    class FloorInput(InputSerializer):
        botId = serializers.UUIDField()

    def post(self, request: Request) -> Response:
        serializer = self.FloorInput(data=json_body(request))
        if not serializer.is_valid():
            raise errors.InvalidRequest("botId must be a UUID.")
        bot_id = serializer.validated_data["botId"]
        with transaction.atomic():
            try:
                bot = Bot.objects.only("id").get(pk=bot_id)
            except Bot.DoesNotExist:
                raise errors.NotFound() from None
            Bot.objects.filter(pk=bot.pk).update(updated_at=timezone.now())
        return Response({"ok": True, "botId": str(bot.pk)})
