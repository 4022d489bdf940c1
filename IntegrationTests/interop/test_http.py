"""The official Python MCP client (mcp 2.x) over Streamable HTTP against `mcp-push serve --transport http`,
and the transport's security rules checked with plain HTTP requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import anyio
import httpx2
import pytest
from mcp import Client

from conftest import DEVICE_KEY

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HTTPServer:
    def __init__(self, binary: str, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [binary, "serve", "--transport", "http", "--port", str(self.port), *args],
            env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx2.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.1)
        self.process.kill()
        raise AssertionError(f"server did not start: {self.process.stderr.read()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture()
def server(binary, bark_env):
    started = HTTPServer(binary, bark_env)
    yield started
    if started.process.poll() is None:
        started.stop()


@pytest.mark.parametrize(("mode", "negotiated"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_official_client_over_streamable_http(server, bark, mode, negotiated):
    """auto: stateless 2026-07-28 requests (server/discover first); legacy: initialize and a session."""
    async def main():
        async with Client(server.url + "/mcp", mode=mode) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            sent = await client.call_tool("notify_send", {"title": "Over HTTP", "content": "hello"})
            event = await client.call_tool("notify_event", {"run_id": "http-1", "event": "end", "message": "done"})
            return client.protocol_version, tools, sent, event

    version, tools, sent, event = anyio.run(main)
    assert version == negotiated
    assert tools == ["notify_send", "notify_event"]
    assert sent.structured_content["status"] == "success"
    assert event.structured_content["status"] == "success" and event.structured_content["run_id"] == "http-1"
    assert [r["body"]["title"] for r in bark.requests] == ["Over HTTP", "✅ http-1 finished"]
    assert all(r["body"]["device_key"] == DEVICE_KEY for r in bark.requests)


def test_healthz_has_no_secrets(server):
    answer = httpx2.get(server.url + "/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "mcp-push" and body["channels_configured"] == 1
    assert DEVICE_KEY not in answer.text


def test_foreign_origin_is_forbidden_loopback_allowed(server):
    foreign = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Origin": "https://evil.example"}, json=INITIALIZE)
    assert foreign.status_code == 403
    local = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Origin": f"http://localhost:{server.port}"}, json=INITIALIZE)
    assert local.status_code == 200


def test_dns_rebinding_names_are_forbidden(server):
    """A page on a name rebound to 127.0.0.1 sends its own name in Host and Origin."""
    for name in ["127.attacker.example", "127.0.0.1.nip.io", "attacker.example"]:
        forged = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Host": f"{name}:{server.port}"}, json=INITIALIZE)
        assert forged.status_code == 403, name
        origin = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Origin": f"http://{name}:{server.port}"}, json=INITIALIZE)
        assert origin.status_code == 403, name
    assert httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Host": f"localhost:{server.port}"}, json=INITIALIZE).status_code == 200


def test_unknown_session_is_404_and_malformed_json_is_a_parse_error(server):
    unknown = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Mcp-Session-Id": "no-such-session"},
                          json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert unknown.status_code == 404
    broken = httpx2.post(server.url + "/mcp", headers=MCP_HEADERS, content=b"{not json")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == -32700


def test_oversized_body_is_413(server):
    big = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"pad": "x" * (1 << 20)}}
    answer = httpx2.post(server.url + "/mcp", headers=MCP_HEADERS, json=big)
    assert answer.status_code == 413


def test_token_is_required_when_set(binary, bark_env):
    server = HTTPServer(binary, {**bark_env, "MCP_PUSH_HTTP_TOKEN": "s3cret-token-value"})
    try:
        assert httpx2.post(server.url + "/mcp", headers=MCP_HEADERS, json=INITIALIZE).status_code == 401
        wrong = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Authorization": "Bearer nope"}, json=INITIALIZE)
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        right = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "Authorization": "Bearer s3cret-token-value"}, json=INITIALIZE)
        assert right.status_code == 200 and right.headers["mcp-session-id"]
        assert httpx2.get(server.url + "/healthz").status_code == 200
    finally:
        assert server.stop() == 0
    assert "s3cret-token-value" not in server.process.stderr.read()


def test_refuses_to_bind_everywhere_without_a_token(binary, bark_env):
    result = subprocess.run([binary, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
                            env={**os.environ, **bark_env}, capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert "MCP_PUSH_HTTP_TOKEN" in result.stderr


def test_sigterm_exits_cleanly(server):
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 10
    log = server.process.stderr.read()
    assert "path=/healthz" in log and "status=200" in log


def test_stateless_mode(binary, bark, bark_env):
    server = HTTPServer(binary, bark_env, "--stateless")
    try:
        answer = httpx2.post(server.url + "/mcp", headers=MCP_HEADERS, json=INITIALIZE)
        assert answer.status_code == 200 and "mcp-session-id" not in answer.headers
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "notify_send", "arguments": {"title": "Stateless", "content": "c"}}}
        result = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "MCP-Protocol-Version": "2025-06-18"}, json=call)
        assert result.status_code == 200, result.text
        assert json.loads(result.text)["result"]["structuredContent"]["status"] == "success"
        assert bark.delivered_titles() == ["Stateless"]
    finally:
        server.stop()


def test_stateless_concurrent_requests_sharing_an_id_each_get_their_own_answer(binary, bark, bark_env):
    """Every stateless client numbers its requests from 1: eight at once, all with id 1."""
    import concurrent.futures

    server = HTTPServer(binary, bark_env, "--stateless")
    try:
        def call(index: int) -> dict:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "notify_send", "arguments": {"title": f"Client {index}", "content": "c"}}}
            answer = httpx2.post(server.url + "/mcp", headers={**MCP_HEADERS, "MCP-Protocol-Version": "2025-06-18"},
                                 json=body, timeout=15)
            assert answer.status_code == 200, answer.text
            return json.loads(answer.text)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(8)))
        assert all(a["id"] == 1 and a["result"]["structuredContent"]["status"] == "success" for a in answers), answers
        assert sorted(bark.delivered_titles()) == sorted(f"Client {i}" for i in range(8))
    finally:
        server.stop()


def test_a_huge_content_length_is_refused_at_once(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Accept: application/json, text/event-stream\r\nContent-Length: 10000000000\r\n\r\n{")
        started = time.monotonic()
        answer = connection.recv(65536)
        assert time.monotonic() - started < 2
        assert answer.startswith(b"HTTP/1.1 413"), answer


def test_half_sent_requests_are_closed_and_never_lock_others_out(binary, bark_env):
    """400 connections that send a request line and one header and stop: others still get answers,
    and each half-sent one is closed after MCP_PUSH_HTTP_IDLE_TIMEOUT."""
    started = HTTPServer(binary, {**bark_env, "MCP_PUSH_HTTP_IDLE_TIMEOUT": "2", "MCP_PUSH_HTTP_MAX_CONNECTIONS": "64"})
    stalled = []
    try:
        for _ in range(400):
            try:
                connection = socket.create_connection(("127.0.0.1", started.port), timeout=5)
            except OSError:
                break
            connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            stalled.append(connection)
        # Within a few idle timeouts every stalled connection is closed and a real client is answered.
        deadline = time.monotonic() + 20
        healthy = False
        while time.monotonic() < deadline and not healthy:
            try:
                healthy = httpx2.get(started.url + "/healthz", timeout=3).status_code == 200
            except httpx2.TransportError:
                time.sleep(0.2)
        assert healthy, "a client was locked out by half-sent requests"
        first = stalled[0]
        first.settimeout(10)
        assert first.recv(1) == b"", "a half-sent request is closed, not held"
    finally:
        for connection in stalled:
            connection.close()
        started.stop()


def test_a_stderr_nobody_reads_never_holds_the_server(binary, bark_env):
    """Request logs fill a pipe nobody reads (64 KiB) in a thousand requests; the server drops lines rather
    than wait, and says how many once stderr is read again."""
    server = HTTPServer(binary, {**bark_env, "MCP_PUSH_LOG_LEVEL": "info"})
    try:
        with httpx2.Client(timeout=5) as http:
            answers = [http.get(server.url + "/healthz").status_code for _ in range(3000)]
        assert answers.count(200) == 3000
        descriptor = server.process.stderr.fileno()
        os.set_blocking(descriptor, False)

        def drain() -> bytes:
            data = b""
            while True:
                try:
                    chunk = os.read(descriptor, 65536)
                except BlockingIOError:
                    return data
                if not chunk:
                    return data
                data += chunk

        drain()  # the reader wakes up
        with httpx2.Client(timeout=5) as http:
            assert http.get(server.url + "/healthz").status_code == 200
        time.sleep(0.2)
        assert b"log line(s) dropped: stderr was not being read" in drain()
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=20)
