"""Request body schemas, for the OpenAPI document (validation is api/validation.py's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from api.schemas import Struct

Text = str | None
Day = Annotated[
    str,
    msgspec.Meta(
        description="`YYYY-MM-DD` or an RFC 3339 date-time (reduced to its UTC date), "
        "from 2000-01-01 to 2100-12-31"
    ),
]
StartDay = Annotated[
    str,
    msgspec.Meta(
        description="`YYYY-MM-DD` or an RFC 3339 date-time, within the last 366 days "
        "and the next 10 years"
    ),
]


class ClientCreate(Struct):
    name: str
    company: Text = None
    email: Text = None
    phone: Text = None
    address_line1: Text = None
    address_line2: Text = None
    city: Text = None
    county: Text = None
    postcode: Text = None
    country: Text = None
    tax_number: Text = None
    notes: Text = None


class ClientUpdate(Struct):
    name: str | msgspec.UnsetType = msgspec.UNSET
    company: Text = None
    email: Text = None
    phone: Text = None
    address_line1: Text = None
    address_line2: Text = None
    city: Text = None
    county: Text = None
    postcode: Text = None
    country: Text = None
    tax_number: Text = None
    notes: Text = None


class LineItemIn(Struct):
    description: str
    quantity: Decimal
    unit_price: Decimal


class InvoiceCreate(Struct):
    client_id: str
    line_items: list[LineItemIn]
    issue_date: Day | None = None
    due_date: Day | None = None
    currency: str = "GBP"
    tax_name: Text = None
    tax_rate: Decimal = Decimal(0)
    notes: Text = None
    status: Literal["DRAFT", "SENT"] = "DRAFT"


class InvoiceUpdate(Struct):
    client_id: str | msgspec.UnsetType = msgspec.UNSET
    line_items: list[LineItemIn] | msgspec.UnsetType = msgspec.UNSET
    issue_date: Day | msgspec.UnsetType = msgspec.UNSET
    due_date: Day | msgspec.UnsetType = msgspec.UNSET
    currency: str | msgspec.UnsetType = msgspec.UNSET
    tax_name: Text = None
    tax_rate: Decimal | msgspec.UnsetType = msgspec.UNSET
    notes: Text = None


class PaymentCreate(Struct):
    amount: Decimal | msgspec.UnsetType = msgspec.UNSET
    payment_date: Day | msgspec.UnsetType = msgspec.UNSET
    payment_method: Text = None
    reference: Text = None


CLIENT_EXAMPLE: dict[str, Any] = {
    "name": "John Doe",
    "company": "Acme Corp",
    "email": "john@acme.com",
    "phone": "+44 20 1234 5678",
    "addressLine1": "123 Business St",
    "city": "London",
    "postcode": "SW1A 1AA",
    "country": "United Kingdom",
}
INVOICE_EXAMPLE: dict[str, Any] = {
    "clientId": "client_id_here",
    "issueDate": "2026-02-10T00:00:00Z",
    "dueDate": "2026-02-24T00:00:00Z",
    "currency": "GBP",
    "taxName": "VAT",
    "taxRate": 20,
    "lineItems": [{"description": "Web Development", "quantity": 10, "unitPrice": 75.00}],
    "status": "DRAFT",
}
PAYMENT_EXAMPLE: dict[str, Any] = {
    "paymentDate": "2026-02-10T00:00:00Z",
    "amount": 900.00,
    "paymentMethod": "Bank Transfer",
    "reference": "TXN-123456",
}
INVOICE_RESPONSE_EXAMPLE: dict[str, Any] = {
    "id": "3f0c1c2e-8a9b-4c1d-9e2f-1a2b3c4d5e6f",
    "invoiceNumber": "SI-001",
    "clientId": "9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e",
    "status": "DRAFT",
    "issueDate": "2026-02-10T00:00:00Z",
    "dueDate": "2026-02-24T00:00:00Z",
    "currency": "GBP",
    "taxName": "VAT",
    "taxRate": 20,
    "lineItems": [
        {"description": "Web Development", "quantity": 10, "unitPrice": 75.00, "amount": 750.00}
    ],
    "subtotal": 750.00,
    "taxAmount": 150.00,
    "total": 900.00,
    "amountPaid": 0.00,
    "amountDue": 900.00,
    "payments": [],
    "emails": [],
    "isOverdue": False,
    "notes": None,
    "recurringInvoiceId": None,
    "sentAt": None,
    "paidAt": None,
    "voidedAt": None,
    "createdAt": "2026-02-10T14:03:07Z",
    "updatedAt": "2026-02-10T14:03:07Z",
}
ERROR_EXAMPLE: dict[str, Any] = {
    "error": {
        "message": "Validation failed",
        "statusCode": 400,
        "details": {
            "name": ["Name is required"],
            "lineItems.0.quantity": ["Must be greater than 0"],
        },
    }
}


class SendRequest(Struct):
    to_email: Text = None
    subject: Text = None
    body: Text = None


SEND_EXAMPLE: dict[str, Any] = {
    "toEmail": "client@example.com",
    "subject": "Invoice #SI-001",
    "body": "Please find attached...",
}


class AccountUpdate(Struct):
    name: str | msgspec.UnsetType = msgspec.UNSET
    business_name: Text = None
    address_line1: Text = None
    address_line2: Text = None
    city: Text = None
    postcode: Text = None
    country: Text = None
    email: Text = None
    phone: Text = None
    tax_number: Text = None
    payment_instructions: Text = None
    invoice_prefix: Text = None


class RecurringCreate(Struct):
    client_id: str
    frequency: Literal["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY"]
    start_date: StartDay
    line_items: list[LineItemIn]
    interval: int = 1
    end_date: Day | None = None
    max_occurrences: int | None = None
    currency: str = "GBP"
    tax_name: Text = None
    tax_rate: Decimal = Decimal(0)
    notes: Text = None
    payment_terms_days: int = 14
    auto_send: bool = False


class RecurringUpdate(Struct):
    client_id: str | msgspec.UnsetType = msgspec.UNSET
    frequency: str | msgspec.UnsetType = msgspec.UNSET
    interval: int | msgspec.UnsetType = msgspec.UNSET
    start_date: StartDay | msgspec.UnsetType = msgspec.UNSET
    end_date: Day | None = None
    max_occurrences: int | None = None
    line_items: list[LineItemIn] | msgspec.UnsetType = msgspec.UNSET
    currency: str | msgspec.UnsetType = msgspec.UNSET
    tax_name: Text = None
    tax_rate: Decimal | msgspec.UnsetType = msgspec.UNSET
    notes: Text = None
    payment_terms_days: int | msgspec.UnsetType = msgspec.UNSET
    auto_send: bool | msgspec.UnsetType = msgspec.UNSET


RECURRING_EXAMPLE: dict[str, Any] = {
    "clientId": "client_id_here",
    "frequency": "MONTHLY",
    "interval": 1,
    "startDate": "2026-03-01T00:00:00Z",
    "currency": "GBP",
    "lineItems": [{"description": "Retainer", "quantity": 1, "unitPrice": 500.00}],
    "autoSend": False,
}
