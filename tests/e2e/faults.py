"""Fault tools for end-to-end tests: a server that can be SIGKILLed whole, a private
PostgreSQL cluster that can be stopped and started while a server uses it, and a
network namespace whose link to this host can be cut without a word."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from tests.e2e.test_server import EXPERI, free_port


class KillableServer:
    """`experi serve` in its own process group, so a SIGKILL takes every worker at once."""

    def __init__(self, env: dict[str, str], workers: int = 2, port: int | None = None) -> None:
        self.env = env
        self.workers = workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="experi-fault-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> KillableServer:
        with self.log.open("a") as sink:
            self.proc = subprocess.Popen(
                [*EXPERI, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no cleanup, like a power cut."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def close(self) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)


def postgres_bin() -> Path | None:
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").exists()), key=str)
    return versions[-1] / "bin" if versions else None


class PrivateCluster:
    """A throwaway PostgreSQL cluster on its own port, owned by the `postgres` user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="experi-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> PrivateCluster:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._as_postgres(self.bin / "initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        return self

    def allow(self, network: str) -> None:
        """Let clients from `network` (besides 127.0.0.1) in, without a password."""
        with (self.dir / "data" / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {network} trust\n")

    def start(self, listen: str = "127.0.0.1") -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={listen} -c fsync=off"
        self._as_postgres(
            self.bin / "pg_ctl", "-D", str(self.dir / "data"), "-o", options,
            "-l", str(self.dir / "log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(
            self.bin / "pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop"
        )

    def destroy(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def private_cluster(reachable_from: Namespace | None = None) -> Iterator[PrivateCluster | None]:
    """A running private cluster, or None where one cannot be made (no binaries, not
    root and not the postgres user); listening on 127.0.0.1, and on the address of this
    host that `reachable_from` sees, if given."""
    bin_dir = postgres_bin()
    can_switch = os.geteuid() == 0 and shutil.which("runuser") is not None
    if bin_dir is None or not (can_switch or _is_postgres_user()):
        yield None
        return
    cluster = PrivateCluster(bin_dir)
    try:
        cluster.init()
        if reachable_from is None:
            cluster.start()
        else:
            cluster.allow(reachable_from.network)
            cluster.start(listen=f"127.0.0.1,{reachable_from.host_ip}")
        yield cluster
    finally:
        cluster.destroy()


def _is_postgres_user() -> bool:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name == "postgres"
    except (ImportError, KeyError):
        return False


class Namespace:
    """A network namespace joined to this host by a veth pair: this host is `host_ip`,
    the namespace `inside_ip`. `cut()` takes the namespace's end down: from then on
    whatever either side sends is dropped, and nobody is told (no reset, no error)."""

    def __init__(self, tag: str, subnet: int) -> None:
        self.name = f"experi-{tag}"
        self.host_end, self.inside_end = f"exh{tag}", f"exn{tag}"
        self.host_ip, self.inside_ip = f"10.201.{subnet}.1", f"10.201.{subnet}.2"
        self.network = f"10.201.{subnet}.0/30"

    def run(self, *args: str) -> None:
        subprocess.run(["ip", "netns", "exec", self.name, *args], check=True, timeout=30)

    def command(self, *args: str) -> list[str]:
        """`args` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *args]

    def create(self) -> Namespace:
        ip = ["ip"]
        for args in (
            ["netns", "add", self.name],
            ["link", "add", self.host_end, "type", "veth", "peer", "name", self.inside_end],
            ["link", "set", self.inside_end, "netns", self.name],
            ["addr", "add", f"{self.host_ip}/30", "dev", self.host_end],
            ["link", "set", self.host_end, "up"],
        ):
            subprocess.run([*ip, *args], check=True, capture_output=True, timeout=30)
        self.run("ip", "addr", "add", f"{self.inside_ip}/30", "dev", self.inside_end)
        self.run("ip", "link", "set", self.inside_end, "up")
        self.run("ip", "link", "set", "lo", "up")
        return self

    def cut(self) -> None:
        self.run("ip", "link", "set", self.inside_end, "down")

    def destroy(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_end], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)


@contextmanager
def namespace() -> Iterator[Namespace | None]:
    """A new namespace, or None where one cannot be made (not root, no iproute2). Those
    left by runs that were killed are removed first; the subnet is one no link has."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield None
        return
    sweep()
    used = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    free = [n for n in range(1, 255) if f" 10.201.{n}." not in used]
    made = Namespace(f"{os.getpid() % 100000}", subnet=free[os.getpid() % len(free)])
    try:
        made.create()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        made.destroy()
        yield None
        return
    try:
        yield made
    finally:
        made.destroy()


def sweep() -> None:
    """Remove the namespaces (and links) of runs whose process is gone."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        tag = name.removeprefix("experi-")
        if name.startswith("experi-") and tag.isdigit() and not _alive(int(tag)):
            Namespace(tag, subnet=0).destroy()


def _alive(tag: int) -> bool:
    """Whether a process whose pid ends in `tag` (pid mod 100,000) still runs."""
    return any(int(pid) % 100000 == tag for pid in os.listdir("/proc") if pid.isdigit())
