"""An older official client (Python `mcp` 1.9, protocol 2025-03-26) against mcp-push.

Run with the interpreter of a venv holding requirements-mcp1.txt (scripts/test.sh does).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "interop"))
from fake_services import FakeBark  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("MCP_PUSH_BINARY") or str(ROOT / ".build" / "debug" / "mcp-push")
DEVICE_KEY = "OlderClientDeviceKey012345"


def test_older_client_negotiates_its_own_version_and_calls_tools():
    with FakeBark(DEVICE_KEY) as bark:
        env = {"BARK_PUSH": DEVICE_KEY, "MCP_PUSH_BARK_BASE_URL": bark.base_url, "MCP_PUSH_CONFIG": os.devnull}
        parameters = StdioServerParameters(command=BINARY, args=["--transport", "stdio"], env=env)

        async def main():
            async with stdio_client(parameters) as (read, write):
                async with ClientSession(read, write) as session:
                    initialized = await session.initialize()
                    tools = await session.list_tools()
                    sent = await session.call_tool("notify_send", {"title": "From an older client", "content": "hello"})
                    event = await session.call_tool("notify_event", {"run_id": "r1", "event": "error", "message": "boom"})
                    return initialized, tools, sent, event

        initialized, tools, sent, event = anyio.run(main)

    assert initialized.protocolVersion == "2025-03-26"
    assert [tool.name for tool in tools.tools] == ["notify_send", "notify_event"]
    assert sent.isError is False
    assert json.loads(sent.content[0].text)["status"] == "success"
    assert json.loads(event.content[0].text)["status"] == "success"
    assert [request["body"]["title"] for request in bark.requests] == ["From an older client", "❌ r1 failed"]
