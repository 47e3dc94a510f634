"""A route that exists only in tests: the shared replay service behind the notifications family,
as the delivery-log API (contract 10) calls it, to see its 409 on the wire."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.views import ServiceApiView
from config.outbound.models import WebhookEvent
from config.outbound.services import webhook_replay


class ReplayApi(ServiceApiView):
    def post(self, request: Request, webhook_id: str) -> Response:
        event = WebhookEvent.objects.get(pk=webhook_id, service=self.service(request))
        webhook_replay(event=event)
        return Response({"queued": 1}, status=202)


urlpatterns = [path("api/v1/_test/webhook-events/<str:webhook_id>/replay", ReplayApi.as_view())]
