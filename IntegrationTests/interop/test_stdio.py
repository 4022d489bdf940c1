"""The official Python MCP SDK (mcp 2.x) spawning the built mcp-push binary over stdio."""

from __future__ import annotations

import json
import os
import subprocess

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import DEVICE_KEY


def params(binary: str, env: dict[str, str]) -> StdioServerParameters:
    # The registration commands of Claude Code, Codex and Gemini CLI pass `--transport stdio`.
    return StdioServerParameters(command=binary, args=["--transport", "stdio"], env=env)


def run(coroutine_function):
    return anyio.run(coroutine_function)


def test_auto_mode_negotiates_2026_07_28_without_falling_back(binary, bark_env):
    async def main():
        # mode="auto" (the default) first probes `server/discover` at 2026-07-28; we answer it, so the
        # client stays stateless (every request carries its version in _meta) and never initializes.
        async with Client(params(binary, bark_env)) as client:
            assert client.protocol_version == "2026-07-28"
            assert client.server_info.name == "mcp-push"
            tools = (await client.list_tools()).tools
            return {tool.name: tool for tool in tools}

    tools = run(main)
    assert list(tools) == ["notify_send", "notify_event"]
    send = tools["notify_send"]
    assert send.input_schema["required"] == ["title", "content"]
    assert send.output_schema is not None and "status" in send.output_schema["properties"]
    assert send.annotations.read_only_hint is False
    assert send.annotations.idempotent_hint is False
    assert send.annotations.open_world_hint is True
    assert "Do not" in send.description


def test_legacy_mode_handshake(binary, bark_env):
    async def main():
        async with Client(params(binary, bark_env), mode="legacy") as client:
            return client.protocol_version

    assert run(main) == "2025-11-25"


def test_notify_send_delivers_and_reports(binary, bark, bark_env):
    async def main():
        async with Client(params(binary, bark_env)) as client:
            return await client.call_tool("notify_send", {"title": "Build finished", "content": "412 tests passed\n✅"})

    result = run(main)
    assert result.is_error is False
    structured = result.structured_content
    assert structured["status"] == "success"
    assert structured["channels_count"] == 1
    assert structured["errors"] == {}
    [channel] = structured["results"]
    assert channel["channel"] == "bark" and channel["ok"] is True and channel["status_code"] == 200
    assert channel["attempts"] == 1
    assert json.loads(result.content[0].text) == structured
    [request] = bark.requests
    assert request["body"]["title"] == "Build finished"
    assert request["body"]["body"] == "412 tests passed\n✅"
    assert request["body"]["device_key"] == DEVICE_KEY


def test_notify_event_end_is_pushed_with_the_run_duration(binary, bark, bark_env):
    async def main():
        async with Client(params(binary, bark_env)) as client:
            start = await client.call_tool(
                "notify_event",
                {"run_id": "nightly-9", "event": "start", "message": "go", "timestamp": "2026-11-24T08:00:00Z"},
            )
            end = await client.call_tool(
                "notify_event",
                {
                    "run_id": "nightly-9",
                    "event": "end",
                    "message": "All green",
                    "data": {"progress": 1, "artifact_url": "https://ci.example/9"},
                    "timestamp": "2026-11-24T08:03:30Z",
                },
            )
            return start, end

    start, end = run(main)
    assert start.structured_content["status"] == "skipped"
    assert "MCP_PUSH_EVENTS" in start.structured_content["message"]
    assert end.is_error is False
    assert end.structured_content["status"] == "success"
    assert end.structured_content["run_id"] == "nightly-9"
    assert end.structured_content["event"] == "end"
    assert end.structured_content["timestamp"] == "2026-11-24T08:03:30.000Z"
    [request] = bark.requests
    assert request["body"]["title"] == "✅ nightly-9 finished"
    assert request["body"]["body"] == "All green\n\nProgress: 100%\nTook: 3m 30s"
    assert request["body"]["url"] == "https://ci.example/9"  # the artifact opens when the notification is tapped


def test_bad_input_is_an_error_result_naming_the_field(binary, bark, bark_env):
    async def main():
        async with Client(params(binary, bark_env)) as client:
            missing = await client.call_tool("notify_send", {"title": "only a title"})
            bad_event = await client.call_tool("notify_event", {"run_id": "r", "event": "finished", "message": "m"})
            return missing, bad_event

    missing, bad_event = run(main)
    assert missing.is_error is True
    assert missing.structured_content["status"] == "error"
    assert "'content' is required" in missing.structured_content["message"]
    assert bad_event.is_error is True
    assert "'event' must be one of start, update, end, error" in bad_event.structured_content["message"]
    assert bark.requests == []


def test_rejected_message_is_reported_as_the_services_error(binary, bark):
    env = {"BARK_PUSH": "not-the-device-key", "MCP_PUSH_BARK_BASE_URL": bark.base_url, "MCP_PUSH_CONFIG": os.devnull}

    async def main():
        async with Client(params(binary, env)) as client:
            return await client.call_tool("notify_send", {"title": "t", "content": "c"})

    result = run(main)
    assert result.is_error is True
    assert result.structured_content["status"] == "error"
    assert "failed to get device token" in result.structured_content["errors"]["bark"]
    assert "not-the-device-key" not in result.content[0].text, "the device key is a secret"


def test_prompt_is_listed_and_served(binary, bark_env):
    async def main():
        async with Client(params(binary, bark_env)) as client:
            prompts = (await client.list_prompts()).prompts
            prompt = await client.get_prompt("mcp-push-guidelines")
            return prompts, prompt

    prompts, prompt = run(main)
    assert [p.name for p in prompts] == ["mcp-push-guidelines"]
    assert "## Do not notify" in prompt.messages[0].content.text


def raw_session(binary: str, env: dict[str, str], lines: list[dict], args: list[str] = ()) -> tuple[list[dict], str]:
    """Sends raw JSON-RPC lines, closes stdin, and returns every stdout line parsed and stderr."""
    payload = "".join(json.dumps(line) + "\n" for line in lines)
    process = subprocess.run(
        [binary, *args], input=payload.encode(), capture_output=True, timeout=30,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )
    assert process.returncode == 0, process.stderr.decode()
    stdout = process.stdout.decode()
    messages = [json.loads(line) for line in stdout.splitlines()]  # every stdout line must be JSON-RPC
    assert all(message.get("jsonrpc") == "2.0" for message in messages)
    return messages, process.stderr.decode()


def initialize(version: str) -> dict:
    return {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }


@pytest.mark.parametrize(
    "requested, negotiated",
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),  # newer than the server knows: it answers its latest
    ],
)
def test_version_negotiation_for_older_and_newer_clients(binary, bark_env, requested, negotiated):
    messages, _ = raw_session(binary, bark_env, [initialize(requested)])
    assert messages[0]["result"]["protocolVersion"] == negotiated


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["--transport", "stdio"],
        ["--transport=stdio"],
        ["serve", "--transport", "stdio"],
        ["serve", "--transport", "stdio", "--port", "9"],  # not the plain form: parsed as usual
    ],
)
def test_every_way_agents_start_the_stdio_server(binary, bark_env, args):
    messages, _ = raw_session(binary, bark_env, [initialize("2025-06-18")], args)
    assert messages[0]["result"]["serverInfo"]["name"] == "mcp-push"


def test_a_mistyped_argument_is_a_usage_error_not_a_server(binary, bark_env):
    process = subprocess.run([binary, "--transport", "stdoi"], input=b"", capture_output=True, timeout=30,
                             env={"PATH": os.environ.get("PATH", ""), **bark_env})
    assert process.returncode == 64
    assert process.stdout == b""
    assert "stdoi" in process.stderr.decode()


def test_stdout_carries_only_protocol_messages_even_with_debug_logs(binary, bark, bark_env):
    env = {**bark_env, "MCP_PUSH_LOG_LEVEL": "debug"}
    messages, stderr = raw_session(binary, env, [
        initialize("2025-06-18"),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "notify_send", "arguments": {"title": "t", "content": "c"}}},
    ])
    # stdin was closed right after the call: the server still answers it before exiting.
    by_id = {message.get("id"): message for message in messages}
    assert by_id[2]["result"]["structuredContent"]["status"] == "success"
    assert "delivered" in stderr  # logs go to stderr...
    assert DEVICE_KEY not in stderr  # ...without secrets


def test_what_is_not_a_json_rpc_request_gets_the_json_rpc_error(binary, bark_env):
    lines = [
        b"not json at all",
        b"42",
        b'{"id": 5}',
        b'{"jsonrpc": "2.0", "id": "p", "method": "tools/list", "params": [1, 2]}',
        b'{"jsonrpc": "2.0", "method": "notifications/initialized", "params": "x"}',
        b"[]",
        b'{"jsonrpc": "2.0", "id": 9, "result": {}}',
        b"[" + b" " * (17 << 20) + b"]",
        json.dumps(initialize("2025-06-18")).encode(),
    ]
    done = subprocess.run([binary], input=b"\n".join(lines) + b"\n", env={**os.environ, **bark_env},
                          capture_output=True, timeout=60)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    errors = [(a["id"], a["error"]["code"]) for a in answers if "error" in a]
    # Each answered once; the notification and the response are not answered.
    expected = [(None, -32700), (None, -32600), (5, -32600), ("p", -32602), (None, -32600), (None, -32700)]
    assert sorted(map(repr, errors)) == sorted(map(repr, expected)), answers
    [initialized] = [a for a in answers if "result" in a]
    assert initialized["id"] == 1 and initialized["result"]["protocolVersion"] == "2025-06-18"
    assert "longer than 16 MiB" in done.stderr.decode()


def test_notify_send_carries_level_and_link(binary, bark, bark_env):
    async def main():
        async with Client(params(binary, bark_env)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            properties = tools["notify_send"].input_schema["properties"]
            assert properties["level"]["enum"] == ["info", "success", "warning", "error", "critical"]
            sent = await client.call_tool("notify_send", {"title": "Deploy failed", "content": "rolled back", "level": "critical",
                                                          "url": "https://ci.example/run/42"})
            bad = [await client.call_tool("notify_send", {"title": "t", "content": "c", **extra})
                   for extra in ({"level": "loud"}, {"url": "javascript:alert(1)"}, {"url": 42})]
            return sent, bad

    sent, bad = run(main)
    assert sent.structured_content["status"] == "success"
    [request] = bark.requests
    assert request["body"]["level"] == "critical" and request["body"]["url"] == "https://ci.example/run/42"
    assert request["body"]["title"] == "Deploy failed"
    for result in bad:
        assert result.is_error and result.structured_content["status"] == "error"
    assert "'level' must be one of info, success, warning, error, critical" in bad[0].structured_content["message"]
    assert "'url' must be an http:// or https:// URL" in bad[1].structured_content["message"]


def test_notify_send_markdown_reaches_a_service_without_markdown_as_plain_text(binary, bark, bark_env):
    markdown = "Deployed **v2.1** to `prod`; see [the log](https://ci.example/42).\n\n- first_step 中文\n- 2 * 3 < 7"
    async def main():
        async with Client(params(binary, bark_env)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert tools["notify_send"].input_schema["properties"]["format"]["enum"] == ["text", "markdown"]
            assert tools["notify_event"].input_schema["properties"]["format"]["enum"] == ["text", "markdown"]
            as_markdown = await client.call_tool("notify_send", {"title": "Deploy", "content": markdown, "format": "markdown"})
            as_text = await client.call_tool("notify_send", {"title": "Deploy as text", "content": markdown})
            bad = await client.call_tool("notify_send", {"title": "t", "content": "c", "format": "html"})
            return as_markdown, as_text, bad

    as_markdown, as_text, bad = run(main)
    assert as_markdown.structured_content["status"] == "success" and as_text.structured_content["status"] == "success"
    first, second = bark.requests
    assert first["body"]["body"] == "Deployed v2.1 to prod; see the log (https://ci.example/42).\n\n• first_step 中文\n• 2 * 3 < 7"
    assert second["body"]["body"] == markdown, "text arrives exactly as sent"
    assert bad.is_error and "'format' must be text or markdown, got 'html'" in bad.structured_content["message"]


def spawned_server(binary: str, env: dict[str, str]):
    """The stdio server as agents start it, and a function sending it one request and reading the answer."""
    process = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, **env})

    def call(message: dict) -> dict:
        process.stdin.write((json.dumps(message) + "\n").encode())
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    return process, call


def test_an_idle_server_gives_back_the_code_pages_start_up_touched_and_still_works(binary, bark, bark_env):
    """Two seconds after start the server unmaps the code start-up read (it stays in the page cache): an agent's
    session holds the server for hours. The next call maps back what it uses and works as before."""
    import time

    process, call = spawned_server(binary, bark_env)

    def resident_file_kib() -> int:
        status = open(f"/proc/{process.pid}/status").read()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("RssFile:")))

    try:
        call(initialize("2025-06-18"))
        time.sleep(0.5)
        started = resident_file_kib()
        time.sleep(3)
        idle = resident_file_kib()
        assert idle < started * 0.8, f"file-backed resident memory {started} KiB after start, {idle} KiB idle"
        answer = call({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "notify_send", "arguments": {"title": "after idle", "content": "still here"}}})
        assert answer["result"]["structuredContent"]["status"] == "success"
        assert [r["body"]["title"] for r in bark.requests] == ["after idle"]
    finally:
        process.stdin.close()
        assert process.wait(timeout=20) == 0


def test_a_server_pays_for_its_first_request_ahead_and_leaves_nothing_behind(binary, bark, bark_env):
    """As it starts, a server with channels rehearses one request to a loopback listener of its own, on its
    other processor at idle priority. Nothing reaches a service; once start-up is over no thread keeps that
    priority or a narrowed processor set, and no socket stays open; the first notification goes out as usual."""
    import time

    process, call = spawned_server(binary, bark_env)

    def tcp_sockets() -> list[str]:
        inodes = set()
        for fd in os.listdir(f"/proc/{process.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{process.pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
        rows = []
        for table in ("tcp", "tcp6"):
            for line in open(f"/proc/{process.pid}/net/{table}").read().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    rows.append(line)
        return rows

    try:
        call(initialize("2025-06-18"))
        time.sleep(1)
        processors = os.sched_getaffinity(0)
        for task in os.listdir(f"/proc/{process.pid}/task"):
            assert os.sched_getscheduler(int(task)) == os.SCHED_OTHER, f"thread {task} kept another scheduling policy"
            assert os.sched_getaffinity(int(task)) == processors, f"thread {task} kept a narrowed processor set"
        assert tcp_sockets() == []
        assert bark.requests == []
        answer = call({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "notify_send", "arguments": {"title": "first", "content": "after the rehearsal"}}})
        assert answer["result"]["structuredContent"]["status"] == "success"
        assert [r["body"]["title"] for r in bark.requests] == ["first"]
    finally:
        process.stdin.close()
        assert process.wait(timeout=20) == 0
