"""A client generated from the served document bills and is paid, money as JSON numbers."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from infrastructure.settings import Settings
from tests.e2e.test_server import base_env, create_key, server

PACKAGE = "experi_api_client"
# PDF is a binary download; the generator knows binaries as application/octet-stream.
CONFIG = {
    "content_type_overrides": {"application/pdf": "application/octet-stream"},
    "post_hooks": [],
}


def generate(document: dict[str, Any], into: Path) -> str:
    """Generate the client package into `into`; returns the generator's output."""
    spec = into / "openapi.json"
    spec.write_text(json.dumps(document))
    config = into / "config.json"
    config.write_text(json.dumps(CONFIG))
    tool = Path(sys.executable).with_name("openapi-python-client")
    command = [
        str(tool), "generate", "--path", str(spec), "--meta", "none",
        "--output-path", str(into / PACKAGE), "--config", str(config),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.fixture
def imported(tmp_path: Path) -> Iterator[Any]:
    """Imports modules of the generated package (from tmp_path), then forgets them."""
    sys.path.insert(0, str(tmp_path))

    def load(name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}" if name else PACKAGE)

    try:
        yield load
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_bills_and_is_paid(
    settings: Settings, tmp_path: Path, imported: Any
) -> None:
    env = base_env(settings)
    token = create_key(env)["key"]
    with server(env, workers=1) as (base, _):
        output = generate(httpx.get(f"{base}/openapi.json").json(), tmp_path)
        assert "warning" not in output.lower(), output

        api = imported("").AuthenticatedClient(base_url=base, token=token)
        models = imported("models")
        create_client = imported("api.clients.create_client")
        create_invoice = imported("api.invoices.create_invoice")
        record_payment = imported("api.invoices.record_payment")

        client = create_client.sync(client=api, body=models.ClientCreate(name="Zed Ltd"))
        assert isinstance(client, models.ClientOut) and client.name == "Zed Ltd"

        line = models.LineItemIn(description="Design", quantity=1.5, unit_price=75.25)
        body = models.InvoiceCreate(
            client_id=client.id, line_items=[line], currency=models.Currency.GBP, tax_rate=20
        )
        created = create_invoice.sync_detailed(client=api, body=body)
        assert created.status_code == 201, created.content
        # 1.5 x 75.25 = 112.875 -> 112.88; 20% tax 22.576 -> 22.58; total 135.46
        assert b'"total":135.46' in created.content and b'"unitPrice":75.25' in created.content
        invoice = created.parsed
        assert isinstance(invoice, models.InvoiceOut)
        assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (112.88, 22.58, 135.46)

        payment = models.PaymentCreate(amount=35.46, payment_method="Card")
        paid = record_payment.sync_detailed(client=api, invoice_id=invoice.id, body=payment)
        assert paid.status_code == 200, paid.content
        assert b'"amountDue":100.00' in paid.content and b'"amount":35.46' in paid.content
        assert paid.parsed.status == "PARTIALLY_PAID" and paid.parsed.amount_due == 100

        refused = create_invoice.sync_detailed(
            client=api, body=models.InvoiceCreate(client_id=client.id, line_items=[])
        )
        assert refused.status_code == 400
        assert refused.parsed.error.code == "validation_failed"
        assert "lineItems" in refused.parsed.error.details.to_dict()
