"""No admin page reveals a secret or a clear param (contract 6): every registered model's list,
change, history and add pages, rendered for a superuser over rows of every kind."""

import pytest
from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from tests.admin.factories import CLEAR_VALUES, World

pytestmark = pytest.mark.django_db

ROWS_PER_MODEL = 20


def pages(model: type[Model], model_admin: ModelAdmin, user: User) -> list[str]:  # type: ignore[type-arg]
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    request = RequestFactory().get("/admin/")
    request.user = user
    urls = [reverse(f"{info}_changelist")]
    if model_admin.has_add_permission(request):
        urls.append(reverse(f"{info}_add"))
    for obj in model_admin.get_queryset(request)[:ROWS_PER_MODEL]:
        urls.append(reverse(f"{info}_change", args=[quote(obj.pk)]))
        urls.append(reverse(f"{info}_history", args=[quote(obj.pk)]))
    return urls


def test_no_page_shows_a_secret_or_a_clear_param(
    admin_client: Client, admin_user: User, world: World
) -> None:
    forbidden = (*world.secrets, *CLEAR_VALUES)
    visited = 0
    for model, model_admin in admin.site._registry.items():
        for url in pages(model, model_admin, admin_user):
            response = admin_client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            body = response.content.decode()
            for value in forbidden:
                assert value not in body, (url, value)
            visited += 1
    extra = ["/admin/", "/admin/actions/contactsubmission/export.csv"]
    for url in extra:
        response = admin_client.get(url)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        ).decode()
        for value in forbidden:
            assert value not in body, (url, value)
    assert visited > 30  # every kind of row was rendered, not just empty lists


def test_the_seeded_secrets_are_real(world: World) -> None:
    # The check above would pass vacuously if the world held no secrets to leak.
    assert world.service_key.startswith("sk_") and len(world.service_key) > 20
    assert world.user_token.startswith("ut_")
    assert world.webhook_secret.startswith("whsec_")
    assert world.pending.params["email"] == "jane.doe@example.com"


def test_every_model_staff_work_with_is_registered() -> None:
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered >= {
        "actions.contactsubmission",
        "actions.action",
        "actions.actiontrigger",
        "conversations.bot",
        "conversations.conversation",
        "accounts.service",
        "accounts.servicekey",
        "accounts.usertoken",
        "outbound.webhookevent",
        "outbound.outboundemail",
        "notifications.notification",
    }
    with pytest.raises(NoReverseMatch):
        reverse("admin:actions_actionexecution_changelist")  # executions are seen as Contact Submissions
