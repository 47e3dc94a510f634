"""Every filter, sort and page link of every admin list answers 200, and a NUL or a malformed id
anywhere in an admin URL answers 400 or 404, never 500 (contract 6).

The links are not listed by hand: the test walks every registered ModelAdmin's changelist as a
staff user and follows each link the page itself offers (filters, column sorts, pages), so a filter
or an admin added tomorrow is walked too.
"""

import re
from html import unescape
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from tests.admin.factories import World

ONE_PER_PAGE = 1

HREF = re.compile(r'href="(\?[^"]*)"')


def changelists_of_admins() -> list[tuple[str, admin.ModelAdmin]]:  # type: ignore[type-arg]
    return [
        (reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"), model_admin)
        for model, model_admin in admin.site._registry.items()
    ]


def changelists() -> list[str]:
    return [url for url, _model_admin in changelists_of_admins()]


def links_of(html: str) -> set[str]:
    """The query strings of the page's own links: filters, sorts, pages, "show all"."""
    return {unescape(href) for href in HREF.findall(html)}


@pytest.fixture
def staff_client(world: World) -> Client:
    client = Client()
    client.force_login(
        get_user_model().objects.create_superuser("walker", "walker@example.com", "pw-walker-1")
    )
    return client


@pytest.mark.django_db
def test_every_link_of_every_changelist_answers_200(staff_client: Client, world: World) -> None:
    followed: dict[str, int] = {}
    for url, model_admin in changelists_of_admins():
        # Lists of one row a page, so that every list has page links to follow.
        per_page = model_admin.list_per_page
        model_admin.list_per_page = ONE_PER_PAGE
        try:
            page = staff_client.get(url)
            assert page.status_code == 200, url
            for query in sorted(links_of(page.content.decode())):
                response = staff_client.get(url + query)
                assert response.status_code == 200, (url + query, response.status_code)
                followed[url + query] = response.status_code
        finally:
            model_admin.list_per_page = per_page
    # The walk did reach filters, sorts and pages (so a change of markup cannot make it vacuous).
    assert any("revoked_at__isempty" in link for link in followed), sorted(followed)
    assert any("?o=" in link or "&o=" in link for link in followed)
    assert any("p=" in link for link in followed)


def parameters_of(url: str, client: Client) -> set[str]:
    page = client.get(url).content.decode()
    names = {pair.split("=", 1)[0] for query in links_of(page) for pair in urlsplit(query).query.split("&")}
    return names | {"q", "o", "p"}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["a\x00b", "\x00"])
def test_a_nul_anywhere_in_an_admin_url_is_400(staff_client: Client, world: World, value: str) -> None:
    quoted = quote(value, safe="")
    for url in changelists():
        for parameter in sorted(parameters_of(url, staff_client)):
            assert staff_client.get(f"{url}?{parameter}={quoted}").status_code == 400, (url, parameter)
        for suffix in ("change/", "history/", "delete/"):
            assert staff_client.get(f"{url}{quoted}/{suffix}").status_code == 400, (url, suffix)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["not-an-id", "-1", "9" * 40, "%"])
def test_a_malformed_id_in_an_admin_url_is_never_a_500(
    staff_client: Client, world: World, value: str
) -> None:
    quoted = quote(value, safe="")
    for url in changelists():
        # A list with an impossible filter goes back to itself (Django's 302 to ?e=1); an id its
        # primary key cannot hold is a 404, one it can (a text key) but that names nothing goes to
        # the index (302).
        for parameter in sorted(name for name in parameters_of(url, staff_client) if "id" in name):
            response = staff_client.get(f"{url}?{parameter}={quoted}")
            assert response.status_code in (200, 302, 400), (url, parameter, response.status_code)
        model = model_of(url)
        malformed = not_a_key(model, value)
        for suffix in ("change/", "history/", "delete/"):
            response = staff_client.get(f"{url}{quoted}/{suffix}")
            expected = (404,) if malformed else (302, 403)
            assert response.status_code in expected, (url, suffix, response.status_code)


def model_of(changelist_url: str) -> type[Model]:
    app_label, model_name = changelist_url.strip("/").split("/")[-2:]
    return apps.get_model(app_label, model_name)


def not_a_key(model: type[Model], value: str) -> bool:
    try:
        model._meta.pk.to_python(value)  # type: ignore[union-attr]
    except (ValidationError, ValueError):
        return True
    return False


@pytest.mark.django_db
def test_a_malformed_id_is_a_404_on_every_admin_with_a_uuid_or_integer_key(
    staff_client: Client, world: World
) -> None:
    checked = [url for url in changelists() if not_a_key(model_of(url), "not-an-id")]
    assert len(checked) >= 10  # every model of ours but the text-keyed webhook events, and auth's
    for url in checked:
        assert staff_client.get(f"{url}not-an-id/change/").status_code == 404, url
