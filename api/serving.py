"""Several server processes on one port, each listening on a socket of its own.

uvicorn's workers share one listening socket, and the kernel hands a burst of new
connections to whichever process happens to be accepting: with 32 keep-alive
connections opened at once, 26 to 31 landed on one of two workers, leaving the other
core idle. With SO_REUSEPORT each process listens on its own socket and the kernel
spreads connections across them evenly. Where the option is missing, uvicorn's own
workers serve instead.

The parent only supervises: a worker that dies is replaced; one that cannot start (a
port in use, an app that fails its start-up) stops them all; SIGINT or SIGTERM stops
them all gracefully. Given `jobs`, one more process runs it (the background jobs,
api/jobs.py), supervised alike, and the workers run with `worker_env` added.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

STOP_SECONDS = 30.0
Spec = tuple[Callable[..., None], tuple[Any, ...]]  # a process's target and arguments


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket on the shared port, bound but not listening: the kernel gives it no
    connection until uvicorn listens on it, once the app has started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_one(options: dict[str, Any], env: Mapping[str, str] | None = None) -> None:
    """One worker: its own socket on the shared port, then uvicorn on it. A worker that
    cannot start exits with uvicorn's STARTUP_FAILURE code, as uvicorn's own do."""
    os.environ.update(env or {})  # read by the app's factory, which uvicorn calls below
    config = uvicorn.Config(**options)
    try:
        sock = bound_socket(config.host, config.port)
    except OSError as error:
        print(f"Cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    options: dict[str, Any],
    workers: int,
    jobs: Callable[[], None] | None = None,
    worker_env: Mapping[str, str] | None = None,
) -> int:
    """Run `workers` processes of uvicorn with `options` (uvicorn.Config's keywords),
    and `jobs` in a process of its own when given. Without SO_REUSEPORT, uvicorn's own
    workers serve, and `jobs` and `worker_env` are left out: each worker then runs the
    background jobs itself, as with one worker."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(**options, workers=workers)
        return 0
    context = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _: stopping.append(signum))

    def start(spec: Spec) -> BaseProcess:
        process = context.Process(target=spec[0], args=spec[1], daemon=False)
        process.start()
        return process

    specs: list[Spec] = [(serve_one, (options, dict(worker_env or {})))] * workers
    specs += [(jobs, ())] if jobs else []
    running = [start(spec) for spec in specs]
    failed = False
    while not stopping and not failed:
        time.sleep(0.2)
        for i, process in enumerate(running):
            if process.is_alive() or stopping:
                continue
            if process.exitcode == STARTUP_FAILURE:  # it would fail again: stop
                print("A server process failed to start", file=sys.stderr)
                failed = True
                break
            running[i] = start(specs[i])  # it died while serving: replace it
    for process in running:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests under way
    for process in running:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
    return 1 if failed else 0
