"""The demo part `make run` prints for triggered actions."""

import json
import shlex

import pytest

from actions.demo import triggers
from actions.models import Action, ActionTrigger, ActionVersion, TriggerStatus
from config.accounts.models import Service
from tests.helpers import Api, service_key_for

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_twice_and_its_curl_line_works(api: Api, service: Service) -> None:
    key = service_key_for(service)
    context = {"base_url": "http://127.0.0.1:8000", "service": service, "service_key": key}

    triggers.seed(context)
    lines = triggers.seed(context)

    assert dict(Action.objects.filter(service=service).values_list("action_id", "fire_on")) == {
        "notify-crm": "true",
        "escalate": "false",
    }
    assert ActionVersion.objects.count() == 2
    assert list(ActionTrigger.objects.values_list("status", flat=True)) == [TriggerStatus.WOULD_TRIGGER]

    [curl] = [line for line in lines if "/actions/notify-crm/trigger" in line]
    words = shlex.split(curl)
    assert f"Authorization: Bearer {key}" in words
    body = json.loads(words[words.index("-d") + 1])
    assert body["dry_run"] is True
    response = api.as_(key).post("/actions/notify-crm/trigger", body)
    assert response.json()["status"] == "would_trigger"
