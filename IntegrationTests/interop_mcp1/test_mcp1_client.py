"""An older official client (Python `mcp` 1.9, protocol 2025-03-26) against mcp-push.

Run with the interpreter of a venv holding requirements-mcp1.txt (scripts/test.sh does).
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "interop"))
from fake_services import FakeBark  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("MCP_PUSH_BINARY") or str(ROOT / ".build" / "debug" / "mcp-push")
DEVICE_KEY = "OlderClientDeviceKey012345"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def exercise(session: ClientSession):
    initialized = await session.initialize()
    tools = await session.list_tools()
    sent = await session.call_tool("notify_send", {"title": "From an older client", "content": "hello"})
    event = await session.call_tool("notify_event", {"run_id": "r1", "event": "error", "message": "boom"})
    resources = await session.list_resources()
    run = await session.read_resource("mcp-push://runs/r1")
    prompt = await session.get_prompt("mcp-push-guidelines")
    return initialized, tools, sent, event, resources, run, prompt


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_older_client_negotiates_its_own_version_and_uses_everything(transport, tmp_path):
    with FakeBark(DEVICE_KEY) as bark:
        env = {"BARK_PUSH": DEVICE_KEY, "MCP_PUSH_BARK_BASE_URL": bark.base_url, "MCP_PUSH_CONFIG": os.devnull,
               "MCP_PUSH_STATE_DIR": str(tmp_path / "state")}

        async def over_stdio():
            parameters = StdioServerParameters(command=BINARY, args=["--transport", "stdio"], env=env)
            async with stdio_client(parameters) as (read, write):
                async with ClientSession(read, write) as session:
                    return await exercise(session)

        async def over_http(url: str):
            async with streamablehttp_client(url) as (read, write, _):
                async with ClientSession(read, write) as session:
                    return await exercise(session)

        if transport == "stdio":
            answers = anyio.run(over_stdio)
        else:
            port = free_port()
            server = subprocess.Popen([BINARY, "serve", "--transport", "http", "--port", str(port)],
                                      env={**os.environ, **env}, stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                        break
                    except OSError:
                        time.sleep(0.1)
                answers = anyio.run(over_http, f"http://127.0.0.1:{port}/mcp")
            finally:
                server.send_signal(signal.SIGTERM)
                assert server.wait(timeout=20) == 0
        initialized, tools, sent, event, resources, run, prompt = answers

    assert initialized.protocolVersion == "2025-03-26"
    assert [tool.name for tool in tools.tools] == ["notify_send", "notify_event"]
    assert sent.isError is False
    assert json.loads(sent.content[0].text)["status"] == "success"
    assert json.loads(event.content[0].text)["status"] == "success"
    assert [str(r.uri) for r in resources.resources] == ["mcp-push://channels", "mcp-push://runs", "mcp-push://history"]
    assert json.loads(run.contents[0].text)["run"]["run_id"] == "r1"
    assert "## Do not notify" in prompt.messages[0].content.text
    assert [request["body"]["title"] for request in bark.requests] == ["From an older client", "❌ r1 failed"]
