"""A server killed after a send was recorded delivers the email after it restarts."""

from __future__ import annotations

import signal
import time

import httpx

from infrastructure.settings import Settings
from tests.e2e.test_server import base_env, make_key, server
from tests.mail_server import MailServer


def test_a_killed_server_delivers_after_restart_exactly_once(settings: Settings) -> None:
    mail = MailServer()  # down for now
    env = {
        **base_env(settings),
        "EXPERI_SMTP_URL": mail.url,
        "EXPERI_EMAIL_RETRY_SECONDS": "1",
        # An attempt cut short by the kill is retried once its claim lapses.
        "EXPERI_EMAIL_CLAIM_SECONDS": "3",
    }
    headers = make_key(env)
    with server(env, workers=1) as (base, served):
        c = httpx.post(
            f"{base}/api/v1/clients",
            json={"name": "Zed", "email": "zed@example.com"},
            headers=headers,
        ).json()
        inv = httpx.post(
            f"{base}/api/v1/invoices",
            json={
                "clientId": c["id"],
                "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 5}],
            },
            headers=headers,
        ).json()
        sent = httpx.post(f"{base}/api/v1/invoices/{inv['id']}/send", headers=headers)
        assert sent.status_code == 200 and sent.json()["emails"][0]["status"] == "QUEUED"
        served.proc.send_signal(signal.SIGKILL)  # no shutdown, no chance to deliver
        served.proc.wait(timeout=10)
    mail.start()
    try:
        with server(env, workers=1) as (base, _):
            deadline = time.monotonic() + 20
            while True:
                emails = httpx.get(f"{base}/api/v1/invoices/{inv['id']}", headers=headers).json()[
                    "emails"
                ]
                if emails[0]["status"] == "SENT" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert emails[0]["status"] == "SENT"
            time.sleep(1.5)  # a duplicate would arrive within the next passes
        assert len(mail.inbox.messages) == 1
        assert mail.inbox.messages[0]["To"] == "zed@example.com"
    finally:
        mail.stop()
