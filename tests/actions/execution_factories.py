"""Widget action executions for tests, and the calls tests make about them."""

from typing import Any

import factory
from django.http import HttpResponse

from actions.models import ActionExecution, ExecutionKind
from tests.factories import BotFactory, ConversationFactory
from tests.helpers import Api

# Personal data in clear, as the runtime sends it.
CONTACT_PARAMS = {
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "phone": "+1 555 123 4567",
    "message": "Please call me back about the quote",
}


class ExecutionFactory(factory.django.DjangoModelFactory):
    """A pending execution of a contact form, its params in clear."""

    class Meta:
        model = ActionExecution

    bot = factory.SubFactory(BotFactory)  # allows https://example.com
    visitor_id = factory.Sequence(lambda n: f"visitor-{n:04d}")
    conversation = factory.LazyAttribute(lambda o: ConversationFactory(bot=o.bot, visitor_id=o.visitor_id))
    kind = ExecutionKind.CONTACT_FORM
    label = "Send the contact form"
    target_url = "https://example.com/contact"
    params = factory.LazyFunction(lambda: dict(CONTACT_PARAMS))


def result_path(execution: ActionExecution | str) -> str:
    execution_id = execution.id if isinstance(execution, ActionExecution) else execution
    return f"/v1/public/actions/{execution_id}/result"


def post_result(api: Api, execution: ActionExecution | str, body: Any = None, **kwargs: Any) -> HttpResponse:
    """The visitor's browser posting an outcome: no credentials."""
    body = {"result": "success"} if body is None else body
    return api.as_(None).post(result_path(execution), body, **kwargs)
