"""The outbox across real processes: a queued delivery survives SIGKILL, and two
processes flushing the same outbox send each delivery once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import wait_until

FAST_FAILURE = {"MCP_PUSH_TIMEOUT": "1", "MCP_PUSH_DEADLINE": "2", "MCP_PUSH_RETRIES": "1"}


def rpc(process: subprocess.Popen, message: dict) -> dict | None:
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()
    if "id" not in message:
        return None
    while True:
        line = process.stdout.readline()
        assert line, "the server closed stdout"
        answer = json.loads(line)
        if answer.get("id") == message["id"]:
            return answer


def test_queued_delivery_survives_sigkill_and_is_sent_exactly_once(binary, bark, bark_env):
    env = {**os.environ, **bark_env, **FAST_FAILURE}
    bark.up = False
    server = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "outbox-test", "version": "1"}}})
        rpc(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        answer = rpc(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "notify_send", "arguments": {"title": "Nightly build", "content": "green"}}})
        result = answer["result"]["structuredContent"]
        assert result["status"] == "queued", result
        assert result["results"][0]["queued"] is True
        assert "1 queued" in result["message"]
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    assert bark.delivered_titles() == []

    bark.up = True
    # Any new mcp-push process works the outbox: here a server started by the official client.
    params = StdioServerParameters(command=binary, args=["--transport", "stdio"], env={**bark_env, **FAST_FAILURE})

    async def serve_a_while():
        async with Client(params) as client:
            await client.list_tools()
            with anyio.move_on_after(20):
                while not bark.delivered_titles():
                    await anyio.sleep(0.1)
            await anyio.sleep(3)  # a second delivery would show up here

    anyio.run(serve_a_while)
    assert bark.delivered_titles() == ["Nightly build"]

    listing = subprocess.run([binary, "outbox", "--json"], env=env, capture_output=True, text=True, timeout=30)
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout) == []
    history = subprocess.run([binary, "history", "--json"], env=env, capture_output=True, text=True, timeout=30)
    deliveries = json.loads(history.stdout)
    assert [d["source"] for d in deliveries if d["ok"]] == ["outbox"]


def test_two_processes_flushing_at_once_send_each_delivery_once(binary, bark, bark_env):
    env = {**os.environ, **bark_env, **FAST_FAILURE}
    bark.up = False
    senders = [
        subprocess.Popen([binary, "send", "--title", f"Job {n}", "--content", "done", "--json"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for n in range(10)
    ]
    for sender in senders:
        out, _ = sender.communicate(timeout=60)
        assert sender.returncode == 1, out  # queued
        assert json.loads(out)["status"] == "queued"

    listing = subprocess.run([binary, "outbox"], env=env, capture_output=True, text=True, timeout=30)
    assert listing.stdout.count("bark") == 10, listing.stdout

    bark.up = True
    flushers = [subprocess.Popen([binary, "outbox", "--flush"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [flusher.communicate(timeout=60) for flusher in flushers]
    assert all(flusher.returncode == 0 for flusher in flushers), outputs
    titles = bark.delivered_titles()
    assert sorted(titles) == sorted(f"Job {n}" for n in range(10)), titles
    assert "empty" in outputs[0][0] + outputs[1][0]


def test_history_and_drop(binary, bark, bark_env):
    env = {**os.environ, **bark_env, **FAST_FAILURE}
    ok = subprocess.run([binary, "send", "-t", "Hello", "-c", "world"], env=env, capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    bark.up = False
    queued = subprocess.run([binary, "send", "-t", "Later", "-c", "world", "--json"], env=env, capture_output=True, text=True, timeout=30)
    assert queued.returncode == 1
    entries = json.loads(subprocess.run([binary, "outbox", "--json"], env=env, capture_output=True, text=True).stdout)
    [entry] = entries
    assert entry["channel"] == "bark" and entry["title"] == "Later" and "503" in entry["last_error"]
    dropped = subprocess.run([binary, "outbox", "--drop", str(entry["id"])], env=env, capture_output=True, text=True)
    assert dropped.returncode == 0 and f"Dropped delivery {entry['id']}" in dropped.stdout
    missing = subprocess.run([binary, "outbox", "--drop", "99999"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "no delivery 99999" in missing.stderr

    table = subprocess.run([binary, "history"], env=env, capture_output=True, text=True).stdout
    assert "Hello" in table and "Later" in table and "queued" in table
    assert DEVICE_KEY_FRAGMENT not in table


DEVICE_KEY_FRAGMENT = "InteropDeviceKey"
