"""A local port where nothing listens, held for as long as a test needs it."""

from __future__ import annotations

import socket


def refusing_port() -> socket.socket:
    """A socket bound to a free local port without listening, and without SO_REUSEADDR:
    connecting to the port is refused, and while the socket is open no other test's
    server (under `pytest -n 2`) can take the port, as it could once a port bound and
    closed again was free. Close it to let the port go."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    return held
