"""MCP itself, against the official Python client (mcp 2.x, auto and legacy) and raw messages:
every revision, both transports, byte-exact delivery, and the 2026-07-28 HTTP rules."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import time

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import DEVICE_KEY
from fake_services import FakeWebhook
from test_http import HTTPServer, MCP_HEADERS

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
MODERN = {**MCP_HEADERS, "MCP-Protocol-Version": "2026-07-28"}


def stdio(binary: str, env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=binary, args=["--transport", "stdio"], env=env)


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize(("mode", "negotiated"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_every_feature_in_both_eras_on_both_transports(binary, bark, bark_env, transport, mode, negotiated):
    server = HTTPServer(binary, bark_env) if transport == "http" else None
    target = server.url + "/mcp" if server else stdio(binary, bark_env)

    async def main():
        async with Client(target, mode=mode) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            sent = await client.call_tool("notify_send", {"title": f"{transport} {mode}", "content": "c"})
            event = await client.call_tool("notify_event", {"run_id": f"{transport}-{mode}", "event": "end", "message": "done"})
            resources = [str(r.uri) for r in (await client.list_resources()).resources]
            templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
            history = await client.read_resource("mcp-push://history")
            run = await client.read_resource(f"mcp-push://runs/{transport}-{mode}")
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            prompt = await client.get_prompt("mcp-push-guidelines")
            return client.protocol_version, tools, sent, event, resources, templates, history, run, prompts, prompt

    try:
        version, tools, sent, event, resources, templates, history, run, prompts, prompt = anyio.run(main)
    finally:
        if server:
            assert server.stop() == 0
    assert version == negotiated
    assert tools == ["notify_send", "notify_event"]
    assert sent.structured_content["status"] == "success" and event.structured_content["status"] == "success"
    assert resources == ["mcp-push://channels", "mcp-push://runs", "mcp-push://history"]
    assert templates == ["mcp-push://runs/{run_id}"]
    assert json.loads(history.contents[0].text)[0]["channel"] == "bark"
    assert json.loads(run.contents[0].text)["run"]["run_id"] == f"{transport}-{mode}"
    assert prompts == ["mcp-push-guidelines"] and "## Do not notify" in prompt.messages[0].content.text
    assert bark.delivered_titles() == [f"{transport} {mode}", f"✅ {transport}-{mode} finished"]


CORNERS = [
    "data:text/plain;base64,SGVsbG8=",
    "data:text/html,<b>report</b>",
    "emoji 😀👩‍💻🇨🇳 and CJK 中文通知 and 한국어",
    "nul \u0000 inside",
    "lone backslashes \\ \\\\ \\n \\u0041 and a quote \"",
    "$title and $content stay as written",
    "=?base64?SGVsbG8=?=",
    "\u2028\u2029\ufeff\u200b",
    "x" * 200_000,
]


def random_strings(count: int, seed: int) -> list[str]:
    generator = random.Random(seed)
    alphabet = ["a", " ", "\\", '"', "/", "\n", "\t", "\u0000", "\u001f", "é", "中", "😀", "\ud7ff", "\ue000", "\U0010ffff", "data:", ";base64,"]
    return ["".join(generator.choice(alphabet) for _ in range(generator.randint(1, 40))) for _ in range(count)]


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_what_is_sent_arrives_byte_exact(binary, bark, bark_env, transport):
    """Titles and contents through notify_send to a webhook, data values through notify_event to Bark."""
    with FakeWebhook() as hook:
        env = {**bark_env, "WEBHOOK_URL": hook.url, "WEBHOOK_METHOD": "POST", "WEBHOOK_BODY": "title: $title\ncontent: $content"}
        server = HTTPServer(binary, env) if transport == "http" else None
        target = server.url + "/mcp" if server else stdio(binary, env)
        texts = [c for c in CORNERS] + random_strings(40, seed=13)
        # Whitespace-only text is refused as empty; give each a visible start.
        texts = ["#" + text for text in texts]

        async def main():
            async with Client(target) as client:
                for text in texts:
                    result = await client.call_tool("notify_send", {"title": text[:100], "content": text, "channels": ["webhook"]})
                    assert result.structured_content["status"] == "success", result.structured_content
                event = await client.call_tool("notify_event", {
                    "run_id": "exact", "event": "end", "message": "data:text/html,<b>report</b>",
                    "data": {"artifact_url": "data:text/html,<b>report</b>", "step": "😀 \\ 中"}, "channels": ["bark"]})
                assert event.structured_content["status"] == "success"
                return client.protocol_version

        try:
            assert anyio.run(main) == "2026-07-28"
        finally:
            if server:
                server.stop()
        received = [json.loads(body) for body in hook.bodies]
        assert [r["content"] for r in received] == texts
        assert [r["title"] for r in received] == [text[:100] for text in texts]
    body = bark.requests[-1]["body"]["body"]
    assert body.startswith("data:text/html,<b>report</b>\n")
    assert "Link: data:text/html,<b>report</b>" in body and "Step: 😀 \\ 中" in body


def raw_lines(binary: str, env: dict[str, str], lines: list[bytes], timeout: float = 30) -> tuple[list[dict], str, float]:
    started = time.monotonic()
    process = subprocess.run([binary], input=b"".join(line + b"\n" for line in lines), capture_output=True, timeout=timeout,
                             env={"PATH": os.environ.get("PATH", ""), **env})
    assert process.returncode == 0, process.stderr.decode()
    return [json.loads(line) for line in process.stdout.splitlines()], process.stderr.decode(), time.monotonic() - started


def test_ids_json_rpc_forbids_are_answered_and_the_process_still_exits(binary, bark_env):
    """Such requests once got no answer, and the server then never exited when stdin closed."""
    ids = [b"{}", b"[1]", b"true", b"1.5", b"18446744073709551616", b"null"]
    lines = [b'{"jsonrpc":"2.0","id":%s,"method":"tools/list","params":{"_meta":%s}}' % (i, json.dumps(META).encode()) for i in ids]
    answers, _, elapsed = raw_lines(binary, bark_env, lines)
    assert [(a["id"], a["error"]["code"]) for a in answers] == [(None, -32600)] * len(ids)
    assert elapsed < 10


def test_a_stateless_stdio_session(binary, bark, bark_env):
    lines = [
        {"jsonrpc": "2.0", "id": "d", "method": "server/discover", "params": {"_meta": META}},
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
         "params": {"name": "notify_send", "arguments": {"title": "modern", "content": "c"}, "_meta": {**META, "progressToken": 9}}},
        {"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"_meta": META}},
        {"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "mcp-push://nothing", "_meta": META}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/list",
         "params": {"_meta": {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}}},
        {"jsonrpc": "2.0", "id": 5, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}},
    ]
    answers, _, _ = raw_lines(binary, bark_env, [json.dumps(line).encode() for line in lines])
    by_id = {a.get("id"): a for a in answers if "id" in a}
    discover = by_id["d"]["result"]
    assert discover["supportedVersions"][0] == "2026-07-28" and "2024-11-05" in discover["supportedVersions"]
    assert discover["resultType"] == "complete" and discover["cacheScope"] == "public"
    assert discover["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcp-push"
    assert by_id[1]["result"]["structuredContent"]["status"] == "success" and by_id[1]["result"]["resultType"] == "complete"
    progress = [a for a in answers if a.get("method") == "notifications/progress"]
    assert progress and all(p["params"]["progressToken"] == 9 for p in progress)
    assert answers.index(progress[-1]) < answers.index(by_id[1]), "progress comes before the result"
    assert by_id[2]["error"]["code"] == -32601  # no ping in 2026-07-28
    assert by_id[3]["error"]["code"] == -32602  # resource not found, 2026-07-28 numbering
    assert by_id[4]["error"]["code"] == -32022 and by_id[4]["error"]["data"]["requested"] == "2099-01-01"
    assert by_id[5]["error"]["code"] == -32022
    assert bark.delivered_titles() == ["modern"]


def test_older_revisions_by_raw_initialize(binary, bark_env):
    for version, resource_code in [("2024-11-05", -32002), ("2025-03-26", -32002), ("2025-06-18", -32002)]:
        lines = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "mcp-push://nothing"}},
            {"jsonrpc": "2.0", "id": 4, "method": "prompts/get", "params": {"name": "mcp-push-guidelines"}},
            {"jsonrpc": "2.0", "id": 5, "method": "ping"},
        ]
        answers, _, _ = raw_lines(binary, bark_env, [json.dumps(line).encode() for line in lines])
        by_id = {a["id"]: a for a in answers}
        assert by_id[1]["result"]["protocolVersion"] == version
        tool = by_id[2]["result"]["tools"][0]
        assert ("outputSchema" in tool) == (version >= "2025-06-18")
        assert ("annotations" in tool) == (version >= "2025-03-26")
        assert by_id[3]["error"]["code"] == resource_code
        assert by_id[4]["result"]["messages"][0]["role"] == "user"
        assert by_id[5]["result"] == {}


@pytest.fixture()
def http_server(binary, bark_env):
    started = HTTPServer(binary, bark_env)
    yield started
    if started.process.poll() is None:
        started.stop()


def modern_call(name: str, arguments: dict, request_id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, "arguments": arguments, "_meta": META}}


def test_stateless_http_checks_headers_against_the_body(http_server, bark):
    url = http_server.url + "/mcp"
    call = modern_call("notify_send", {"title": "headers", "content": "c"})
    right = {**MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "notify_send"}
    answer = httpx2.post(url, headers=right, json=call)
    assert answer.status_code == 200 and answer.json()["result"]["structuredContent"]["status"] == "success"
    assert "mcp-session-id" not in answer.headers
    encoded = "=?base64?" + base64.b64encode(b"notify_send").decode() + "?="
    again = modern_call("notify_send", {"title": "encoded name", "content": "c"})
    assert httpx2.post(url, headers={**right, "Mcp-Name": encoded}, json=again).json()["result"]["structuredContent"]["status"] == "success"
    for headers in [
        {**MODERN, "Mcp-Name": "notify_send"},                                  # no Mcp-Method
        {**MODERN, "Mcp-Method": "tools/list", "Mcp-Name": "notify_send"},      # a method the body does not have
        {**MODERN, "Mcp-Method": "tools/call"},                                 # no Mcp-Name
        {**MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "notify_event"},     # another tool than the body's
        {**right, "MCP-Protocol-Version": "2025-11-25"},                        # version unlike _meta's
        {**MCP_HEADERS, "Mcp-Method": "tools/call", "Mcp-Name": "notify_send"},  # no version header
    ]:
        refused = httpx2.post(url, headers=headers, json=call)
        assert refused.status_code == 400, (headers, refused.text)
        assert refused.json()["error"]["code"] in (-32020, -32022), refused.text
    bare = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "notify_send", "arguments": {"title": "no meta", "content": "c"}}}
    refused = httpx2.post(url, headers=right, json=bare)  # the 2026 header on a request without its _meta
    assert refused.status_code == 400 and refused.json()["error"]["code"] == -32020
    assert bark.delivered_titles() == ["headers", "encoded name"]
    unknown = httpx2.post(url, headers={**MODERN, "Mcp-Method": "pigeons/fly"},
                          json={"jsonrpc": "2.0", "id": 2, "method": "pigeons/fly", "params": {"_meta": META}})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == -32601
    version = {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    old = httpx2.post(url, headers={**MCP_HEADERS, "MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/list"},
                      json={"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": version}})
    assert old.status_code == 400 and old.json()["error"]["code"] == -32022
    assert httpx2.get(url, headers=MODERN).status_code == 405


def test_progress_streams_as_server_sent_events(http_server):
    call = modern_call("notify_send", {"title": "stream", "content": "c"})
    call["params"]["_meta"]["progressToken"] = "p"
    with httpx2.stream("POST", http_server.url + "/mcp", json=call,
                       headers={**MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "notify_send"}) as answer:
        assert answer.headers["content-type"] == "text/event-stream"
        events = [json.loads(line[len("data: "):]) for line in answer.iter_lines() if line.startswith("data: ")]
    assert events[0]["method"] == "notifications/progress" and events[0]["params"]["progressToken"] == "p"
    assert events[-1]["id"] == 1 and events[-1]["result"]["structuredContent"]["status"] == "success"


def test_a_session_has_its_stream_and_ends_with_delete(http_server):
    url = http_server.url + "/mcp"
    opened = httpx2.post(url, headers=MCP_HEADERS, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    session = opened.headers["mcp-session-id"]
    assert len(session) == 32
    headers = {**MCP_HEADERS, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    with httpx2.Client(timeout=10) as streaming:
        with streaming.stream("GET", url, headers={**headers, "Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"] == "text/event-stream"
            assert httpx2.delete(url, headers=headers).status_code == 200
            # The stream ends with the session.
            started = time.monotonic()
            for _ in stream.iter_bytes():
                pass
            assert time.monotonic() - started < 5
    assert httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).status_code == 404
    assert httpx2.delete(url, headers=headers).status_code == 404


def test_sigterm_with_an_open_session_stream_still_exits_at_once(binary, bark_env):
    server = HTTPServer(binary, bark_env)
    url = server.url + "/mcp"
    opened = httpx2.post(url, headers=MCP_HEADERS, json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                         "params": {"protocolVersion": "2025-11-25", "capabilities": {}}})
    headers = {**MCP_HEADERS, "Accept": "text/event-stream", "Mcp-Session-Id": opened.headers["mcp-session-id"]}
    with httpx2.Client(timeout=30) as streaming, streaming.stream("GET", url, headers=headers) as stream:
        assert stream.status_code == 200
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 5, "the open stream must not hold the shutdown"
        assert b"".join(stream.iter_bytes()).startswith(b": stream open")


def test_a_client_that_closed_our_stdout_does_not_stop_us(binary, bark_env):
    """Answers go nowhere (EPIPE, not SIGPIPE); the server reads on and exits 0 when stdin ends."""
    process = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={"PATH": os.environ.get("PATH", ""), **bark_env})
    process.stdout.close()
    line = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}
    process.stdin.write(b"".join(json.dumps({**line, "id": n}).encode() + b"\n" for n in range(500)))
    process.stdin.close()
    assert process.wait(timeout=20) == 0


def test_sessions_beyond_the_limit_close_the_least_recently_used(binary, bark_env):
    server = HTTPServer(binary, {**bark_env, "MCP_PUSH_HTTP_MAX_SESSIONS": "2"})
    try:
        url = server.url + "/mcp"
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}
        ids = [httpx2.post(url, headers=MCP_HEADERS, json=initialize).headers["mcp-session-id"] for _ in range(3)]
        def status(session: str) -> int:
            return httpx2.post(url, headers={**MCP_HEADERS, "Mcp-Session-Id": session},
                               json={"jsonrpc": "2.0", "id": 2, "method": "ping"}).status_code
        assert [status(session) for session in ids] == [404, 200, 200]
    finally:
        assert server.stop() == 0
    assert "session limit reached" in server.process.stderr.read()


def test_a_batch_over_stdio_in_2025_03_26(binary, bark, bark_env):
    lines = [
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}}}).encode(),
        json.dumps([
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "notify_send", "arguments": {"title": "batched", "content": "c"}}},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
        ]).encode(),
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "ping"}).encode(),
    ]
    answers, _, _ = raw_lines(binary, bark_env, lines)
    [batch] = [a for a in answers if isinstance(a, list)]
    assert sorted(a["id"] for a in batch) == [2, 3]
    call = {a["id"]: a for a in batch}[2]["result"]
    assert "structuredContent" not in call and json.loads(call["content"][0]["text"])["status"] == "success"  # 2025-06-18 added it
    assert [a["id"] for a in answers if isinstance(a, dict)] == [1, 4]
    assert bark.delivered_titles() == ["batched"]
