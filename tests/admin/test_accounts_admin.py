"""Services with key rotation that shows the new key once; credentials by prefix, revocable."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from config.accounts.models import Service, ServiceKey, UserToken
from config.accounts.secrets import digest
from tests.admin.factories import World, staff_user

pytestmark = pytest.mark.django_db

SERVICES = "/admin/accounts/service/"
NEW_KEY = re.compile(r'<code class="secret">(sk_[A-Za-z0-9_-]+)</code>')


def rotate_from_list(client: Client, *service_ids: object, action: str = "rotate_key", confirm: bool = True):  # type: ignore[no-untyped-def]
    return client.post(
        SERVICES,
        {
            "action": action,
            "_selected_action": [str(pk) for pk in service_ids],
            "index": 0,
            **({"confirm": "yes"} if confirm else {}),
        },
    )


@pytest.mark.parametrize("action", ["rotate_key", "rotate_webhook_secret"])
def test_rotation_asks_first_and_only_the_confirming_post_rotates(
    admin_client: Client, world: World, action: str
) -> None:
    before = (list(ServiceKey.objects.values_list("key_hash", "revoked_at")), world.service.webhook_secret)

    def unchanged() -> bool:
        service = Service.objects.get(pk=world.service.pk)
        return (
            list(ServiceKey.objects.values_list("key_hash", "revoked_at")),
            service.webhook_secret,
        ) == before

    asked = rotate_from_list(admin_client, world.service.pk, action=action, confirm=False)
    page = asked.content.decode()
    assert asked.status_code == 200 and unchanged()
    assert 'name="confirm" value="yes"' in page and f'name="action" value="{action}"' in page
    assert world.service.name in page and "sk_" not in page and "whsec_" not in page
    # A GET carrying the action's fields rotates nothing either (Django runs actions on POST
    # only; the list refuses the unknown parameters with 400).
    query = f"?action={action}&_selected_action={world.service.pk}&confirm=yes"
    assert admin_client.get(SERVICES + query).status_code in (200, 400) and unchanged()
    change_page = admin_client.post(
        f"{SERVICES}{world.service.pk}/change/",
        {"CHANGE_FORM-action": action, "_selected_action": str(world.service.pk)},
    )
    assert 'name="CHANGE_FORM-action"' in change_page.content.decode() and unchanged()

    rotated = rotate_from_list(admin_client, world.service.pk, action=action)
    assert rotated.status_code == 200 and not unchanged()
    shown = rotated.content.decode()
    assert 'class="secret"' in shown
    # Each kind says how to use it, under each secret (the shared page's `about`).
    about = re.compile(
        r"listed by its prefix, <code>sk_[A-Za-z0-9_-]+…</code>"
        if action == "rotate_key"
        else r"until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC, with the previous secret"
    )
    assert about.search(shown), shown


def test_rotation_shows_a_working_new_key_once_and_revokes_the_old(
    admin_client: Client, world: World
) -> None:
    response = rotate_from_list(admin_client, world.service.pk)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = NEW_KEY.findall(response.content.decode())[0]
    new_key = ServiceKey.objects.get(key_hash=digest(secret))
    assert new_key.service == world.service and new_key.revoked_at is None
    old_key = ServiceKey.objects.get(key_hash=digest(world.service_key))
    assert old_key.revoked_at is not None
    # Never again: not on any page, not in a message cookie, not in the change history.
    for url in (
        SERVICES,
        f"{SERVICES}{world.service.pk}/change/",
        f"{SERVICES}{world.service.pk}/history/",
        "/admin/accounts/servicekey/",
        f"/admin/accounts/servicekey/{new_key.pk}/change/",
        "/admin/",
    ):
        body = admin_client.get(url).content.decode()
        assert secret not in body, url
        assert new_key.prefix in body or url == "/admin/", url
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert all(secret not in entry.change_message for entry in LogEntry.objects.all())
    assert LogEntry.objects.filter(object_id=str(world.service.pk)).exists()


def test_rotation_from_the_service_page(admin_client: Client, world: World) -> None:
    change_url = f"{SERVICES}{world.service.pk}/change/"
    assert "rotate_key" in admin_client.get(change_url).content.decode()

    response = admin_client.post(
        change_url,
        {"CHANGE_FORM-action": "rotate_key", "_selected_action": str(world.service.pk), "confirm": "yes"},
    )

    assert response.status_code == 200
    secret = NEW_KEY.findall(response.content.decode())[0]
    assert ServiceKey.objects.get(key_hash=digest(secret)).revoked_at is None


def test_staff_who_may_only_view_services_cannot_rotate(client: Client, world: World) -> None:
    client.force_login(staff_user(username="viewer", permissions=("accounts.view_service",)))
    keys = ServiceKey.objects.count()

    assert client.get(SERVICES).status_code == 200
    assert "rotate_key" not in client.get(SERVICES).content.decode()
    rotate_from_list(client, world.service.pk)

    assert ServiceKey.objects.count() == keys


def test_the_service_page_edits_name_and_callback_never_the_webhook_secret(
    admin_client: Client, world: World
) -> None:
    change_url = f"{SERVICES}{world.service.pk}/change/"
    form = admin_client.get(change_url).content.decode()
    assert 'name="webhook_secret"' not in form and 'name="previous_webhook_secret"' not in form
    assert world.webhook_secret not in form
    assert admin_client.get(SERVICES + "add/").status_code == 403

    response = admin_client.post(
        change_url,
        {
            "name": "acme-renamed",
            "callback_url": "https://hooks.example.com/new",
            "keys-TOTAL_FORMS": "1",
            "keys-INITIAL_FORMS": "1",
            "keys-MIN_NUM_FORMS": "0",
            "keys-MAX_NUM_FORMS": "1000",
            "keys-0-id": str(world.service.keys.get().pk),
            "keys-0-service": str(world.service.pk),
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    world.service.refresh_from_db()
    assert world.service.name == "acme-renamed"
    assert world.service.webhook_secret == world.webhook_secret


def test_a_lookup_on_the_webhook_secret_is_refused(admin_client: Client, world: World) -> None:
    response = admin_client.get(SERVICES + "?webhook_secret__startswith=whsec_")

    assert response.status_code == 400


def test_keys_and_tokens_are_listed_by_prefix_and_can_be_revoked(admin_client: Client, world: World) -> None:
    key = ServiceKey.objects.get(key_hash=digest(world.service_key))
    token = UserToken.objects.get(token_hash=digest(world.user_token))

    keys_page = admin_client.get("/admin/accounts/servicekey/").content.decode()
    tokens_page = admin_client.get("/admin/accounts/usertoken/").content.decode()
    assert key.prefix in keys_page and key.key_hash not in keys_page
    assert token.prefix in tokens_page and token.token_hash not in tokens_page

    admin_client.post(
        "/admin/accounts/servicekey/", {"action": "revoke", "_selected_action": [str(key.pk)], "index": 0}
    )
    admin_client.post(
        f"/admin/accounts/usertoken/{token.pk}/change/",
        {"CHANGE_FORM-action": "revoke", "_selected_action": str(token.pk)},
    )

    key.refresh_from_db()
    token.refresh_from_db()
    assert key.revoked_at is not None and token.revoked_at is not None
