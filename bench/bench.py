#!/usr/bin/env python3
"""mcp-push benchmark: cold start, fan-out overhead, calls per second and memory over stdio.

Run after `swift build -c release`:

    python3 bench/bench.py                    # full run, prints a Markdown table
    python3 bench/bench.py --smoke            # tiny counts (CI keeps the script from rotting)
    python3 bench/bench.py --binary .build/debug/mcp-push --json results.json

Needs only Python 3.10+. Every push service is a local fake (asyncio, HTTP/1.1 keep-alive) on
127.0.0.1 that answers with the service's success body after a set latency. The MCP side is
driven by hand-written JSON-RPC lines over the binary's stdin/stdout, so the client costs
next to nothing in the figures. Timings are wall-clock medians; RSS comes from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Each channel: the variables configuring it against `base` and the body its fake answers with.
# A fake routes on the path only where one channel makes two different calls (WeCom app's token).
CHANNELS: dict[str, tuple] = {
    "bark": (lambda b: {"BARK_PUSH": "BenchDeviceKey01234", "MCP_PUSH_BARK_BASE_URL": b},
             {"code": 200, "message": "success", "timestamp": 1732406400}),
    "dingtalk": (lambda b: {"DD_BOT_TOKEN": "bench-ding-token-0123456789", "DD_BOT_SECRET": "SECbench0123456789",
                            "MCP_PUSH_DINGTALK_BASE_URL": b},
                 {"errcode": 0, "errmsg": "ok"}),
    "feishu": (lambda b: {"FSKEY": "bench-feishu-hook-0123", "FSSECRET": "bench-feishu-secret", "MCP_PUSH_FEISHU_BASE_URL": b},
               {"code": 0, "msg": "success", "data": {}}),
    "telegram": (lambda b: {"TG_BOT_TOKEN": "123456:bench-telegram-token", "TG_USER_ID": "42", "MCP_PUSH_TELEGRAM_BASE_URL": b},
                 {"ok": True, "result": {"message_id": 1, "chat": {"id": 42, "type": "private"}, "date": 1732406400, "text": "x"}}),
    "wecom_bot": (lambda b: {"QYWX_KEY": "bench-wecom-bot-key-0123", "MCP_PUSH_WECOM_BOT_BASE_URL": b},
                  {"errcode": 0, "errmsg": "ok"}),
    "wecom_app": (lambda b: {"QYWX_AM": "wwbenchcorp,bench-corp-secret-0123,@all,1000002", "MCP_PUSH_WECOM_APP_BASE_URL": b},
                  {"gettoken": {"errcode": 0, "errmsg": "ok", "access_token": "bench-access-token", "expires_in": 7200},
                   "": {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "x"}}),
    "gotify": (lambda b: {"GOTIFY_URL": b, "GOTIFY_TOKEN": "benchGotifyToken"},
               {"id": 1, "appid": 1, "message": "m", "title": "t", "priority": 5, "date": "2026-11-24T09:00:00Z"}),
    "ntfy": (lambda b: {"NTFY_TOPIC": "bench-topic", "NTFY_URL": b},
             {"id": "sPs7Bmw7Jd6", "time": 1732406400, "event": "message", "topic": "bench-topic", "message": "m"}),
    "pushdeer": (lambda b: {"DEER_KEY": "PDU1234TbenchKey", "DEER_URL": b},
                 {"code": 0, "content": {"result": ["{\"counts\":1,\"logs\":[],\"success\":\"ok\"}"]}}),
    "pushplus": (lambda b: {"PUSH_PLUS_TOKEN": "benchpushplustoken0123", "MCP_PUSH_PUSHPLUS_BASE_URL": b},
                 {"code": 200, "msg": "请求成功", "data": "bench", "count": None}),
    "serverchan": (lambda b: {"PUSH_KEY": "SCTbenchServerChanKey", "MCP_PUSH_SERVERCHAN_BASE_URL": b},
                   {"code": 0, "message": "", "data": {"pushid": "1", "readkey": "k", "error": "SUCCESS", "errno": 0}}),
    "gocqhttp": (lambda b: {"GOBOT_URL": b + "/send_private_msg", "GOBOT_QQ": "user_id=10001"},
                 {"status": "ok", "retcode": 0, "data": {"message_id": 1}}),
    "chronocat": (lambda b: {"CHRONOCAT_URL": b, "CHRONOCAT_QQ": "user_id=10001", "CHRONOCAT_TOKEN": "bench-chronocat"},
                  {"msgId": "1"}),
    "wxpusher": (lambda b: {"WXPUSHER_APP_TOKEN": "AT_bench", "WXPUSHER_UIDS": "UID_bench", "MCP_PUSH_WXPUSHER_BASE_URL": b},
                 {"code": 1000, "msg": "处理成功", "data": [{"uid": "UID_bench", "code": 1000}], "success": True}),
    "qmsg": (lambda b: {"QMSG_KEY": "benchqmsgkey0123", "QMSG_TYPE": "send", "MCP_PUSH_QMSG_BASE_URL": b},
             {"success": True, "reason": "操作成功", "code": 0, "info": {}}),
    "igot": (lambda b: {"IGOT_PUSH_KEY": "benchigotkey0123456789ab", "MCP_PUSH_IGOT_BASE_URL": b},
             {"ret": 0, "data": {"id": "x"}, "errMsg": "ok"}),
    "pushme": (lambda b: {"PUSHME_KEY": "bench-pushme-key", "PUSHME_URL": b + "/"}, "success"),
    "weplus": (lambda b: {"WE_PLUS_BOT_TOKEN": "bench-weplus-token", "MCP_PUSH_WEPLUS_BASE_URL": b},
               {"code": 200, "msg": "请求成功", "data": "x"}),
    "aibotk": (lambda b: {"AIBOTK_KEY": "bench-aibotk-key", "AIBOTK_TYPE": "room", "AIBOTK_NAME": "bench", "MCP_PUSH_AIBOTK_BASE_URL": b},
               {"code": 0, "msg": "success", "data": {}}),
    "synology_chat": (lambda b: {"CHAT_URL": b + "/webapi/entry.cgi?api=SYNO.Chat.External&method=incoming&version=2&token=",
                                 "CHAT_TOKEN": "benchSynologyToken"}, {"success": True}),
    "webhook": (lambda b: {"WEBHOOK_URL": b + "/hook", "WEBHOOK_METHOD": "POST", "WEBHOOK_BODY": "title: $title"}, {"ok": True}),
}


# Eleven channels behind one host (self-hosted services behind one proxy): more than
# async-http-client's default of 8 connections per host, which made the ninth wait.
ONE_HOST_CHANNELS = ["bark", "dingtalk", "feishu", "telegram", "wecom_bot", "gotify", "ntfy", "pushdeer", "pushplus",
                     "serverchan", "webhook"]


class FakeService:
    """A minimal HTTP/1.1 server with keep-alive: fast enough not to be what is measured."""

    def __init__(self, loop: asyncio.AbstractEventLoop, body, latency: float) -> None:
        self.loop, self.body, self.latency = loop, body, latency
        self.requests = 0
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.handle, "127.0.0.1", 0), loop).result()
        self.base_url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def answer_for(self, target: str) -> bytes:
        body = self.body
        while isinstance(body, dict) and "" in body:  # routed by path (a channel's calls, or channels sharing a host)
            body = next((v for k, v in body.items() if k and k in target), body[""])
        return body.encode() if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                self.requests += 1
                if self.latency:
                    await asyncio.sleep(self.latency)
                data = self.answer_for(target)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                             b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class Fakes:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def environment(self, channels: list[str], latency: float) -> tuple[dict[str, str], list[FakeService]]:
        env: dict[str, str] = {}
        services = []
        for channel in channels:
            make_env, body = CHANNELS[channel]
            service = FakeService(self.loop, body, latency)
            services.append(service)
            env.update(make_env(service.base_url))
        return env, services

    def shared_host_environment(self, channels: list[str], latency: float) -> tuple[dict[str, str], FakeService]:
        """Every channel on one fake (one host and port, as behind one reverse proxy), each under
        its own path prefix: the client's per-host connection limit is what this measures."""
        routes: dict[str, object] = {"": {"error": "no such channel"}}
        service = FakeService(self.loop, routes, latency)
        env: dict[str, str] = {}
        for channel in channels:
            make_env, body = CHANNELS[channel]
            routes[f"/c/{channel}"] = body
            env.update(make_env(f"{service.base_url}/c/{channel}"))
        return env, service


def proc_kib(pid: int, file: str, field: str) -> int:
    """A `Field:   N kB` line of /proc/<pid>/<file>, in KiB (0 if absent)."""
    for line in pathlib.Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_kib(pid: int) -> int:
    return proc_kib(pid, "status", "VmRSS")


class Session:
    """One mcp-push process over stdio, spoken to in JSON-RPC lines."""

    def __init__(self, binary: str, env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen([binary, "--transport", "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=env, bufsize=0)
        # Unbuffered stdin (each request leaves at once); buffered stdout: `readline` on the raw pipe
        # reads one byte per system call, which made the client, not mcp-push, the pipelined run's cost.
        self.answers = io.BufferedReader(self.process.stdout, buffer_size=1 << 16)
        self.next_id = 0

    def write(self, message: dict) -> None:
        self.process.stdin.write((json.dumps(message) + "\n").encode())

    def read(self) -> dict:
        line = self.answers.readline()
        if not line:
            raise RuntimeError("mcp-push closed stdout")
        return json.loads(line)

    def request(self, method: str, params: dict) -> int:
        self.next_id += 1
        self.write({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def call(self, method: str, params: dict) -> dict:
        wanted = self.request(method, params)
        while True:
            answer = self.read()
            if answer.get("id") == wanted:
                return answer

    def initialize(self) -> dict:
        answer = self.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                          "clientInfo": {"name": "bench", "version": "1"}})
        self.write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answer

    def send(self, title: str, content: str = "bench") -> dict:
        answer = self.call("tools/call", {"name": "notify_send", "arguments": {"title": title, "content": content}})
        status = answer["result"]["structuredContent"]["status"]
        if status != "success":
            raise RuntimeError(f"notify_send was {status}: {answer['result']['structuredContent']}")
        return answer

    def rss_kib(self) -> int:
        return rss_kib(self.process.pid)

    def anonymous_kib(self) -> int:
        """Memory the process itself allocated: RSS less the executable's and libraries' file pages."""
        return proc_kib(self.process.pid, "smaps_rollup", "Anonymous")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def base_env(state_dir: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MCP_PUSH_", "BARK_", "DD_", "TG_"))}
    env.update({"MCP_PUSH_CONFIG": os.devnull, "MCP_PUSH_STATE_DIR": state_dir, "MCP_PUSH_DEDUP_SECONDS": "0",
                "MCP_PUSH_LOG_LEVEL": "error"})
    return env


def summary(values_ms: list[float]) -> dict:
    return {"median": statistics.median(values_ms), "min": min(values_ms), "max": max(values_ms), "runs": len(values_ms)}


def cold_start(binary: str, fakes: Fakes, runs: int, state_dir: str) -> dict:
    channel_env, _ = fakes.environment(["bark"], 0)
    env = {**base_env(state_dir), **channel_env}
    to_initialize, to_first_send = [], []
    for run in range(runs + 1):
        session = Session(binary, env)
        session.initialize()
        initialized = time.perf_counter()
        session.send(f"cold start {run}")
        sent = time.perf_counter()
        session.close()
        if run == 0:
            continue  # the first run creates the database and warms the page cache
        to_initialize.append((initialized - session.started) * 1000)
        to_first_send.append((sent - session.started) * 1000)
    return {"spawn_to_initialize_ms": summary(to_initialize), "spawn_to_first_send_ms": summary(to_first_send)}


# The floor of a fan-out: a bare client, in a process of its own, sends one request on each kept-alive
# connection at once and waits for every answer. What it measures above the latency is the fakes' own time
# (Python reading 21 requests, its timers firing late) and the loopback's, which no client can avoid.
BARE_CLIENT = r"""
import json, select, socket, sys, time
spacing, calls, ports = float(sys.argv[1]), int(sys.argv[2]), [int(port) for port in sys.argv[3:]]
sockets = [socket.create_connection(("127.0.0.1", port)) for port in ports]
request = b"POST /c/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
def call():
    start = time.perf_counter()
    for connection in sockets:
        connection.sendall(request)
    waiting, received = set(sockets), {connection: b"" for connection in sockets}
    while waiting:
        for connection in select.select(list(waiting), [], [])[0]:
            received[connection] += connection.recv(65536)
            head, _, body = received[connection].partition(b"\r\n\r\n")
            lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if lengths and len(body) >= int(lengths[0].split(b":")[1]):
                waiting.discard(connection)
    return (time.perf_counter() - start) * 1000
call()
durations = []
for _ in range(calls):
    time.sleep(spacing)
    durations.append(call())
print(json.dumps(durations))
"""


def bare_fan_out_ms(ports: list[int], calls: int) -> float:
    done = subprocess.run([sys.executable, "-c", BARE_CLIENT, "1.05", str(calls), *map(str, ports)],
                          capture_output=True, text=True, check=True, timeout=120)
    return statistics.median(json.loads(done.stdout))


def fan_out(binary: str, fakes: Fakes, channels: list[str], latency: float, calls: int, state_dir: str,
            one_host: bool = False) -> dict:
    if one_host:
        channel_env, service = fakes.shared_host_environment(channels, latency)
        ports = [int(service.base_url.rsplit(":", 1)[1])] * len(channels)
    else:
        channel_env, services = fakes.environment(channels, latency)
        ports = [int(service.base_url.rsplit(":", 1)[1]) for service in services]
    session = Session(binary, {**base_env(state_dir), **channel_env})
    session.initialize()
    session.send("fan-out warm-up")  # connections, TLS-free here, token fetch for WeCom app
    durations = []
    outside = []
    for call in range(calls):
        # Spaced so that no channel's rate limit (Feishu: 5 a second) queues a message.
        time.sleep(1.05)
        start = time.perf_counter()
        answer = session.send(f"fan-out {call}")
        durations.append((time.perf_counter() - start) * 1000)
        content = answer["result"]["structuredContent"]
        assert content["channels_count"] == len(channels)
        # Time the call spent outside its slowest delivery (which includes the fakes' own work).
        outside.append(durations[-1] - max(result["duration_ms"] for result in content["results"]))
    session.close()
    result = summary(durations)
    result["overhead_ms"] = result["median"] - latency * 1000
    result["outside_slowest_delivery_ms"] = statistics.median(outside)
    # The same requests from a bare client, against the same fakes: the slowest channel as seen from outside.
    result["floor_ms"] = bare_fan_out_ms(ports, calls) - latency * 1000
    result["above_floor_ms"] = result["overhead_ms"] - result["floor_ms"]
    result["channels"] = len(channels)
    return result


def throughput(binary: str, fakes: Fakes, calls: int, window: int, state_dir: str) -> dict:
    channel_env, services = fakes.environment(["bark", "ntfy"], 0)
    session = Session(binary, {**base_env(state_dir), **channel_env})
    session.initialize()
    session.send("throughput warm-up")

    start = time.perf_counter()
    for call in range(calls // 4):
        session.send(f"sequential {call}")
    sequential = (calls // 4) / (time.perf_counter() - start)

    # Pipelined: up to `window` calls in flight, as an agent running tools in parallel would.
    start = time.perf_counter()
    sent = received = 0
    while received < calls:
        while sent < calls and sent - received < window:
            session.request("tools/call", {"name": "notify_send", "arguments": {"title": f"pipelined {sent}", "content": "bench"}})
            sent += 1
        answer = session.read()
        if "id" in answer:
            if answer["result"]["structuredContent"]["status"] != "success":
                raise RuntimeError(f"pipelined call failed: {answer}")
            received += 1
    pipelined = calls / (time.perf_counter() - start)
    session.close()
    delivered = sum(service.requests for service in services)
    return {"sequential_calls_per_s": sequential, "pipelined_calls_per_s": pipelined, "window": window,
            "calls": calls, "requests_at_fakes": delivered}


def memory(binary: str, fakes: Fakes, calls: int, state_dir: str, smoke: bool = False) -> dict:
    channel_env, _ = fakes.environment(["bark", "ntfy"], 0)
    session = Session(binary, {**base_env(state_dir), **channel_env})
    session.initialize()
    time.sleep(0.3)  # the store opens in the background
    idle, idle_anonymous = session.rss_kib(), session.anonymous_kib()
    time.sleep(0.1 if smoke else 2.7)  # a server gives back start-up's code pages 2 s after it starts
    settled = session.rss_kib()
    for call in range(calls // 10):
        session.send(f"memory warm-up {call}")
    warm, warm_anonymous = session.rss_kib(), session.anonymous_kib()
    for call in range(calls):
        session.send(f"memory {call}")
    after, after_anonymous = session.rss_kib(), session.anonymous_kib()
    session.close()
    return {"idle_after_initialize_mib": idle / 1024, "idle_anonymous_mib": idle_anonymous / 1024,
            "idle_after_3_s_mib": settled / 1024,
            "after_warm_up_mib": warm / 1024, "after_calls_mib": after / 1024, "growth_mib": (after - warm) / 1024,
            "anonymous_growth_mib": (after_anonymous - warm_anonymous) / 1024, "calls": calls}


def binary_size(binary: str) -> dict:
    """The executable as built and stripped of symbols (what `strip` leaves to ship)."""
    with tempfile.TemporaryDirectory() as scratch:
        stripped = pathlib.Path(scratch) / "mcp-push"
        subprocess.run(["strip", "-o", str(stripped), binary], check=True)
        return {"built_mib": os.path.getsize(binary) / 2**20, "stripped_mib": os.path.getsize(stripped) / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "mcp-push"))
    parser.add_argument("--runs", type=int, default=30, help="cold starts measured")
    parser.add_argument("--fanout-calls", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.2, help="fan-out channel latency, seconds")
    parser.add_argument("--calls", type=int, default=4000, help="calls in the throughput run")
    parser.add_argument("--window", type=int, default=32, help="calls in flight in the pipelined run")
    parser.add_argument("--memory-calls", type=int, default=10000)
    parser.add_argument("--smoke", action="store_true", help="tiny counts: checks the script still works")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.fanout_calls, args.calls, args.memory_calls, args.latency = 2, 1, 40, 50, 0.05
    if not os.access(args.binary, os.X_OK):
        print(f"no binary at {args.binary}: run scripts/build-release.sh first", file=sys.stderr)
        return 2

    fakes = Fakes()
    channels = list(CHANNELS)
    with tempfile.TemporaryDirectory() as state:
        results = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            "binary": args.binary,
            "cold_start": cold_start(args.binary, fakes, args.runs, f"{state}/cold"),
            "fan_out": fan_out(args.binary, fakes, channels, args.latency, args.fanout_calls, f"{state}/fan"),
            "fan_out_one_host": fan_out(args.binary, fakes, ONE_HOST_CHANNELS, args.latency, args.fanout_calls,
                                        f"{state}/fan1", one_host=True),
            "throughput": throughput(args.binary, fakes, args.calls, args.window, f"{state}/tp"),
            "memory": memory(args.binary, fakes, args.memory_calls, f"{state}/mem", smoke=args.smoke),
            "size": binary_size(args.binary),
        }

    cold, fan, tp, mem = results["cold_start"], results["fan_out"], results["throughput"], results["memory"]
    one_host = results["fan_out_one_host"]
    rows = [
        ("Spawn → `initialize` answered", "{median:.1f} ms (min {min:.1f}, max {max:.1f}, {runs} runs)".format(**cold["spawn_to_initialize_ms"])),
        ("Spawn → first `notify_send` result (1 channel, 0 ms)", "{median:.1f} ms (min {min:.1f}, max {max:.1f})".format(**cold["spawn_to_first_send_ms"])),
        (f"Fan-out: {fan['channels']} channels answering after {args.latency * 1000:.0f} ms",
         "{median:.1f} ms (overhead {overhead_ms:.1f} ms: {above_floor_ms:.1f} ms above a bare client's {floor_ms:.1f} ms, "
         "{outside_slowest_delivery_ms:.1f} ms outside the slowest delivery; min {min:.1f}, max {max:.1f}, {runs} calls)".format(**fan)),
        (f"Fan-out: {one_host['channels']} channels on one host, answering after {args.latency * 1000:.0f} ms",
         "{median:.1f} ms (overhead {overhead_ms:.1f} ms: {above_floor_ms:.1f} ms above a bare client's {floor_ms:.1f} ms; "
         "min {min:.1f}, max {max:.1f})".format(**one_host)),
        ("Calls/s, one stdio session, 2 channels at 0 ms, sequential", f"{tp['sequential_calls_per_s']:.0f}"),
        (f"Calls/s, pipelined ({tp['window']} in flight)", f"{tp['pipelined_calls_per_s']:.0f} ({tp['calls']} calls)"),
        ("RSS idle after `initialize` (of which anonymous)",
         f"{mem['idle_after_initialize_mib']:.1f} MiB ({mem['idle_anonymous_mib']:.1f} MiB)"),
        ("RSS idle 3 s after `initialize`", f"{mem['idle_after_3_s_mib']:.1f} MiB"),
        (f"RSS after {mem['calls']} calls (growth after warm-up; anonymous growth)",
         f"{mem['after_calls_mib']:.1f} MiB ({mem['growth_mib']:+.1f} MiB; {mem['anonymous_growth_mib']:+.1f} MiB)"),
        ("Executable size, stripped (as built)", "{stripped_mib:.1f} MiB ({built_mib:.1f} MiB)".format(**results["size"])),
    ]
    print(f"mcp-push bench, {results['date']}, {results['machine']}\n")
    print("| Measure | Result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
