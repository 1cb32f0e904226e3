"""One signed webhook delivery over HTTP(S), to an address checked just before connecting.

The request is signed as Standard Webhooks specifies (`webhook-id`, `webhook-timestamp`,
`webhook-signature`). The connection goes to the IP address that was checked, while the
Host header and the TLS server name (and certificate check) use the URL's host name.
Redirects are not followed: a 3xx is a failed attempt, like any answer but a 2xx.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from infrastructure.webhook_targets import Refused, TargetPolicy

MAX_RESPONSE_BYTES = 1024
MAX_ERROR_CHARS = 500
USER_AGENT = "Experi-Webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    status_code: int | None  # None when no response arrived
    latency_ms: int
    error: str | None
    response_body: str | None  # at most 1 kB of it

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def clean(text: str, limit: int) -> str:
    """Text any database column takes (no NUL), cut to at most `limit` UTF-8 bytes."""
    raw = text.replace("\x00", "").encode("utf-8")[:limit]
    return raw.decode("utf-8", "ignore")  # a character cut in half is dropped


def signed_headers(secret: str, msg_id: str, body: str, at: float) -> dict[str, str]:
    moment = datetime.fromtimestamp(int(at), tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at)),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
    }


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    reached = False  # connected: from here on the request may arrive

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.reached = True


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address
        self.tls = context

    reached = False

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        self.reached = True


class WebhookSender:
    def __init__(
        self,
        targets: TargetPolicy,
        timeout: float = 10.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.targets = targets
        self.timeout = timeout
        self.tls = tls or ssl.create_default_context()

    def send(self, url: str, secret: str, msg_id: str, body: str) -> Outcome:
        """POST `body` to `url`, signed; never raises for what the network or the
        receiver does (that is the outcome)."""
        started = time.monotonic()
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            https = parts.scheme.lower() == "https"
            port = parts.port or (443 if https else 80)
            addresses = self.targets.addresses(host, port)
        except Refused as refused:
            return Outcome(None, _ms(started), clean(str(refused), MAX_ERROR_CHARS), None)
        except ValueError:
            return Outcome(None, _ms(started), "Invalid URL", None)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        payload = body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signed_headers(secret, msg_id, body, time.time()),
        }
        deadline = started + self.timeout
        error = "Could not connect"
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                error = f"Timed out after {self.timeout:g} s"
                break
            conn: _PinnedHTTP | _PinnedHTTPS = (
                _PinnedHTTPS(host, port, address, remaining, self.tls)
                if https
                else _PinnedHTTP(host, port, address, remaining)
            )
            # The socket timeout bounds each read; this bounds the whole attempt, so a
            # receiver that drips its answer cannot hold the worker (or its lease).
            watchdog = threading.Timer(remaining, _cut, args=(conn,))
            watchdog.daemon = True
            watchdog.start()
            try:
                conn.request("POST", target, body=payload, headers=headers)
                response = conn.getresponse()
                text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
                return Outcome(response.status, _ms(started), None, clean(text, MAX_RESPONSE_BYTES))
            except (OSError, http.client.HTTPException) as failure:
                error = _describe(failure, deadline, self.timeout)
                if conn.reached:
                    break  # the request may have arrived: the next address would repeat it
            finally:
                watchdog.cancel()
                conn.close()
        return Outcome(None, _ms(started), clean(error, MAX_ERROR_CHARS), None)


def _cut(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe(failure: BaseException, deadline: float, timeout: float) -> str:
    if isinstance(failure, TimeoutError) or time.monotonic() >= deadline:
        return f"Timed out after {timeout:g} s"
    if isinstance(failure, ConnectionRefusedError):
        return "Connection refused"
    if isinstance(failure, ssl.SSLError | ssl.CertificateError):
        return f"TLS error: {failure}"
    if isinstance(failure, http.client.HTTPException):
        return f"Invalid HTTP response ({type(failure).__name__})"
    if isinstance(failure, OSError) and failure.strerror:
        return f"Connection failed: {failure.strerror}"
    return f"Connection failed: {type(failure).__name__}"


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
