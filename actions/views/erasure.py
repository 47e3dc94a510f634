"""Widget family (`/v1`): a service erases one visitor of its bot (contract 8)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from actions.erasure_serializers import VisitorErasedSerializer, VisitorPathSerializer
from actions.models import ErasureSource
from actions.services.erasure import visitor_erase
from config.api.errors import InvalidRequest, NotFound
from config.api.families import WIDGET
from config.api.schema import WIDGET_UNAUTHENTICATED, error_response
from config.api.views import ServiceApiView
from conversations.selectors import bot_get_for_service


class VisitorErasureApi(ServiceApiView):
    # The visitor id is personal data: the request's log line shows this part of the path redacted.
    private_path_kwargs = ("visitor_id",)

    @extend_schema(
        operation_id="visitor_erase",
        summary="Erase a visitor's executions, conversations and messages",
        description="Your service (service key) erases what Loopback holds about one visitor of "
        "one of its bots: their executions, their conversations and the conversations' messages "
        "are deleted, not masked. The answer counts what was deleted; calling it again answers 200 "
        "with zeros. Afterwards the visitor's executions answer 404, to reads and to result posts. "
        "Each erasure is recorded for the operator's audit (bot, time, counts, and that your "
        "service asked) with the visitor id only as a keyed digest.",
        parameters=[
            OpenApiParameter("bot_id", str, OpenApiParameter.PATH, description="The bot's `botId`, a UUID."),
            OpenApiParameter(
                "visitor_id",
                str,
                OpenApiParameter.PATH,
                description="The `visitorId` the proposals named, 1 to 128 characters (URL-encoded).",
            ),
        ],
        responses={
            200: VisitorErasedSerializer,
            400: error_response(
                WIDGET,
                "`INVALID_REQUEST`: the visitor id is longer than 128 characters (or holds NUL).",
                InvalidRequest("visitorId must be 1 to 128 characters, without NUL."),
            ),
            401: WIDGET_UNAUTHENTICATED,
            404: error_response(
                WIDGET,
                "`NOT_FOUND`: no such bot, or another service's.",
                NotFound("There is no bot 6f1d3c2a-9b8e-4f7a-a1c2-d3e4f5a6b7c8."),
            ),
        },
        examples=[
            OpenApiExample(
                "Erased",
                value={
                    "visitorId": "visitor-42",
                    "erased": {"executions": 3, "conversations": 1, "messages": 2},
                },
                response_only=True,
            ),
            OpenApiExample(
                "Nothing left (a repeated call)",
                value={
                    "visitorId": "visitor-42",
                    "erased": {"executions": 0, "conversations": 0, "messages": 0},
                },
                response_only=True,
            ),
        ],
    )
    def delete(self, request: Request, bot_id: str, visitor_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)  # 404 first
        if not VisitorPathSerializer(data={"visitorId": visitor_id}).is_valid():  # then 400
            raise InvalidRequest("visitorId must be 1 to 128 characters, without NUL.")
        counts, _record = visitor_erase(
            bot=bot, visitor_id=visitor_id, source=ErasureSource.SERVICE, service=self.service(request)
        )
        return Response(VisitorErasedSerializer.render({"visitorId": visitor_id, "erased": counts.as_dict()}))
