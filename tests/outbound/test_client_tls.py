"""The outbound client over TLS, against real local TLS receivers with certificates of our own."""

import datetime as dt
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_django.fixtures import Settings

from config.outbound.client import ErrorKind, OutboundResult
from tests.outbound.receivers import Receiver, Respond, answering, quick_then_trickling
from tests.outbound.test_client import post


class Authority:
    """A certificate authority that signs receivers' certificates, written to `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = self._sign(
            x509.CertificateBuilder()
            .subject_name(_name("loopback test CA"))
            .public_key(self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def server_context(self, dns_name: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self._sign(
            x509.CertificateBuilder()
            .subject_name(_name(dns_name))
            .public_key(key.public_key())
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        )
        chain = self.directory / f"{dns_name}.pem"
        chain.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain)
        return context

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        return (
            builder.issuer_name(_name("loopback test CA"))
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


@pytest.fixture
def trusted(authority: Authority, monkeypatch: pytest.MonkeyPatch) -> Authority:
    """The client trusts `authority` in place of certifi's roots (the one outside thing faked)."""
    monkeypatch.setattr(certifi, "where", lambda: str(authority.ca_file))
    return authority


@pytest.fixture(autouse=True)
def _private_allowed(settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True


def in_a_new_thread(posts: Callable[[], list[OutboundResult]]) -> list[OutboundResult]:
    # A thread builds its TLS context (with the roots of that moment) once, and keeps its own
    # connections: a new one trusts `trusted` and starts with none.
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.extend(posts()))
    thread.start()
    thread.join()
    return results


@pytest.fixture
def tls_receivers() -> Iterator[Callable[[Authority, Respond], Receiver]]:
    """Start real local TLS receivers, with a certificate for `localhost` signed by the authority."""
    started: list[Receiver] = []

    def start(authority: Authority, respond: Respond) -> Receiver:
        receiver = Receiver(respond, tls=authority.server_context("localhost"))
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


def test_posts_over_tls_check_the_url_s_name_and_share_one_connection(
    tls_receivers: Callable[[Authority, Respond], Receiver], trusted: Authority
) -> None:
    receiver = tls_receivers(trusted, answering(200, b"ok"))
    url = receiver.url.replace("127.0.0.1", "localhost")

    results = in_a_new_thread(lambda: [post(url, message_id=f"msg_{n}") for n in range(2)])

    assert [(r.ok, r.status_code, r.body_prefix) for r in results] == [(True, 200, "ok")] * 2
    assert receiver.received[0].peer == receiver.received[1].peer


def test_the_deadline_also_cuts_an_answer_on_a_reused_tls_connection(
    tls_receivers: Callable[[Authority, Respond], Receiver], trusted: Authority
) -> None:
    receiver = tls_receivers(trusted, quick_then_trickling)
    url = receiver.url.replace("127.0.0.1", "localhost")

    first, second = in_a_new_thread(lambda: [post(url), post(url, timeout_seconds=0.5)])

    assert (first.ok, second.error_kind) == (True, ErrorKind.TIMEOUT)
    assert second.duration_ms < 5000
    assert receiver.received[0].peer == receiver.received[1].peer


def test_a_certificate_for_another_name_is_named_so(
    tls_receivers: Callable[[Authority, Respond], Receiver], trusted: Authority
) -> None:
    receiver = tls_receivers(trusted, answering(200))

    [result] = in_a_new_thread(lambda: [post(receiver.url)])

    port = receiver.server.server_port
    assert (result.error_kind, result.error) == (
        ErrorKind.CONNECTION,
        f"TLS failed with 127.0.0.1:{port}: certificate not valid for 127.0.0.1",
    )
    assert receiver.count == 0


def test_a_certificate_from_an_authority_nobody_trusts_is_not_accepted(
    tls_receivers: Callable[[Authority, Respond], Receiver], authority: Authority
) -> None:
    receiver = tls_receivers(authority, answering(200))
    url = receiver.url.replace("127.0.0.1", "localhost")

    [result] = in_a_new_thread(lambda: [post(url)])

    port = receiver.server.server_port
    assert result.error_kind == ErrorKind.CONNECTION
    assert result.error.startswith(f"TLS failed with localhost:{port}: certificate not accepted (")
    assert receiver.count == 0
