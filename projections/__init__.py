"""Read models fed by events: client list, invoice list and outstanding invoices."""
