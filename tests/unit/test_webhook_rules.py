"""Webhook rules without I/O: URLs, event types, refused addresses, backoff, signatures."""

from __future__ import annotations

import base64
import ipaddress
import time

import pytest
from standardwebhooks.webhooks import Webhook

from application.webhooks import new_secret
from domain.errors import InvalidInput
from domain.event_types import EVENT_TYPES
from domain.webhook_endpoint import check_event_types, url_problem
from infrastructure.webhook_sender import clean, signed_headers
from infrastructure.webhook_settings import WebhookSettings
from infrastructure.webhook_targets import Refused, TargetPolicy, literal_address, refusal
from infrastructure.webhook_worker import backoff


@pytest.mark.parametrize(
    ("url", "allow_http", "problem"),
    [
        ("https://example.com/hooks", False, None),
        ("https://example.com:8443/h?x=1", False, None),
        ("https://[2606:2800:220:1::1]/h", False, None),
        ("http://example.com/hooks", False, "Must be an https URL"),
        ("http://example.com/hooks", True, None),
        ("ftp://example.com/", True, "Must be an http or https URL"),
        ("https://user:pass@example.com/", False, "Must not contain credentials"),
        ("https://token@example.com/", False, "Must not contain credentials"),
        ("https://example.com/" + "a" * 2030, False, "Must be at most 2048 characters"),
        ("https://exa mple.com/", False, "Must not contain spaces"),
        ("https://example.com/\x00", False, "control characters"),
        ("https:///path", False, "Must name a host"),
        ("https://example.com:99999/", False, "Must be a valid URL"),
        ("https://example.com/#frag", False, "Must not contain a fragment"),
        ("https://exämple.com/", False, "Must name a valid host"),
        ("https://[::1/", False, "Must be a valid URL"),
        ("example.com/hooks", False, "Must be an https URL"),
    ],
)
def test_endpoint_urls_are_absolute_https_without_credentials(
    url: str, allow_http: bool, problem: str | None
) -> None:
    found = url_problem(url, allow_http)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_event_types_are_known_types_or_the_wildcard_alone() -> None:
    assert check_event_types(["invoice.paid", "invoice.paid", "client.created"]) == [
        "invoice.paid",
        "client.created",
    ]
    assert check_event_types(["*"]) == ["*"]
    assert check_event_types(list(EVENT_TYPES)) == list(EVENT_TYPES)
    with pytest.raises(InvalidInput) as unknown:
        check_event_types(["invoice.paid", "invoice.exploded"])
    assert unknown.value.details == {"enabledEvents.1": ["Unknown event type: invoice.exploded"]}
    with pytest.raises(InvalidInput):
        check_event_types(["*", "invoice.paid"])
    with pytest.raises(InvalidInput):
        check_event_types([])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved, which Python files under private
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str, kind: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
     ("[::1]", "::1"), ("10.0.0.1", "10.0.0.1"), ("example.com", None), ("face.b00c", None)],
)  # fmt: skip
def test_literal_hosts_are_read_as_a_resolver_would(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address


def test_literal_internal_urls_are_refused_when_saved_unless_the_operator_allows() -> None:
    strict = TargetPolicy(allow_private=False, resolve=lambda h, p: ["93.184.216.34"])
    for url in (
        "https://127.0.0.1/h",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/h",
        "https://[::1]:8443/h",
        "https://[::ffff:7f00:1]/h",
        "https://2130706433/h",
    ):
        assert "Must not point to a" in (strict.url_problem(url) or ""), url
    assert strict.url_problem("https://example.com/h") is None
    assert strict.url_problem("https://localhost/h") is None  # a name: checked per delivery
    assert TargetPolicy(allow_private=True).url_problem("https://10.0.0.1/h") is None


def test_every_resolved_address_is_checked_at_delivery() -> None:
    answers = {"good.test": ["93.184.216.34"], "mixed.test": ["93.184.216.34", "10.0.0.7"]}
    policy = TargetPolicy(resolve=lambda host, port: answers[host])
    assert policy.addresses("good.test", 443) == ["93.184.216.34"]
    with pytest.raises(Refused, match=r"mixed\.test resolves to 10\.0\.0\.7, a private"):
        policy.addresses("mixed.test", 443)
    with pytest.raises(Refused, match="loopback"):
        policy.addresses("127.0.0.1", 443)
    with pytest.raises(Refused, match="Could not resolve"):
        TargetPolicy(resolve=lambda h, p: []).addresses("nothing.test", 443)
    relaxed = TargetPolicy(allow_private=True, resolve=lambda host, port: answers[host])
    assert relaxed.addresses("mixed.test", 443) == ["93.184.216.34", "10.0.0.7"]


def test_backoff_starts_at_5_seconds_doubles_and_stops_at_an_hour() -> None:
    settings = WebhookSettings()
    for failures, base in [(1, 5), (2, 10), (3, 20), (8, 640), (11, 3600), (500, 3600)]:
        delays = [backoff(failures, settings) for _ in range(50)]
        assert all(0.8 * base <= d <= min(1.2 * base, 3600) for d in delays), failures
        assert len(set(delays)) > 1  # jittered


def test_secrets_follow_standard_webhooks_and_sign_verifiably() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert new_secret() != secret
    body = '{"id":"e1","type":"invoice.paid"}'
    headers = signed_headers(secret, "e1", body, time.time())
    assert headers["webhook-id"] == "e1"
    assert Webhook(secret).verify(body, headers) == {"id": "e1", "type": "invoice.paid"}
    assert headers["webhook-signature"].startswith("v1,")


def test_stored_response_text_is_at_most_a_kilobyte_and_has_no_nul() -> None:
    assert clean("é" * 2000, 1024).encode() == ("é" * 512).encode()
    assert len(clean("x" * 5000, 1024)) == 1024
    assert clean("a\x00b", 1024) == "ab"
    assert len(clean("€" * 400, 1024).encode()) <= 1024


def test_the_attempts_retention_is_read_from_the_environment() -> None:
    assert WebhookSettings.from_env({}).attempts_kept_days == 30
    kept = WebhookSettings.from_env({"EXPERI_WEBHOOK_ATTEMPTS_KEPT_DAYS": "7"})
    assert kept.attempts_kept_days == 7
    with pytest.raises(ValueError, match="EXPERI_WEBHOOK_ATTEMPTS_KEPT_DAYS"):
        WebhookSettings.from_env({"EXPERI_WEBHOOK_ATTEMPTS_KEPT_DAYS": "0"})
