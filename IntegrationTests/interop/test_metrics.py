"""`/metrics` of the HTTP server, in Prometheus's text format: what it counts matches what the service
got, the outbox and approvals gauges reflect the store, and it is behind the MCP endpoint's token."""

from __future__ import annotations

import re
import socket

import anyio
import httpx2
from mcp import Client

from test_http import HTTPServer

SAMPLE = re.compile(r'^([a-z_:]+)(?:\{(.*)\})? (\S+)$')


def scrape(url: str, headers: dict[str, str] | None = None) -> dict[tuple[str, frozenset], float]:
    answer = httpx2.get(url + "/metrics", headers=headers or {}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in answer.text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_metrics_count_what_the_services_got(binary, bark, bark_env):
    # ntfy points at a closed port: its messages wait in the outbox.
    env = {**bark_env, "MCP_PUSH_DEDUP_SECONDS": "0", "MCP_PUSH_RETRIES": "0", "NTFY_TOPIC": "metrics-test",
           "NTFY_URL": f"http://127.0.0.1:{closed_port()}"}
    server = HTTPServer(binary, env)
    try:
        async def main():
            async with Client(server.url + "/mcp") as client:
                for number in range(5):
                    await client.call_tool("notify_send", {"title": f"Build {number}", "content": "done", "channels": ["bark"]})
                return await client.call_tool("notify_send", {"title": "To both", "content": "x"})

        both = anyio.run(main)
        assert both.structured_content["status"] == "partial_success"
        samples = scrape(server.url)
        assert value(samples, "mcp_push_deliveries_total", channel="bark", outcome="delivered") == len(bark.requests) == 6
        assert value(samples, "mcp_push_deliveries_total", channel="ntfy", outcome="queued") == 1
        assert value(samples, "mcp_push_delivery_duration_seconds_count", channel="bark") == 6
        assert value(samples, "mcp_push_outbox_items") >= 1
        assert value(samples, "mcp_push_outbox_oldest_age_seconds") >= 0
        assert ("mcp_push_approvals_pending", frozenset()) in samples
    finally:
        server.stop()


def test_metrics_are_behind_the_token_when_one_is_set(binary, bark_env):
    server = HTTPServer(binary, {**bark_env, "MCP_PUSH_HTTP_TOKEN": "metrics-token-0123456789abcdef"})
    try:
        refused = httpx2.get(server.url + "/metrics", timeout=10)
        assert refused.status_code == 401 and "metrics-token" not in refused.text
        scrape(server.url, {"Authorization": "Bearer metrics-token-0123456789abcdef"})
    finally:
        server.stop()
