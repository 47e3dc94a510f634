"""Staff erase a visitor from a Contact Submission (after a confirmation), and the erasure records
answer "was this id erased?" without keeping any id (contract 8)."""

from typing import Any

import pytest
from django.test import Client

from actions.models import ActionExecution, ErasureSource, VisitorErasure
from actions.services.erasure import visitor_erase
from conversations.models import Conversation
from tests.admin.conftest import CONTACT_SUBMISSIONS
from tests.admin.factories import ExecutionFactory, World, staff_user
from tests.factories import BotFactory, MessageFactory

ERASURES = "/admin/actions/visitorerasure/"


def change_form_erase(client: Client, execution: ActionExecution, **extra: str) -> Any:
    return client.post(
        f"{CONTACT_SUBMISSIONS}{execution.pk}/change/",
        {"CHANGE_FORM-action": "erase_visitor", "_selected_action": str(execution.pk), **extra},
    )


def test_the_page_offers_the_erasure(admin_client: Client, world: World) -> None:
    html = admin_client.get(f"{CONTACT_SUBMISSIONS}{world.pending.pk}/change/").content.decode()
    assert 'value="erase_visitor"' in html


def test_erasing_from_a_submission_asks_first_then_erases_and_records_who(
    admin_client: Client, admin_user: Any, world: World
) -> None:
    second = ExecutionFactory(
        bot=world.bot, visitor_id="visitor-pending", conversation=world.pending.conversation
    )
    MessageFactory(conversation=world.pending.conversation, content="hello")

    confirmation = change_form_erase(admin_client, world.pending)
    assert confirmation.status_code == 200
    html = confirmation.content.decode()
    assert "visitor-pending" in html and "<td>2</td><td>1</td><td>1</td>" in html
    assert ActionExecution.objects.filter(pk__in=[world.pending.pk, second.pk]).count() == 2

    done = change_form_erase(admin_client, world.pending, confirm="yes")
    assert done.status_code == 302 and done["Location"] == ERASURES
    assert not ActionExecution.objects.filter(visitor_id="visitor-pending").exists()
    assert not Conversation.objects.filter(visitor_id="visitor-pending").exists()
    assert ActionExecution.objects.filter(pk=world.completed.pk).exists()
    record = VisitorErasure.objects.get(source=ErasureSource.STAFF)
    assert (record.source, record.staff_user, record.service, record.bot) == (
        ErasureSource.STAFF,
        admin_user,
        None,
        world.bot,
    )
    assert (record.executions, record.conversations, record.messages) == (2, 1, 1)
    listing = admin_client.get(ERASURES).content.decode()
    assert "staff admin" in listing and "visitor-pending" not in listing


def test_erasing_from_the_list_takes_each_chosen_visitor(admin_client: Client, world: World) -> None:
    chosen = [str(world.pending.pk), str(world.completed.pk)]
    response = admin_client.post(
        CONTACT_SUBMISSIONS,
        {"action": "erase_visitor", "_selected_action": chosen, "index": "0", "confirm": "yes"},
    )
    assert response.status_code == 302
    assert VisitorErasure.objects.filter(source=ErasureSource.STAFF).count() == 2
    assert not ActionExecution.objects.filter(visitor_id__in=["visitor-pending", "visitor-done"]).exists()


def test_staff_without_the_delete_permission_cannot_erase(client: Client, world: World) -> None:
    viewer = staff_user(username="viewer", permissions=("actions.view_contactsubmission",))
    client.force_login(viewer)
    page = client.get(f"{CONTACT_SUBMISSIONS}{world.pending.pk}/change/")
    assert page.status_code == 200 and 'value="erase_visitor"' not in page.content.decode()
    change_form_erase(client, world.pending, confirm="yes")
    assert ActionExecution.objects.filter(pk=world.pending.pk).exists()
    assert not VisitorErasure.objects.filter(source=ErasureSource.STAFF).exists()
    assert client.get(ERASURES).status_code == 403


def test_the_records_answer_was_this_id_erased(admin_client: Client, world: World) -> None:
    visitor_erase(
        bot=world.bot, visitor_id="visitor-pending", source=ErasureSource.SERVICE, service=world.service
    )
    visitor_erase(bot=BotFactory(), visitor_id="someone-else", source=ErasureSource.OPERATOR)

    def rows(query: str) -> int:
        response = admin_client.get(ERASURES, {"q": query})
        assert response.status_code == 200
        return response.content.decode().count('class="field-erased_at')

    assert rows("visitor-pending") == 1
    assert rows("someone-else") == 1
    assert rows("visitor-pend") == 0
    assert rows("never-erased") == 0
    assert admin_client.get(ERASURES, {"q": "nul\x00byte"}).status_code == 400  # like every URL with a NUL
    assert rows("") == 3  # and the world's own
    html = admin_client.get(ERASURES, {"q": "visitor-pending"}).content.decode()
    assert "visitor-pending" in html  # echoed in the search box only
    record = VisitorErasure.objects.get(source=ErasureSource.SERVICE)
    detail = admin_client.get(f"{ERASURES}{record.pk}/change/")
    assert detail.status_code == 200
    assert record.visitor_digest in detail.content.decode()
    assert "visitor-pending" not in detail.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "?source=service",
        "?source=staff",
        "?source=bogus",
        "?erased_at__gte=2026-01-01T00:00:00%2B00:00",
        "?o=1",
        "?bot=acme-bot",
    ],
)
def test_every_filter_of_the_records_answers_200(admin_client: Client, world: World, query: str) -> None:
    visitor_erase(bot=world.bot, visitor_id="v", source=ErasureSource.OPERATOR)
    assert admin_client.get(ERASURES + query).status_code == 200


def test_records_cannot_be_added_or_changed(admin_client: Client, world: World) -> None:
    _counts, record = visitor_erase(bot=world.bot, visitor_id="v", source=ErasureSource.OPERATOR)
    assert admin_client.get(f"{ERASURES}add/").status_code == 403
    assert admin_client.post(f"{ERASURES}{record.pk}/delete/").status_code == 403
