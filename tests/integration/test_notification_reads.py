"""The store's page reads (binary, tuple rows) return what the library's own query does,
for every form of the arguments the followers and the rebuild use."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eventsourcing.postgres import PostgresApplicationRecorder

from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from tests.support import META, make_tenant


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_pages_of_the_log_are_those_the_library_reads(postgres: Services) -> None:
    app = postgres.app
    tenant = make_tenant(postgres)
    client = app.create_client(tenant.account_id, {"name": "Zoë \x01 \u2028 Ltd"}, META)
    lines = (LineItem('Wörk \\ "quoted" \t tab', Decimal(3), Decimal("33.33")),)
    for _ in range(3):
        invoice = app.create_invoice(
            tenant.account_id, NewInvoice(client_id=client.id, line_items=lines), META
        )
        app.record_payment(tenant.account_id, invoice.id, Decimal(1), None, None, None, META)
    recorder = app.recorder
    latest = recorder.max_notification_id()
    assert latest is not None and latest > 10
    topics = sorted({n.topic for n in recorder.select_notifications(start=None, limit=1000)})
    forms = [
        {"start": start, "limit": limit, "stop": stop, "topics": chosen, "inclusive_of_start": inc}
        for start in (None, 1, 5, latest, latest + 1)
        for limit in (1, 3, 1000)
        for stop in (None, 7, latest)
        for chosen in ((), topics[:1], topics[1:3])
        for inc in (True, False)
    ]
    for form in forms:
        mine = recorder.select_notifications(**form)  # type: ignore[arg-type]
        library = PostgresApplicationRecorder.select_notifications(recorder, **form)  # type: ignore[arg-type]
        assert mine == library, form
        assert all(type(n.state) is bytes for n in mine)
    assert len(recorder.select_notifications(start=None, limit=1000)) == latest
    with pytest.raises(TypeError):
        recorder.select_notifications(start=None, limit=10, topics=topics[0])  # type: ignore[arg-type]
