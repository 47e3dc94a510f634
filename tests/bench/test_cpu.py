"""The in-process CPU measure: through the whole stack, fresh ids per request, refusals refused."""

import uuid

import pytest

from bench import cpu
from bench.load import Endpoint, floor_endpoint
from tests.factories import BotFactory

# It reads the PostgreSQL backend's CPU too.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db, pytest.mark.urls("bench.urls")]


@pytest.fixture(autouse=True)
def _bench_host(settings) -> None:  # type: ignore[no-untyped-def]
    # The bench's client calls the server as 127.0.0.1, as the production settings allow.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]


def bots(endpoint: Endpoint, count: int, tag: str) -> list[str]:
    return [str(BotFactory(name=f"{tag}-{n}").pk) for n in range(count)]


def test_each_endpoint_gets_its_cost_per_request_from_fresh_ids_every_block() -> None:
    used: list[str] = []

    def fresh(endpoint: Endpoint, count: int, tag: str) -> list[str]:
        ids = bots(endpoint, count, tag)
        used.extend(ids)
        return ids

    measured = cpu.cpu_per_request(endpoints=[floor_endpoint()], fresh_ids=fresh, requests=5, blocks=2)

    assert len(used) == len(set(used)) == 10
    floor = measured["floor"]
    assert floor["python_us"] > 0
    assert floor["total_us"] == floor["python_us"] + floor["postgresql_us"]


def test_a_refused_request_stops_the_measure() -> None:
    def unknown_bots(endpoint: Endpoint, count: int, tag: str) -> list[str]:
        return [str(uuid.uuid4()) for _ in range(count)]

    with pytest.raises(RuntimeError, match="floor answered 404"):
        cpu.cpu_per_request(endpoints=[floor_endpoint()], fresh_ids=unknown_bots, requests=2, blocks=1)
