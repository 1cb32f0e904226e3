"""`experi serve --workers N`: connections spread over the workers, a dead worker is
replaced, SIGTERM stops every process, and a port in use fails at once. On PostgreSQL
the background jobs run in one process of their own, woken by the workers' commits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg
import pytest

from infrastructure.commit_listener import APPLICATION_NAME
from infrastructure.settings import Settings
from tests.e2e.faults import KillableServer
from tests.e2e.test_server import EXPERI, base_env, free_port, make_key
from tests.e2e.test_webhook_delivery import WEBHOOKS, post, subscribe
from tests.webhook_receiver import Receiver


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def servers(pid: int, port: int) -> list[int]:
    """The children of `pid` that listen on `port` (not multiprocessing's helpers)."""
    return [child for child in children(pid) if connections(child, port, state="0A")]


def sockets(pid: int) -> list[tuple[int, int, str]]:
    """(local port, remote port, state) of each TCP socket the process holds."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return []
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing (the listing's own, in this process)
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                local, remote = (int(fields[i].rsplit(":", 1)[1], 16) for i in (1, 2))
                found.append((local, remote, fields[3]))
    return found


def peers(pid: int, port: int, state: str = "01") -> list[int]:
    """The remote ports of the sockets on local `port` in `state` (01 established, 0A
    listening) the process holds."""
    return [remote for local, remote, at in sockets(pid) if local == port and at == state]


def connections(pid: int, port: int, state: str = "01") -> int:
    return len(peers(pid, port, state))


def wait_until(check: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc")
def test_workers_share_the_connections_and_one_that_dies_is_replaced(settings: Settings) -> None:
    server = KillableServer(base_env(settings), workers=2).start()
    try:
        assert server.proc is not None
        parent = server.proc.pid
        wait_until(lambda: len(servers(parent, server.port)) == 2)
        clients = [httpx.Client(base_url=server.base) for _ in range(32)]
        try:
            for client in clients:
                assert client.get("/health/live").status_code == 200  # kept alive
            # Only this test's clients count: a probe or another test's connection may be open.
            ours = {lo for lo, re, at in sockets(os.getpid()) if re == server.port and at == "01"}
            assert len(ours) == 32
            held = Counter(
                {
                    pid: len(ours.intersection(peers(pid, server.port)))
                    for pid in servers(parent, server.port)
                }
            )
            assert sum(held.values()) == 32
            assert min(held.values()) >= 4, held  # uvicorn's shared socket gave 1 to 6 of 32
        finally:
            for client in clients:
                client.close()

        victim = servers(parent, server.port)[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: victim not in children(parent) and len(servers(parent, server.port)) == 2
        )
        assert httpx.get(f"{server.base}/health/live").status_code == 200

        workers = servers(parent, server.port)
        os.kill(parent, signal.SIGTERM)  # the parent alone: it stops its workers
        server.proc.wait(timeout=60)
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers))
    finally:
        server.kill()


def test_a_port_in_use_stops_the_server_with_an_error(settings: Settings) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            [*EXPERI, "serve", "--port", str(port), "--workers", "2"],
            env=base_env(settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert "failed to start" in done.stderr or "in use" in done.stderr


def listeners(settings: Settings) -> list[int]:
    """The local ports of the store's commit listeners' connections to PostgreSQL."""
    with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT client_port FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,),
        ).fetchall()
    return [int(row[0]) for row in rows]


def holders(parent: int, ports: list[int]) -> list[int]:
    """The children of `parent` holding a connection from one of these local ports."""
    return [pid for pid in children(parent) if any(connections(pid, p) for p in ports)]


def jobs_process(server: KillableServer, settings: Settings, replacing: int = 0) -> int:
    """The server's one jobs process (a child holding the commit listener's connection,
    not a worker), once it listens; with `replacing`, the one started after that died."""
    assert server.proc is not None
    parent = server.proc.pid

    def found() -> list[int]:
        return holders(parent, listeners(settings))

    wait_until(lambda: len(servers(parent, server.port)) == server.workers
               and found() not in ([], [replacing]), seconds=60)  # fmt: skip
    jobs = found()
    assert len(jobs) == 1 and jobs[0] not in servers(parent, server.port)
    return jobs[0]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_on_postgres_the_background_jobs_run_apart_and_hear_every_workers_commits(
    settings: Settings,
) -> None:
    # Without a wake-up from the commits, the webhook worker would pass only every 5 min.
    env = {**base_env(settings), **WEBHOOKS, "EXPERI_WEBHOOK_INTERVAL_SECONDS": "300"}
    headers = make_key(env)
    with Receiver() as receiver:
        server = KillableServer(env, workers=2).start()
        try:
            first = jobs_process(server, settings)
            os.kill(first, signal.SIGKILL)  # the jobs process dies: another one starts
            jobs = jobs_process(server, settings, replacing=first)

            subscribe(server.base, headers, receiver, ["client.created"])
            post(server.base, "/api/v1/clients", {"name": "First"}, headers)
            receiver.wait_for(1, timeout=10)  # a worker's commit woke the jobs process
            post(server.base, "/api/v1/clients", {"name": "Second"}, headers)
            receiver.wait_for(2, timeout=10)
            assert len(listeners(settings)) == 1  # one jobs process, whichever worker served

            assert server.proc is not None
            os.kill(server.proc.pid, signal.SIGTERM)  # the parent alone: it stops the jobs too
            server.proc.wait(timeout=60)
            wait_until(lambda: not Path(f"/proc/{jobs}").exists())
            assert not listeners(settings)
        finally:
            server.close()
    assert [r.webhook_id for r in receiver.received] == list(dict.fromkeys(receiver.ids()))
