"""Fixtures for the approval round trips: the fakes of the answering services, an environment
pointing at them with a private state directory, and the hook run in the background."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import urllib.request

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from answering_services import FakeNtfy, FakeTelegram  # noqa: E402
from interop_fixtures import TEST_DATABASE_SERVER, binary, fresh_postgres_database, wait_until  # noqa: E402,F401

BOT_TOKEN = "123456789:AAE-approvals-secret_token0123456789"
USER_ID = 424242
NTFY_TOKEN = "tk_approvalsntfysecrettoken000"


@pytest.fixture()
def telegram():
    with FakeTelegram(BOT_TOKEN, USER_ID) as fake:
        yield fake


@pytest.fixture()
def ntfy():
    with FakeNtfy(NTFY_TOKEN) as fake:
        yield fake


@pytest.fixture()
def base_env(tmp_path: pathlib.Path) -> dict[str, str]:
    return {
        "MCP_PUSH_STATE_DIR": str(tmp_path / "state"),
        "MCP_PUSH_CONFIG": os.devnull,
        "XDG_CONFIG_HOME": "/nonexistent",
        "MCP_PUSH_TELEGRAM_POLL_SECONDS": "2",
        "MCP_PUSH_APPROVAL_TIMEOUT": "30",
        "MCP_PUSH_LOG_LEVEL": "info",
    }


@pytest.fixture()
def telegram_env(base_env: dict[str, str], telegram: FakeTelegram) -> dict[str, str]:
    return {**base_env, "TG_BOT_TOKEN": BOT_TOKEN, "TG_USER_ID": str(USER_ID), "TG_API_HOST": telegram.base_url}


@pytest.fixture()
def ntfy_env(base_env: dict[str, str], ntfy: FakeNtfy) -> dict[str, str]:
    return {**base_env, "NTFY_TOPIC": "phone-topic", "NTFY_URL": ntfy.base_url, "NTFY_TOKEN": NTFY_TOKEN}


@pytest.fixture(params=["sqlite", "postgres"])
def process_env(request, telegram_env: dict[str, str], tmp_path: pathlib.Path):
    """The environment of the n-th process sharing one state: one SQLite directory, or (as replicas on
    several machines would) one PostgreSQL database and a state directory of its own each."""
    if request.param == "sqlite":
        return lambda n: telegram_env
    if TEST_DATABASE_SERVER is None:
        pytest.skip("set MCP_PUSH_TEST_DATABASE_URL (scripts/test.sh does)")
    database = fresh_postgres_database()
    return lambda n: {**telegram_env, "MCP_PUSH_DATABASE_URL": database, "MCP_PUSH_STATE_DIR": str(tmp_path / f"state-{n}")}


def permission_payload(agent: str, cwd: str, command: str = "rm -rf build", session: str = "sess-1") -> str:
    """A PermissionRequest as the agent documents it."""
    if agent == "claude":
        return json.dumps({
            "session_id": session, "transcript_path": f"/home/u/.claude/projects/x/{session}.jsonl", "cwd": cwd,
            "permission_mode": "default", "hook_event_name": "PermissionRequest", "tool_name": "Bash",
            "tool_input": {"command": command, "description": "Remove the build folder"},
            "permission_suggestions": [{"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": command}],
                                        "behavior": "allow", "destination": "localSettings"}],
        })
    return json.dumps({
        "session_id": session, "turn_id": "turn-7", "transcript_path": None, "cwd": cwd, "hook_event_name": "PermissionRequest",
        "model": "gpt-5.5-codex", "permission_mode": "default", "tool_name": "Bash",
        "tool_input": {"command": command, "description": "Remove the build folder"},
    })


def start_hook(binary: str, env: dict[str, str], agent: str, payload: str) -> subprocess.Popen:
    process = subprocess.Popen([binary, "hook", agent], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, **env})
    process.stdin.write(payload.encode())
    process.stdin.close()
    process.stdin = None
    return process


def finish(process: subprocess.Popen, seconds: float = 60) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=seconds)
    return process.returncode, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def http_server(binary: str, env: dict[str, str], port: int):
    """`mcp-push serve --transport http` on `port`, once it answers /healthz; stopped (SIGTERM) at the end."""
    process = subprocess.Popen([binary, "serve", "--transport", "http", "--port", str(port)], env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: _up(port), 20), "the HTTP server did not start"
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
