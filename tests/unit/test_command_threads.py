"""EXPERI_COMMAND_THREADS: how many commands a server process runs at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from api.context import command_threads, run
from infrastructure.settings import Settings


@pytest.fixture
def two_threads() -> Iterator[None]:
    command_threads(2)
    try:
        yield
    finally:
        command_threads(Settings.from_env({}).command_threads)


def test_commands_run_in_as_many_threads_as_set(two_threads: None) -> None:
    lock = threading.Lock()
    running, most, names = [0], [0], set()

    def command() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            names.add(threading.current_thread().name)
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    async def six() -> None:
        await asyncio.gather(*(run(command) for _ in range(6)))

    asyncio.run(six())
    assert most[0] == 2 and len(names) == 2


def test_the_setting_defaults_to_eight_and_refuses_less_than_one() -> None:
    assert Settings.from_env({}).command_threads == 8
    assert Settings.from_env({"EXPERI_COMMAND_THREADS": " 3 "}).command_threads == 3
    for bad in ("0", "-1", "x", "2.5"):
        with pytest.raises(ValueError, match="EXPERI_COMMAND_THREADS"):
            Settings.from_env({"EXPERI_COMMAND_THREADS": bad})
