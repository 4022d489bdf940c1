"""Gateways side by side on one PostgreSQL (MCP_PUSH_DATABASE_URL): three `serve --transport http --stateless`
replicas under load, one killed with SIGKILL mid-way; what every accepted call sent reaches the service once, the
rate limits hold across replicas, a run spans replicas, migrations race safely, and /metrics adds up.
Needs MCP_PUSH_TEST_DATABASE_URL (scripts/test.sh starts a throwaway PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import httpx2
import pytest

from conftest import DEVICE_KEY, TEST_DATABASE_SERVER, fresh_postgres_database
from fake_services import JSONHandler, LocalService
from test_http import HTTPServer
from test_metrics import scrape, value

pytestmark = pytest.mark.skipif(TEST_DATABASE_SERVER is None, reason="set MCP_PUSH_TEST_DATABASE_URL (scripts/test.sh does)")
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


@pytest.fixture()
def database() -> str:
    return fresh_postgres_database()


def replicas(binary: str, env: dict[str, str], count: int = 3) -> list[HTTPServer]:
    # Errors only: a line per request would fill the stderr pipe, which nobody reads during the load.
    env = {**env, "MCP_PUSH_LOG_LEVEL": "error"}
    return [HTTPServer(binary, {**env, "MCP_PUSH_STATE_DIR": f"{env['MCP_PUSH_STATE_DIR']}-{n}"}, "--stateless") for n in range(count)]


def stop(servers: list[HTTPServer]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.stop()


def result_of(response: httpx2.Response) -> dict:
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return json.loads(data[-1])


async def call(http: httpx2.AsyncClient, url: str, tool: str, arguments: dict) -> dict | None:
    """One stateless tools/call; its structured result, or None when the replica did not answer."""
    try:
        answer = await http.post(url + "/mcp", headers=HEADERS, json={
            "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
    except httpx2.TransportError:
        return None
    if answer.status_code != 200:
        return None
    return result_of(answer).get("result", {}).get("structuredContent")


def test_three_replicas_under_load_with_one_killed_lose_nothing(binary, bark, bark_env, database):
    env = {**bark_env, "MCP_PUSH_DATABASE_URL": database, "MCP_PUSH_DEDUP_SECONDS": "0", "MCP_PUSH_TIMEOUT": "2",
           "MCP_PUSH_DEADLINE": "3"}
    servers = replicas(binary, env)
    accepted: list[str] = []
    unanswered: list[str] = []
    refused: list[str] = []
    try:
        async def client(number: int) -> None:
            async with httpx2.AsyncClient(timeout=30) as http:
                for index in range(100):
                    title = f"load {number}-{index}"
                    server = servers[(number + index) % 3]
                    result = await call(http, server.url, "notify_send", {"title": title, "content": "x"})
                    if result and result.get("status") in ("success", "queued"):
                        accepted.append(title)
                    else:
                        unanswered.append(title)
                        if result:
                            refused.append(result.get("message", ""))

        async def load() -> None:
            clients = [asyncio.create_task(client(n)) for n in range(32)]
            while len(accepted) < 1000 and not all(c.done() for c in clients):
                await asyncio.sleep(0.01)
            servers[1].process.send_signal(signal.SIGKILL)
            await asyncio.gather(*clients)

        started = time.monotonic()
        asyncio.run(load())
        took = time.monotonic() - started
        print(f"\n3 replicas on PostgreSQL: {len(accepted)} calls accepted in {took:.1f} s ({len(accepted) / took:.0f}/s), "
              f"{len(unanswered)} sent to the killed replica unanswered")
        assert not refused, refused[:3]
        assert len(accepted) + len(unanswered) == 3200
        assert len(accepted) >= 2000
        # What the killed replica wrote ahead and never sent is taken over by the others once its claims run
        # out (deadline + timeout + 10 s): the outbox empties, each of those messages sent once.
        def waiting() -> int:
            out = subprocess.run(["psql", database, "-tA", "-c", "SELECT count(*) FROM outbox WHERE expired_at IS NULL"],
                                 capture_output=True, text=True, check=True).stdout
            return int(out.strip())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (waiting() > 0 or not set(accepted) <= set(bark.delivered_titles())):
            time.sleep(0.5)
        assert waiting() == 0, "the killed replica's deliveries were not taken over"
        received = Counter(bark.delivered_titles())
        missing = [title for title in accepted if received[title] == 0]
        assert not missing, f"{len(missing)} accepted calls never arrived, e.g. {missing[:5]}"
        # Every answered call was recorded before its answer, so nothing takes it over: exactly once.
        twice = [title for title in accepted if received[title] > 1]
        assert not twice, f"{len(twice)} accepted calls arrived more than once, e.g. {twice[:5]}"
        # A call the killed replica had under way got no answer; what it wrote ahead is taken over, so it may
        # arrive (once, or twice if the service had it before the kill: no push service takes an idempotency key).
        again = [title for title in unanswered if received[title] > 1]
        print(f"received {sum(received.values())} requests for {len(received)} titles; every accepted call once; "
              f"{sum(1 for t in unanswered if received[t])} unanswered calls delivered from the outbox, {len(again)} of them twice")
        assert len(again) <= 32 and all(received[title] <= 2 for title in unanswered), again[:10]
        assert set(received) <= set(accepted) | set(unanswered)
    finally:
        stop(servers)


class FakeDingTalk(LocalService):
    """DingTalk's robot: {"errcode":0} while under 20 messages a minute, else 130101 (it counts arrivals)."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.refused = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.monotonic()
                with fake.lock:
                    recent = [t for t in fake.arrivals if now - t < 60]
                    if len(recent) >= 20:
                        fake.refused += 1
                        self._answer(200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
                        return
                    fake.arrivals.append(now)
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

        self._serve(Handler)


def test_a_rate_limit_holds_across_replicas(binary, bark_env, database):
    with FakeDingTalk() as dingtalk:
        env = {**bark_env, "MCP_PUSH_DATABASE_URL": database, "MCP_PUSH_DEDUP_SECONDS": "0", "DD_BOT_TOKEN": "robot-token-0123",
               "MCP_PUSH_DINGTALK_BASE_URL": dingtalk.base_url}
        servers = replicas(binary, env)
        try:
            async def main() -> list[dict]:
                async with httpx2.AsyncClient(timeout=30) as http:
                    calls = [call(http, servers[n % 3].url, "notify_send", {"title": f"robot {n}", "content": "x", "channels": ["dingtalk"]})
                             for n in range(45)]
                    return await asyncio.gather(*calls)

            results = asyncio.run(main())
            statuses = Counter(r["status"] for r in results)
            assert statuses["success"] == 20 and statuses["queued"] == 25, statuses
            assert len(dingtalk.arrivals) == 20 and dingtalk.refused == 0
            # Each replica counts its own deliveries: together they are what the service got.
            delivered = sum(value(scrape(s.url), "mcp_push_deliveries_total", channel="dingtalk", outcome="delivered") for s in servers)
            assert delivered == 20
            assert max(value(scrape(s.url), "mcp_push_outbox_items") for s in servers) == 25
        finally:
            stop(servers)


def test_a_run_started_on_one_replica_ends_on_another_with_its_duration(binary, bark, bark_env, database):
    servers = replicas(binary, {**bark_env, "MCP_PUSH_DATABASE_URL": database}, count=2)
    try:
        async def main() -> None:
            async with httpx2.AsyncClient(timeout=30) as http:
                await call(http, servers[0].url, "notify_event", {"run_id": "spanning", "event": "start", "message": "go"})
                await asyncio.sleep(1.1)
                await call(http, servers[1].url, "notify_event", {"run_id": "spanning", "event": "end", "message": "done"})

        asyncio.run(main())
        [finished] = [r["body"] for r in bark.requests if r["body"]["title"] == "✅ spanning finished"]
        assert "Took: 1s" in finished["body"] or "Took: 2s" in finished["body"], finished["body"]
    finally:
        stop(servers)


def test_migrations_from_three_replicas_at_once(binary, database):
    env = {**os.environ, "MCP_PUSH_DATABASE_URL": database, "MCP_PUSH_CONFIG": os.devnull}
    started = [subprocess.Popen([binary, "db", "migrate", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in range(3)]
    for process in started:
        assert process.wait(timeout=60) == 0, process.stderr.read()
        status = json.loads(process.stdout.read())
        assert status["ok"] and status["schema_version"] == 5 and "password" not in status["location"]
