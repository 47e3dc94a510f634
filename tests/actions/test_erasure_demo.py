"""The privacy part of `make run`'s demo: one erased visitor, and a curl line that erases another."""

import shlex

import pytest

from actions import demo
from actions.demo import privacy
from actions.models import ActionExecution, VisitorErasure
from actions.services.erasure import visitor_digest
from config.accounts.management.commands.seed_demo import MANAGE
from config.accounts.models import Service
from tests.helpers import Api, service_key_for

pytestmark = pytest.mark.django_db


def test_the_demo_shows_one_erasure_and_its_curl_line_erases_another(api: Api, service: Service) -> None:
    key = service_key_for(service)
    context = {"base_url": "http://127.0.0.1:8000", "manage": MANAGE, "service": service, "service_key": key}

    demo.seed(context)
    lines = demo.seed(context)

    record = VisitorErasure.objects.get()
    assert record.visitor_digest == visitor_digest(privacy.ERASED_VISITOR) and record.executions == 1
    assert not ActionExecution.objects.filter(visitor_id=privacy.ERASED_VISITOR).exists()
    [curl] = [line for line in lines if "curl -X DELETE" in line]
    words = shlex.split(curl)
    path = words[words.index("DELETE") + 1].removeprefix("http://127.0.0.1:8000")
    response = api.as_(key).send("DELETE", path)
    assert response.status_code == 200 and response.json()["erased"]["executions"] >= 1
