"""`notify_ask` through the official MCP client (mcp 2.x over stdio), with progress while it waits,
and its command-line twin `mcp-push ask` with an exit status per outcome."""

from __future__ import annotations

import os
import subprocess
import threading

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import finish, free_port, http_server


def params(binary: str, env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=binary, args=["--transport", "stdio"], env=env)


def test_notify_ask_returns_the_chosen_option(binary, telegram, telegram_env):
    progress: list[tuple[float, float | None, str | None]] = []

    def person():
        message = telegram.wait_for_message(seconds=30)
        assert message["text"].startswith("❓ Which environment should I deploy to?")
        buttons = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == ["staging", "production", "neither"]
        threading.Event().wait(6)  # long enough for a progress report
        telegram.press(message, "production")

    async def main():
        async def on_progress(value, total, message):
            progress.append((value, total, message))

        async with Client(params(binary, telegram_env)) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            assert tools == ["notify_send", "notify_event", "notify_ask"]
            return await client.call_tool(
                "notify_ask", {"question": "Which environment should I deploy to?", "options": ["staging", "production", "neither"],
                               "timeout_seconds": 60}, progress_callback=on_progress)

    threading.Thread(target=person, daemon=True).start()
    result = anyio.run(main)
    assert not result.is_error
    assert result.structured_content["status"] == "answered"
    assert result.structured_content["answer"] == "production"
    assert result.structured_content["answer_index"] == 1
    assert result.structured_content["channel"] == "telegram"
    assert result.structured_content["answered_by"] == "@ada"
    assert progress and all(b[0] >= a[0] for a, b in zip(progress, progress[1:]))
    assert "waiting for the user's answer" in progress[0][2]


def test_notify_ask_is_not_listed_without_an_answering_channel(binary, base_env):
    async def main():
        async with Client(params(binary, base_env)) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert anyio.run(main) == ["notify_send", "notify_event"]


def test_notify_ask_rejects_bad_options(binary, telegram, telegram_env):
    async def main():
        async with Client(params(binary, telegram_env)) as client:
            return [await client.call_tool("notify_ask", arguments) for arguments in [
                {"question": "Go?", "options": ["yes"]},
                {"question": "Go?", "options": ["a", "b", "c", "d", "e"]},
                {"question": "Go?", "options": ["a", "a"]},
                {"question": "Go?", "options": ["a", "b"], "timeout_seconds": 99999},
                {"question": "", "options": ["a", "b"]},
                {"question": "Go?", "options": ["Allow\u202e", "Deny"]},
            ]]

    for result in anyio.run(main):
        assert result.is_error and result.structured_content["status"] == "error"
    assert telegram.sent == []


def test_ask_command_exit_codes(binary, telegram, telegram_env):
    env = {**os.environ, **telegram_env}
    process = subprocess.Popen([binary, "ask", "Rotate the keys now?", "-o", "Rotate", "-o", "Later"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    telegram.press(telegram.wait_for_message(), "Later")
    code, out, _ = finish(process)
    assert (code, out) == (0, "Later\n")

    timed_out = subprocess.run([binary, "ask", "Still there?", "--timeout", "10", "--json"], env=env, capture_output=True, timeout=40)
    assert timed_out.returncode == 3 and timed_out.stdout == b'{"status":"timeout"}\n'

    unavailable = subprocess.run([binary, "ask", "Anyone?"], env={**env, "MCP_PUSH_APPROVALS": "off"}, capture_output=True, timeout=20)
    assert unavailable.returncode == 2 and b"approvals are off" in unavailable.stderr

    bad = subprocess.run([binary, "ask", "Q", "-o", "only one"], env=env, capture_output=True, timeout=20)
    assert bad.returncode != 0 and b"2 to 4" in bad.stderr


def test_notify_ask_over_streamable_http(binary, telegram, telegram_env):
    port = free_port()

    def person():
        telegram.press(telegram.wait_for_message(seconds=30), "no")

    async def main():
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            assert client.protocol_version == "2026-07-28"
            return await client.call_tool("notify_ask", {"question": "Ship it?", "options": ["yes", "no"], "timeout_seconds": 30})

    with http_server(binary, telegram_env, port):
        threading.Thread(target=person, daemon=True).start()
        result = anyio.run(main)
    assert result.structured_content["status"] == "answered" and result.structured_content["answer"] == "no"
