"""Mail delivery: real SMTP (plain, STARTTLS or TLS, with auth) or .eml files."""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from application.ports import OutgoingEmail


def build_message(email: OutgoingEmail) -> EmailMessage:
    """The MIME message; its Message-ID is the delivery's, so a retry is the same message."""
    message = EmailMessage()
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(usegmt=True)
    message["From"] = email.sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.body)
    message.add_attachment(
        email.attachment, maintype="application", subtype="pdf", filename=email.attachment_name
    )
    return message


class SmtpMailer:
    """`smtp://[user:pass@]host:port[?starttls=true]` or `smtps://...` (TLS from the start)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("EXPERI_SMTP_URL must start with smtp:// or smtps://")
        query = parse_qs(parts.query)
        self.tls = parts.scheme == "smtps"
        self.starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, email: OutgoingEmail) -> None:
        message = build_message(email)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class FileMailer:
    """Writes each email as `<email id>.eml` (atomically; a retry overwrites the same file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, email: OutgoingEmail) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = email.message_id.strip("<>").split("@")[0] + ".eml"
        data = build_message(email).as_bytes()
        fd, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, self.directory / name)
