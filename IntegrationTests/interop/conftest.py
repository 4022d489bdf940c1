from __future__ import annotations

import os
import pathlib
import subprocess
import time
import uuid

import pytest

from fake_services import FakeBark

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEVICE_KEY = "InteropDeviceKey0123456789"


@pytest.fixture(scope="session")
def binary() -> str:
    path = os.environ.get("MCP_PUSH_BINARY") or str(ROOT / ".build" / "debug" / "mcp-push")
    if not os.access(path, os.X_OK):
        pytest.fail(f"mcp-push binary not found at {path}: run `swift build` first (scripts/test.sh does)")
    return path


@pytest.fixture(autouse=True)
def no_background_sender_outlives_its_test(tmp_path: pathlib.Path):
    """A message a test left queued for a service that is gone would be retried by its background sender
    for a day (as it should be for a user): the test's senders end with the test."""
    yield
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--drain" in command and any(
                variable.startswith(f"MCP_PUSH_STATE_DIR={tmp_path}".encode()) for variable in environment):
            try:
                os.kill(int(entry.name), 9)
            except ProcessLookupError:
                pass


@pytest.fixture()
def bark():
    with FakeBark(DEVICE_KEY) as fake:
        yield fake


@pytest.fixture()
def bark_env(bark: FakeBark, tmp_path: pathlib.Path) -> dict[str, str]:
    """Environment configuring only the bark channel, pointed at the fake, with a private state directory."""
    return {
        "MCP_PUSH_STATE_DIR": str(tmp_path / "state"),
        "BARK_PUSH": DEVICE_KEY,
        "MCP_PUSH_BARK_BASE_URL": bark.base_url,
        "MCP_PUSH_CONFIG": os.devnull,
        "XDG_CONFIG_HOME": "/nonexistent",
    }


TEST_DATABASE_SERVER = os.environ.get("MCP_PUSH_TEST_DATABASE_URL")


def fresh_postgres_database() -> str:
    """A new, empty database on the test PostgreSQL server (MCP_PUSH_TEST_DATABASE_URL; scripts/test.sh starts one)."""
    name = "t_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", TEST_DATABASE_SERVER, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return TEST_DATABASE_SERVER.rsplit("/", 1)[0] + f"/{name}?sslmode=disable"


def wait_until(condition, seconds: float) -> bool:
    """Polls `condition` every 0.1 s until it holds or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()
