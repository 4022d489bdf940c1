"""Nothing lost across real processes: a sender killed mid-delivery, a client that closes
stdin while a call is under way, and a CLI send whose queued delivery goes out in the
background without any further command. Progress reaches a client waiting on a slow call."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import time

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import wait_until


def outbox(binary: str, env: dict[str, str]) -> list[dict]:
    done = subprocess.run([binary, "outbox", "--json"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def history(binary: str, env: dict[str, str]) -> list[dict]:
    done = subprocess.run([binary, "history", "--json"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def flushers(state_dir: str) -> list[int]:
    """Background flushers working this state directory."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"--drain" in command and f"MCP_PUSH_STATE_DIR={state_dir}".encode() in environment:
            found.append(int(entry.name))
    return found


def test_sigkill_during_a_send_loses_nothing(binary, bark, bark_env):
    # The service holds the request 10 s, then fails: the sender is killed while it waits.
    env = {**os.environ, **bark_env, "MCP_PUSH_TIMEOUT": "3", "MCP_PUSH_DEADLINE": "3", "MCP_PUSH_RETRIES": "0"}
    bark.hang = 10
    sender = subprocess.Popen([binary, "send", "-t", "Release 2.0", "-c", "tagged"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    assert sender.poll() is None, "still waiting for the service"
    sender.send_signal(signal.SIGKILL)
    sender.wait()
    bark.hang = 0

    # Written ahead: the delivery is in the outbox, under way in the dead process, and in the history.
    waiting = outbox(binary, env)
    assert [(item["channel"], item["state"], item["reason"], item["title"]) for item in waiting] == [
        ("bark", "sending", "interrupted", "Release 2.0")]

    # Its claim ends 16 s after the start (deadline 3 s, one more attempt of 3 s, 10 s of margin);
    # then any process with the channel sends it, once.
    started = time.monotonic()
    while time.monotonic() - started < 40 and not bark.delivered_titles():
        subprocess.run([binary, "outbox", "--flush"], env=env, capture_output=True, timeout=30)
        time.sleep(1)
    assert bark.delivered_titles() == ["Release 2.0"]
    assert outbox(binary, env) == []


def test_stdin_closed_during_a_call_queues_the_delivery(binary, bark, bark_env):
    env = {**os.environ, **bark_env, "MCP_PUSH_TIMEOUT": "3", "MCP_PUSH_DEADLINE": "6", "MCP_PUSH_RETRIES": "0"}
    bark.hang = 8
    server = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "closing-client", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "notify_send", "arguments": {"title": "Migration done", "content": "42 tables"}}},
    ]
    server.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
    server.stdin.flush()
    assert json.loads(server.stdout.readline())["id"] == 1
    time.sleep(0.5)
    server.stdin.close()
    # The server drains for the channel timeout and 2 s, then interrupts the call and exits.
    assert server.wait(timeout=15) == 0
    bark.hang = 0

    waiting = outbox(binary, env)
    assert [(item["channel"], item["state"], item["title"]) for item in waiting] == [("bark", "waiting", "Migration done")]
    deliveries = history(binary, env)
    assert deliveries and deliveries[0]["queued"] is True
    flushed = subprocess.run([binary, "outbox", "--flush"], env=env, capture_output=True, text=True, timeout=30)
    assert flushed.returncode == 0, flushed.stderr
    assert bark.delivered_titles() == ["Migration done"]


def test_a_cli_send_that_queues_is_delivered_in_the_background(binary, bark, bark_env):
    env = {**os.environ, **bark_env, "MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "1.5", "MCP_PUSH_RETRIES": "0"}
    bark.up = False
    sent = subprocess.run([binary, "send", "-t", "Backup finished", "-c", "3.2 GB", "--json"], env=env,
                          capture_output=True, text=True, timeout=30)
    assert sent.returncode == 1, sent.stderr
    result = json.loads(sent.stdout)
    assert result["status"] == "queued"
    assert "in the background" in result["results"][0]["error"]
    # Another agent's process, configured for another channel, leaves it alone.
    other = {**env, "BARK_PUSH": "", "DD_BOT_TOKEN": "DingAccessToken0123456789abcdef"}
    subprocess.run([binary, "outbox", "--flush"], env=other, capture_output=True, timeout=30)
    assert [item["state"] for item in outbox(binary, env)] == ["waiting"]

    bark.up = True
    # No further command: the flusher the send left behind retries (first after about 5 s).
    assert wait_until(lambda: bark.delivered_titles() == ["Backup finished"], 30), bark.requests
    assert wait_until(lambda: not flushers(env["MCP_PUSH_STATE_DIR"]), 10), "the flusher exits once nothing waits"
    assert outbox(binary, env) == []
    assert [d["source"] for d in history(binary, env)][:1] == ["outbox"]


def test_progress_reaches_a_client_waiting_on_a_slow_channel(binary, bark, bark_env):
    env = {**bark_env, "MCP_PUSH_TIMEOUT": "5", "MCP_PUSH_DEADLINE": "5", "MCP_PUSH_RETRIES": "0"}
    bark.hang = 4.5
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async def main():
        parameters = StdioServerParameters(command=binary, args=["--transport", "stdio"], env=env)
        async with Client(parameters) as client:
            return await client.call_tool("notify_send", {"title": "Slow", "content": "channel"}, progress_callback=on_progress)

    anyio.run(main)
    assert len(updates) >= 1, updates
    values = [u[0] for u in updates]
    assert values == sorted(values) and len(set(values)) == len(values), "progress only grows"
    assert any("waiting for bark" in (u[2] or "") for u in updates), updates

