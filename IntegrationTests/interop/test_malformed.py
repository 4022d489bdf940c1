"""A corpus of malformed input: never a crash, a hang, or anything but protocol on stdout.

scripts/test.sh runs it against the debug build and again against the release binary."""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx2

from test_http import HTTPServer, MCP_HEADERS

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "notify_send", "arguments": {"title": "t", "content": "c"}}}
WRONG_TYPES = [0, -1.5, 10**30, "", "x", None, True, [], [1], {}, {"a": 1}]


def variants() -> list[bytes]:
    """The call with each position given every wrong type, cut short at every tenth byte, and more."""
    lines: list[bytes] = []
    text = json.dumps(CALL).encode()
    lines += [text[:cut] for cut in range(1, len(text), 10)]
    for wrong in WRONG_TYPES:
        for path in [("jsonrpc",), ("id",), ("method",), ("params",), ("params", "name"), ("params", "arguments"),
                     ("params", "arguments", "title"), ("params", "arguments", "content"), ("params", "arguments", "channels")]:
            message = json.loads(text)
            target = message
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = wrong
            lines.append(json.dumps(message).encode())
    lines += [
        b"", b"   ", b"null", b"true", b"1", b'"s"', b"[]", b"[1]", b"[[]]", b"{}", b"\xef\xbb\xbf{}",
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xff\xfe"}}',  # invalid UTF-8
        b'{"jsonrpc":"2.0","id":1,"method":"ping"\x00}',
        b"[" * 100_000,
        b'{"jsonrpc":"2.0","id":"' + b"i" * 100_000 + b'","method":"ping"}',
        b'{"jsonrpc":"2.0","id":7,"method":"ping"}', b'{"jsonrpc":"2.0","id":7,"method":"ping"}',  # a duplicate id
        b'{"jsonrpc":"2.0","id":8,"method":"no/such/method"}',
        b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"notify_send","arguments":{"title":"' + b"\\ud800" + b'","content":"c"}}}',
        b'{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"notify_send","arguments":{"title":"t","content":"' + b"c" * (15 << 20) + b'"}}}',
        b'{"pad":"' + b"z" * (20 << 20) + b'"}',  # a 20 MB line
    ]
    return lines


def test_stdio_survives_the_corpus(binary, bark_env):
    initialize = json.dumps({"jsonrpc": "2.0", "id": "init", "method": "initialize",
                             "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}).encode()
    after = [b'{"jsonrpc":"2.0","method":"notifications/initialized"}'] + variants() + [b'{"jsonrpc":"2.0","id":"last","method":"tools/list"}']
    # Before initialize too: the same corpus must be refused, not acted on.
    lines = variants()[:40] + [initialize] + after
    started = time.monotonic()
    process = subprocess.run([binary], input=b"\n".join(lines) + b"\n", capture_output=True, timeout=120,
                             env={"PATH": os.environ.get("PATH", ""), **bark_env, "MCP_PUSH_CHANNEL_TIMEOUT": "3"})
    elapsed = time.monotonic() - started
    assert process.returncode == 0, process.stderr.decode()[-2000:]
    answers = [json.loads(line) for line in process.stdout.splitlines()]  # every line is JSON
    assert all(a.get("jsonrpc") == "2.0" and ("result" in a or "error" in a or "method" in a) for a in answers)
    ids = [a.get("id") for a in answers if "method" not in a]
    assert ids.count(7) == 2 and ids.count("init") == 1 and ids.count("last") == 1 and ids.count(8) == 1
    assert {a["error"]["code"] for a in answers if "error" in a} <= {-32700, -32600, -32601, -32602}
    by_id = {a.get("id"): a for a in answers}
    assert by_id["last"]["result"]["tools"], "still serving after the corpus"
    assert elapsed < 60


def test_http_survives_the_corpus(binary, bark_env):
    server = HTTPServer(binary, {**bark_env, "MCP_PUSH_HTTP_MAX_BODY": str(16 << 20)})
    try:
        url = server.url + "/mcp"
        opened = httpx2.post(url, headers=MCP_HEADERS, json={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                             "params": {"protocolVersion": "2025-11-25", "capabilities": {}}})
        session = {**MCP_HEADERS, "MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": opened.headers["mcp-session-id"]}
        modern = {**MCP_HEADERS, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "notify_send"}
        for body, headers in [(body, headers) for body in variants() for headers in (session, modern)]:
            answer = httpx2.post(url, headers=headers, content=body, timeout=30)
            assert answer.status_code in (200, 202, 400, 404, 413), (body[:80], answer.status_code)
            if answer.status_code not in (202, 413) and answer.content:
                assert answer.json()["jsonrpc"] == "2.0"
        assert httpx2.get(server.url + "/healthz").status_code == 200
    finally:
        assert server.stop() == 0
