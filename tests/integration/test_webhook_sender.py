"""The sender connects to the address it checked, speaking TLS to the URL's host name."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infrastructure.webhook_sender import WebhookSender
from infrastructure.webhook_targets import TargetPolicy
from tests.webhook_receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = '{"id":"evt-1","type":"invoice.paid"}'


def certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, ssl.SSLContext]]:
    cert_file, key_file = certificate(tmp_path, "webhooks.test")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert_file, key_file)
    trusting = ssl.create_default_context(cafile=str(cert_file))
    receiver = Receiver(secret=SECRET)
    receiver.server.socket = server_side.wrap_socket(receiver.server.socket, server_side=True)
    with receiver:
        yield receiver, trusting


def test_https_goes_to_the_checked_address_with_the_names_host_and_certificate(
    tls_receiver: tuple[Receiver, ssl.SSLContext],
) -> None:
    receiver, trusting = tls_receiver
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]  # "webhooks.test" exists only here

    sender = WebhookSender(TargetPolicy(allow_private=True, resolve=resolve), 5.0, trusting)
    url = f"https://webhooks.test:{receiver.port}/in"
    outcome = sender.send(url, SECRET, "evt-1", BODY)
    assert outcome.delivered and outcome.response_body == "ok", outcome
    [got] = receiver.received
    assert got.verified and got.headers["host"] == f"webhooks.test:{receiver.port}"
    assert lookups == ["webhooks.test"]  # resolved once, then connected to that address


def test_a_certificate_for_another_name_is_a_failed_attempt(
    tls_receiver: tuple[Receiver, ssl.SSLContext],
) -> None:
    receiver, trusting = tls_receiver
    policy = TargetPolicy(allow_private=True, resolve=lambda host, port: ["127.0.0.1"])
    outcome = WebhookSender(policy, 5.0, trusting).send(
        f"https://elsewhere.test:{receiver.port}/in", SECRET, "evt-1", BODY
    )
    assert not outcome.delivered and outcome.status_code is None
    assert outcome.error is not None and outcome.error.startswith("TLS error")
    assert receiver.received == []


def test_a_name_rebound_to_an_internal_address_is_refused_at_delivery() -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    policy = TargetPolicy(allow_private=False, resolve=lambda host, port: next(answers))
    assert policy.url_problem("https://rebind.test/h") is None  # a name: fine when saved
    assert policy.addresses("rebind.test", 443) == ["93.184.216.34"]
    outcome = WebhookSender(policy, 2.0).send("https://rebind.test/h", SECRET, "evt-1", BODY)
    assert outcome.status_code is None and outcome.error is not None
    assert "rebind.test resolves to 127.0.0.1, a loopback address" in outcome.error


def test_redirects_are_not_followed() -> None:
    with Receiver(secret=SECRET, default=302) as receiver:
        policy = TargetPolicy(allow_private=True)
        outcome = WebhookSender(policy, 2.0).send(receiver.url(), SECRET, "evt-1", BODY)
    assert outcome.status_code == 302 and not outcome.delivered
