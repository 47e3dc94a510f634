"""The admin is named after the product, and its "View site" link goes to the inbox."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client


@pytest.fixture
def staff_client(db: None) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("staffer", "staffer@example.com", "pw-1"))
    return client


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/admin/", "Loopback administration | Loopback"),
        ("/admin/auth/user/", "Select user to change | Loopback"),
    ],
)
def test_every_admin_page_names_loopback(staff_client: Client, path: str, title: str) -> None:
    html = staff_client.get(path).content.decode()
    assert re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip() == title  # type: ignore[union-attr]
    assert re.search(r'<div id="site-name"><a href="/admin/">Loopback</a></div>', html)
    assert "Django administration" not in html and "Django site admin" not in html


def test_view_site_goes_to_the_inbox(staff_client: Client) -> None:
    html = staff_client.get("/admin/").content.decode()
    assert '<a href="/inbox/">View site</a>' in html


def test_the_login_page_names_loopback(client: Client, db: None) -> None:
    html = client.get("/admin/login/").content.decode()
    assert "<title>Log in | Loopback</title>" in html
