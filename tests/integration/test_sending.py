"""Sending: the email arrives as asked, with its PDF, exactly once, whatever fails."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from pypdf import PdfReader

from api.services import build_services
from application.invoices import NewInvoice
from application.ports import RateLimited
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.mail import SmtpMailer
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter
from tests.mail_server import MailServer
from tests.support import META, FakeClock, Tenant, make_tenant

LINES = (LineItem("Web Development", Decimal(10), Decimal("75.00")),)


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def smtp_services(settings: Settings, url: str, clock: FakeClock | None = None) -> Services:
    s = dataclasses.replace(settings, smtp_url=url, email_retry_seconds=10, email_max_attempts=3)
    return build_services(s, clock or FakeClock())


def invoice_for(services: Services, tenant: Tenant, email: str | None = "john@acme.com") -> tuple:  # type: ignore[type-arg]
    services.app.update_profile(
        tenant.account_id,
        {
            "business_name": "Acme Web Studio Ltd",
            "tax_number": "GB123456789",
            "payment_instructions": "Sort code 12-34-56",
        },
        META,
    )
    client = services.app.create_client(
        tenant.account_id, {"name": "John Doe", "email": email, "city": "London"}, META
    )
    invoice = services.app.create_invoice(
        tenant.account_id,
        NewInvoice(client_id=client.id, line_items=LINES, tax_rate=Decimal(20), tax_name="VAT"),
        META,
    )
    return client, invoice


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_email_arrives_with_to_subject_body_and_the_pdf(
    settings: Settings, mail: MailServer
) -> None:
    services = smtp_services(settings, mail.url)
    try:
        tenant = make_tenant(services)
        _, invoice = invoice_for(services, tenant)
        services.app.send_invoice(
            tenant.account_id, invoice.id, "boss@acme.com", "Your invoice", "Pay soon", META
        )
        assert services.outbox.run_once() == 1
        [message] = mail.wait_for(1)
        assert message["To"] == "boss@acme.com" and message["Subject"] == "Your invoice"
        assert message.get_body(("plain",)).get_content().strip() == "Pay soon"  # type: ignore[union-attr]
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "Invoice-SI-001.pdf"
        text = pdf_text(attachment.get_content())
        for fragment in (
            "SI-001",
            "John Doe",
            "Acme Web Studio Ltd",
            "GB123456789",
            "900.00 GBP",
            "VAT (20%)",
            "Sort code 12-34-56",
            "Web Development",
        ):
            assert fragment in text
        stored = services.app.get_invoice(tenant.account_id, invoice.id)
        assert stored.status == "SENT"
        assert [(e.status, e.attempts) for e in stored.emails] == [("SENT", 1)]
        assert message["Message-ID"] == stored.emails[0].message_id
    finally:
        services.close()


def test_defaults_come_from_the_client_and_the_account(
    settings: Settings, mail: MailServer
) -> None:
    services = smtp_services(settings, mail.url)
    try:
        tenant = make_tenant(services)
        _, invoice = invoice_for(services, tenant)
        services.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
        services.outbox.run_once()
        [message] = mail.wait_for(1)
        assert message["To"] == "john@acme.com"
        assert message["Subject"] == "Invoice #SI-001 from Acme Web Studio Ltd"
        body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "900.00 GBP" in body and invoice.due_date.strftime("%d %B %Y") in body
    finally:
        services.close()


def test_smtp_down_then_up_delivers_exactly_once(settings: Settings) -> None:
    mail = MailServer()  # not started: the mail server is down
    clock = FakeClock()
    services = smtp_services(settings, mail.url, clock)
    try:
        tenant = make_tenant(services)
        _, invoice = invoice_for(services, tenant)
        services.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
        now = time.time()
        assert services.outbox.run_once(now) == 1  # fails: nobody listening
        email = services.app.get_invoice(tenant.account_id, invoice.id).emails[0]
        assert (email.status, email.attempts) == ("QUEUED", 1)
        assert services.outbox.run_once(now + 1) == 0  # backing off
        mail.start()
        assert services.outbox.run_once(now + 11) == 1
        for later in (now + 100, now + 1000):
            assert services.outbox.run_once(later) == 0
        assert len(mail.wait_for(1)) == 1
        time.sleep(0.2)
        assert len(mail.inbox.messages) == 1
        email = services.app.get_invoice(tenant.account_id, invoice.id).emails[0]
        assert (email.status, email.attempts) == ("SENT", 2)
    finally:
        mail.stop()
        services.close()


def test_after_the_last_attempt_the_email_is_failed_and_audited(settings: Settings) -> None:
    mail = MailServer()  # never started: its port refuses connections
    services = smtp_services(settings, mail.url)
    try:
        tenant = make_tenant(services)
        _, invoice = invoice_for(services, tenant)
        services.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
        now = time.time()
        for step in (0, 11, 32):  # 10 s, then 20 s of backoff
            assert services.outbox.run_once(now + step) == 1
        assert services.outbox.run_once(now + 10_000) == 0
        email = services.app.get_invoice(tenant.account_id, invoice.id).emails[0]
        assert (email.status, email.attempts) == ("FAILED", 3)
        actions = [
            e["action"]
            for e in services.queries.audit_log(
                tenant.account_id, AuditFilter(entity_id=str(invoice.id)), 100, None
            ).items
        ]
        assert actions[-3:] == [
            "invoice.email_attempt_failed",
            "invoice.email_attempt_failed",
            "invoice.email_failed",
        ]
    finally:
        services.close()
        mail.stop()


def test_a_queued_email_survives_a_restart(settings: Settings, mail: MailServer) -> None:
    first = smtp_services(settings, mail.url)
    tenant = make_tenant(first)
    _, invoice = invoice_for(first, tenant)
    first.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
    first.close()  # the process ends before its worker delivered anything
    second = smtp_services(settings, mail.url)
    try:
        assert second.outbox.run_once() == 1
        assert len(mail.wait_for(1)) == 1
        actions = [
            e["action"]
            for e in second.queries.audit_log(
                tenant.account_id, AuditFilter(entity_id=str(invoice.id)), 100, None
            ).items
        ]
        assert actions[-2:] == ["invoice.sent", "invoice.email_delivered"]
    finally:
        second.close()


def test_two_workers_never_send_one_email_twice(settings: Settings, mail: MailServer) -> None:
    a, b = smtp_services(settings, mail.url), smtp_services(settings, mail.url)
    try:
        tenant = make_tenant(a)
        _, invoice = invoice_for(a, tenant)
        for _ in range(3):
            a.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4) as pool:
            done = sum(pool.map(lambda s: s.outbox.run_once(), [a, b, a, b]))
        assert done == 3
        assert len(mail.wait_for(3)) == 3
        assert len({m["Message-ID"] for m in mail.inbox.messages}) == 3
    finally:
        a.close()
        b.close()


def test_smtp_urls_choose_tls_starttls_and_auth() -> None:
    plain = SmtpMailer("smtp://mail.example.com:2525")
    assert (plain.host, plain.port, plain.tls, plain.starttls, plain.user) == (
        "mail.example.com",
        2525,
        False,
        False,
        None,
    )
    secure = SmtpMailer("smtps://u%40x:p%3Ass@mail.example.com")
    assert (secure.port, secure.tls, secure.user, secure.password) == (465, True, "u@x", "p:ss")
    assert SmtpMailer("smtp://h:587?starttls=true").starttls is True


def test_retry_delays_double() -> None:
    from application.sending import DeliveryPolicy

    policy = DeliveryPolicy(max_attempts=5, base_delay=30)
    assert [policy.delay_after(n) for n in (1, 2, 3)] == [
        timedelta(seconds=s) for s in (30, 60, 120)
    ]


def test_a_send_whose_save_fails_is_not_counted(settings: Settings, monkeypatch: Any) -> None:
    services = build_services(dataclasses.replace(settings, email_hourly_limit=1), FakeClock())
    try:
        tenant = make_tenant(services)
        _, invoice = invoice_for(services, tenant)
        real_save = services.app.save
        failures: list[int] = []

        def conflicting_once(*objs: Any, **kwargs: Any) -> Any:
            if not failures:
                failures.append(1)
                raise IntegrityError("another writer got there first")
            return real_save(*objs, **kwargs)

        monkeypatch.setattr(services.app, "save", conflicting_once)
        # The first attempt's email is un-counted, so its retry fits the cap of one...
        sent = services.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
        assert failures and len(sent.emails) == 1
        # ...which the email actually queued has used up.
        with pytest.raises(RateLimited):
            services.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
        assert len(services.app.get_invoice(tenant.account_id, invoice.id).emails) == 1
    finally:
        services.close()


class CountingRenderer:
    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def render(self, invoice: Any, seller: Any, client: Any) -> bytes:
        self.calls += 1
        return bytes(self.inner.render(invoice, seller, client))


def test_an_unchanged_invoice_is_rendered_once_and_an_edit_renders_it_again(
    services: Services,
) -> None:
    renderer = CountingRenderer(services.app.document.renderer)  # type: ignore[union-attr]
    services.app.document.renderer = renderer  # type: ignore[union-attr]
    tenant = make_tenant(services)
    _, invoice = invoice_for(services, tenant)
    _, first = services.app.render_pdf(tenant.account_id, invoice.id)
    _, second = services.app.render_pdf(tenant.account_id, invoice.id)
    assert renderer.calls == 1 and second == first
    services.app.update_invoice(tenant.account_id, invoice.id, {"notes": "Thanks!"}, META)
    _, edited = services.app.render_pdf(tenant.account_id, invoice.id)
    assert renderer.calls == 2 and "Thanks!" in pdf_text(edited)
    # The download and the email of one version are the same document, rendered once.
    services.app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
    _, downloaded = services.app.render_pdf(tenant.account_id, invoice.id)
    assert services.outbox.run_once() == 1
    [eml] = (services.settings.data_dir / "outbox").glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == downloaded and renderer.calls == 3
