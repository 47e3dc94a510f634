"""Filters on a foreign key never list the related table (there may be hundreds of thousands of
bots): a text box takes an id or an exact name, and only the rows it picks are named."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from actions.models import ActionTrigger
from config.admin import RELATED_LOOKUP_LIMIT
from config.outbound.models import WebhookEvent
from tests.actions.execution_factories import ExecutionFactory
from tests.admin.conftest import CONTACT_SUBMISSIONS, EXPORT, SUMMARY
from tests.admin.factories import World
from tests.factories import BotFactory, ServiceFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


def get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def row_ids(html: str) -> set[str]:
    return set(re.findall(r"/admin/actions/contactsubmission/([0-9a-f-]{36})/change/", html))


def filter_section(html: str, title: str) -> str:
    section = html[html.index(f'<details data-filter-title="{title}"') :]
    return section[: section.index("</details>")]


def bot_filter_links(html: str) -> list[str]:
    """The bots the bot filter names (each links to the list narrowed to it)."""
    return re.findall(r'href="\?[^"]*bot__id__exact=([0-9a-f-]{36})[^"]*"', filter_section(html, "bot"))


def test_the_bot_filter_lists_no_bot_until_asked(admin_client: Client, world: World) -> None:
    for number in range(30):
        BotFactory(service=world.service, name=f"many-{number:02}")

    html = get(admin_client, CONTACT_SUBMISSIONS)

    assert bot_filter_links(html) == []
    assert "many-0" not in html
    assert 'name="bot"' in html and 'placeholder="bot id or exact name"' in html


def test_the_bot_filter_takes_an_exact_name_or_an_id(admin_client: Client, world: World) -> None:
    other = BotFactory(service=world.service, name="pricing-bot")
    elsewhere = ExecutionFactory(bot=other)
    BotFactory(service=world.service, name="pricing-bot-2")

    by_name = get(admin_client, CONTACT_SUBMISSIONS + "?bot=pricing-bot")
    by_id = get(admin_client, CONTACT_SUBMISSIONS + f"?bot={other.pk}")
    by_link = get(admin_client, CONTACT_SUBMISSIONS + f"?bot__id__exact={other.pk}")

    for html in (by_name, by_id, by_link):
        assert row_ids(html) == {str(elsewhere.pk)}
        assert bot_filter_links(html) == [str(other.pk)]
    assert 'value="pricing-bot"' in by_name
    export = b"".join(admin_client.get(EXPORT + "?bot=pricing-bot").streaming_content).decode()  # type: ignore[attr-defined]
    assert [line.split(",")[0] for line in export.splitlines()[1:]] == [str(elsewhere.pk)]
    assert '<span class="cs-value">1</span>' in get(admin_client, SUMMARY + "?bot=pricing-bot")


def test_a_name_several_services_use_picks_each_of_their_bots(admin_client: Client, world: World) -> None:
    twins = [BotFactory(service=ServiceFactory(), name="support") for _ in range(2)]
    rows = {str(ExecutionFactory(bot=bot).pk) for bot in twins}

    html = get(admin_client, CONTACT_SUBMISSIONS + "?bot=support")

    assert row_ids(html) == rows
    assert sorted(bot_filter_links(html)) == sorted(str(bot.pk) for bot in twins)


def test_more_same_named_bots_than_it_names_still_filter_on_all_of_them(
    admin_client: Client, world: World
) -> None:
    twins = [BotFactory(service=ServiceFactory(), name="support") for _ in range(RELATED_LOOKUP_LIMIT + 2)]
    last = ExecutionFactory(bot=twins[-1])
    ExecutionFactory(bot=twins[0])

    html = get(admin_client, CONTACT_SUBMISSIONS + "?bot=support")

    assert len(bot_filter_links(html)) == RELATED_LOOKUP_LIMIT
    assert "and more: give an id" in html
    assert str(last.pk) in row_ids(html) and len(row_ids(html)) == 2


def test_an_unknown_bot_finds_nothing_and_says_so(admin_client: Client, world: World) -> None:
    html = get(admin_client, CONTACT_SUBMISSIONS + "?bot=no-such-bot")

    assert row_ids(html) == set()
    assert "None found" in html
    assert (
        row_ids(get(admin_client, CONTACT_SUBMISSIONS + "?bot=5f0c9d43-4bd4-4d2a-8a4f-4c1f4a0a1a11")) == set()
    )


def test_a_name_holding_nul_is_400(admin_client: Client, world: World) -> None:
    # No URL may hold U+0000 (contract 6): refused before any filter reads it.
    for url in (CONTACT_SUBMISSIONS, EXPORT, SUMMARY):
        for query in ("?bot=acme%00bot", "?bot__id__exact=a%00b"):
            assert admin_client.get(url + query).status_code == 400, (url, query)


def test_a_malformed_bot_id_sends_back_to_the_list(admin_client: Client, world: World) -> None:
    for url in (CONTACT_SUBMISSIONS, EXPORT, SUMMARY):
        for value in ("not-an-id", "-1"):
            response = admin_client.get(url + f"?bot__id__exact={value}")
            assert response.status_code == 302, (url, value)
            assert response["Location"].endswith("?e=1")


def test_lookups_through_the_bot_stay_refused(admin_client: Client, world: World) -> None:
    for query in (
        "?bot__name=acme-bot",
        "?bot__allowed_targets__icontains=example",
        "?bot__service__name=acme",
    ):
        for url in (CONTACT_SUBMISSIONS, EXPORT, SUMMARY):
            assert admin_client.get(url + query).status_code == 400, (url, query)


def test_the_text_box_keeps_the_other_filters_and_the_search(admin_client: Client, world: World) -> None:
    html = get(
        admin_client, CONTACT_SUBMISSIONS + f"?kind=newsletter&q=visitor&p=1&bot__id__exact={world.bot.pk}"
    )

    form = html[html.index('class="related-lookup-filter"') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="kind" value="newsletter">' in form
    assert '<input type="hidden" name="q" value="visitor">' in form
    assert 'name="p"' not in form and 'name="bot__id__exact"' not in form


def test_page_queries_do_not_grow_with_bots(
    admin_client: Client, world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    get(admin_client, CONTACT_SUBMISSIONS + "?bot=acme-bot")
    with CaptureQueriesContext(connection) as few:
        get(admin_client, CONTACT_SUBMISSIONS + "?bot=acme-bot")
    BotFactory.create_batch(40, service=world.service)

    with django_assert_max_num_queries(len(few.captured_queries)):
        get(admin_client, CONTACT_SUBMISSIONS + "?bot=acme-bot")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/admin/conversations/conversation/", "bot"),
        ("/admin/conversations/bot/", "service"),
        ("/admin/notifications/notification/", "service"),
        ("/admin/outbound/webhookevent/", "service"),
        ("/admin/accounts/servicekey/", "service"),
        ("/admin/actions/action/", "service"),
        ("/admin/actions/actiontrigger/", "service"),
        ("/admin/actions/actiontrigger/", "action"),
    ],
)
def test_no_foreign_key_filter_lists_its_table(
    admin_client: Client, world: World, url: str, shown: str
) -> None:
    ServiceFactory.create_batch(3)

    html = get(admin_client, url)

    section = filter_section(html, shown)
    assert re.findall(rf'href="\?[^"]*{shown}__id__exact=', section) == []
    assert f'name="{shown}"' in section


def test_services_are_picked_by_name_and_actions_by_their_action_id(
    admin_client: Client, world: World
) -> None:
    other = ServiceFactory(name="globex")
    foreign = WebhookEventFactory(service=other, event_type="test.event")

    outbox = get(admin_client, "/admin/outbound/webhookevent/?service=globex")
    assert foreign.pk in outbox and "test.event" in outbox
    assert WebhookEvent.objects.filter(service=world.service).first().pk not in outbox  # type: ignore[union-attr]

    trigger = ActionTrigger.objects.get()
    triggers = get(admin_client, "/admin/actions/actiontrigger/?action=approve-refund")
    assert f"/admin/actions/actiontrigger/{trigger.pk}/change/" in triggers
    none = get(admin_client, "/admin/actions/actiontrigger/?action=another-action")
    assert f"/admin/actions/actiontrigger/{trigger.pk}/change/" not in none
