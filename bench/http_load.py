#!/usr/bin/env python3
"""Load on `mcp-push serve --transport http`: N concurrent clients (sessions), each making M
notify_send calls to a local fake Bark, repeated for several rounds against the same server. Reports
errors, lost calls (fake's count vs calls), calls per second, latency percentiles, and the server's RSS
before the load and after each round: the first round warms allocator pools and caches, so growth is
judged between the first round and the last (a leak grows every round).

    python3 bench/http_load.py [--binary .build/release/mcp-push] [--clients 32] [--calls 50] [--rounds 3]
    python3 bench/http_load.py --wrk 10     # also: the server's ceiling under wrk (apt install wrk)
    python3 bench/http_load.py --smoke

The Python clients cost more CPU than the server on a small machine, so their calls per second are a
floor. `--wrk SECONDS` adds a run of wrk (a C load generator) with the same number of connections on
one session, which shows what the server itself sustains.

Needs httpx2 (installed with `mcp` in the test venv: .venv/bin/python bench/http_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx2

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def result_of(response: httpx2.Response) -> dict:
    """The JSON-RPC answer, from a JSON body or the last SSE `data:` line."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return json.loads(data[-1])


async def client(url: str, number: int, calls: int, latencies: list[float], errors: list[str]) -> None:
    async with httpx2.AsyncClient(timeout=60) as http:
        init = await http.post(url, headers=HEADERS, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": f"load-{number}", "version": "1"}}})
        session = {**HEADERS, "Mcp-Session-Id": init.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
        await http.post(url, headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        for call in range(calls):
            started = time.perf_counter()
            answer = await http.post(url, headers=session, json={"jsonrpc": "2.0", "id": call + 1, "method": "tools/call", "params": {
                "name": "notify_send", "arguments": {"title": f"load {number}-{call}", "content": "x"}}})
            latencies.append((time.perf_counter() - started) * 1000)
            status = result_of(answer).get("result", {}).get("structuredContent", {}).get("status")
            if answer.status_code != 200 or status != "success":
                errors.append(f"{answer.status_code} {status}")
        await http.delete(url, headers=session)


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
wrk.headers["Mcp-Session-Id"] = "SESSION_ID"
local threads = {}
local counter = 0
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0 end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"jsonrpc":"2.0","id":' .. counter .. ',"method":"tools/call","params":' ..
    '{"name":"notify_send","arguments":{"title":"wrk ' .. counter .. '","content":"x"}}}')
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '\\"status\\":\\"success\\"', 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("failures %d\\n", total))
end
"""


async def open_session(url: str) -> str:
    async with httpx2.AsyncClient(timeout=60) as http:
        init = await http.post(url, headers=HEADERS, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "wrk", "version": "1"}}})
        session = init.headers["mcp-session-id"]
        await http.post(url, headers={**HEADERS, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"},
                        json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        return session


def wrk_run(url: str, connections: int, seconds: int, counter) -> dict:
    """wrk on one session: requests per second, failed answers, and whether the fake got every call."""
    session = asyncio.run(open_session(url))
    before = counter()
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.replace("SESSION_ID", session))
        script.flush()
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
                             capture_output=True, text=True, check=True).stdout
    time.sleep(0.5)
    completed = int(out.split(" requests in ")[0].split()[-1])
    failures = int(out.split("failures ")[1].split()[0])
    per_second = float(out.split("Requests/sec:")[1].split()[0])
    # Calls still in flight when wrk stopped were delivered too: the fake may count a few more.
    return {"requests": completed, "failures": failures, "per_second": per_second, "delivered": counter() - before}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "mcp-push"))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wrk", type=int, default=0, metavar="SECONDS", help="also load the server with wrk")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--database-url", help="keep the state in this PostgreSQL database (MCP_PUSH_DATABASE_URL)")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.calls, args.rounds = 2, 3, 2

    bench = load_bench()
    fakes = bench.Fakes()
    channel_env, services = fakes.environment(["bark"], 0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as state:
        # MALLOC_* variables pass through, to compare allocator settings.
        allocator = {key: value for key, value in os.environ.items() if key.startswith("MALLOC_")}
        env = {**bench.base_env(state), **channel_env, "MCP_PUSH_LOG_LEVEL": "warning", **allocator}
        if args.database_url:  # the shared state in PostgreSQL instead of the SQLite file
            env["MCP_PUSH_DATABASE_URL"] = args.database_url
        server = subprocess.Popen([args.binary, "serve", "--transport", "http", "--port", str(port)], env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/mcp"
        for _ in range(100):
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        before = bench.rss_kib(server.pid)
        latencies: list[float] = []
        errors: list[str] = []

        async def run() -> float:
            started = time.perf_counter()
            await asyncio.gather(*(client(url, n, args.calls, latencies, errors) for n in range(args.clients)))
            return time.perf_counter() - started

        elapsed = 0.0
        after_round: list[int] = []
        for _ in range(args.rounds):
            elapsed += asyncio.run(run())
            time.sleep(0.5)
            after_round.append(bench.rss_kib(server.pid))
        wrk = None
        if args.wrk:
            if shutil.which("wrk"):
                wrk = wrk_run(url, args.clients, args.wrk, lambda: services[0].requests)
            else:
                print("wrk not installed (apt install wrk): skipping the wrk run", file=sys.stderr)
        server.terminate()
        server.wait(timeout=30)

    calls = args.clients * args.calls * args.rounds
    latencies.sort()
    delivered = services[0].requests - (wrk["delivered"] if wrk else 0)
    rounds = " / ".join(f"{kib / 1024:.1f}" for kib in after_round)
    growth = (after_round[-1] - after_round[0]) / 1024
    print(f"mcp-push Streamable HTTP load, {time.strftime('%Y-%m-%d')}: {args.clients} clients x {args.calls} calls x {args.rounds} rounds\n")
    print("| Measure | Result |\n|---|---|")
    print(f"| Calls | {calls} ({len(errors)} errors, {calls - delivered} lost: the fake received {delivered}) |")
    print(f"| Calls/s | {calls / elapsed:.0f} |")
    print(f"| Latency p50 / p99 | {statistics.median(latencies):.1f} ms / {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms |")
    print(f"| Server RSS before load / after each round | {before / 1024:.1f} MiB / {rounds} MiB |")
    print(f"| RSS growth, first round to last | {growth:+.1f} MiB |")
    failed = bool(errors) or delivered != calls
    if wrk:
        print(f"| wrk, {args.clients} connections on one session, {args.wrk} s | {wrk['per_second']:.0f} calls/s "
              f"({wrk['requests']} calls, {wrk['failures']} failed; the fake received {wrk['delivered']}) |")
        failed = failed or wrk["failures"] > 0 or wrk["delivered"] < wrk["requests"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
