from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from config.accounts.models import Service
from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, service_key_for, user_token_for


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory()


@pytest.fixture
def service_api(client: Client, service: Service) -> Api:
    """A client holding `service`'s key."""
    return Api(client, service_key_for(service))


@pytest.fixture
def person(db: None):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def person_api(client: Client, person) -> Api:  # type: ignore[no-untyped-def]
    """A client holding `person`'s user token."""
    return Api(client, user_token_for(person))
