from collections.abc import Callable, Iterator

import pytest
from pytest_django.fixtures import Settings

from config.accounts.models import Service
from tests.factories import ServiceFactory
from tests.outbound.receivers import Receiver, Respond, answering


@pytest.fixture
def receivers() -> Iterator[Callable[[Respond], Receiver]]:
    """Start real local receivers; every one is shut down when the test ends."""
    started: list[Receiver] = []

    def start(respond: Respond) -> Receiver:
        receiver = Receiver(respond)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def receiver(receivers: Callable[[Respond], Receiver]) -> Receiver:
    """A receiver answering 204 to everything."""
    return receivers(answering(204))


@pytest.fixture
def allow_private(settings: Settings) -> None:
    """Local receivers live on 127.0.0.1, which production refuses."""
    settings.OUTBOUND_ALLOW_PRIVATE = True


@pytest.fixture
def hooked_service(db: None, receiver: Receiver, allow_private: None) -> Service:
    """A service whose callback_url is `receiver`."""
    return ServiceFactory(callback_url=receiver.url)
