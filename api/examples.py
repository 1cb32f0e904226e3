"""The examples of the public contract, shown in the document next to the schemas."""

from __future__ import annotations

from typing import Any

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
    "clientId": "9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e",
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
SEND_EXAMPLE: dict[str, Any] = {
    "toEmail": "client@example.com",
    "subject": "Invoice #SI-001",
    "body": "Please find attached...",
}
RECURRING_EXAMPLE: dict[str, Any] = {
    "clientId": "9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e",
    "frequency": "MONTHLY",
    "interval": 1,
    "startDate": "2026-03-01T00:00:00Z",
    "currency": "GBP",
    "lineItems": [{"description": "Retainer", "quantity": 1, "unitPrice": 500.00}],
    "autoSend": False,
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
    "createdAt": "2026-02-10T14:03:07.000Z",
    "updatedAt": "2026-02-10T14:03:07.000Z",
}
DIGEST_EXAMPLE: dict[str, Any] = {
    "length": 42,
    "headHash": "9f2c0d6b5e0b8a51c3f4e2d1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1",
    "signedAt": "2026-02-10T14:03:07.000000Z",
    "signature": "c2lnbmF0dXJlIG9mIDY0IGJ5dGVzIGluIGJhc2U2NC4uLg==",
    "publicKeyId": "3f1a9c0e5b7d2e48",
}
VALIDATION_ERROR_EXAMPLE: dict[str, Any] = {
    "error": {
        "message": "Validation failed",
        "statusCode": 400,
        "code": "validation_failed",
        "requestId": "req_4f2a9c",
        "details": {
            "name": ["Name is required"],
            "lineItems.0.quantity": ["Must be greater than 0"],
        },
    }
}
