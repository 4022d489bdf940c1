#!/usr/bin/env python3
"""What a hook costs the agent: spawn to exit of `mcp-push hook claude` on a Stop payload,
with one channel answering at once and with no channel configured, next to `mcp-push --version`
(the floor: starting the binary). Runs alternate so the machine's drift hits all three alike.
With a channel, the hook hands the message to a background sender and exits; each run waits for
that delivery before the next, and every hook's message must have arrived.

    python3 bench/hook_bench.py [--binary .build/release/mcp-push] [--runs 40] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Fakes, base_env  # noqa: E402

STOP = {"session_id": "bench", "transcript_path": "/tmp/bench.jsonl", "cwd": str(ROOT), "permission_mode": "default",
        "hook_event_name": "Stop", "stop_hook_active": False, "last_assistant_message": "All tests pass."}


def timed(command: list[str], env: dict[str, str], stdin: bytes = b"") -> float:
    started = time.perf_counter()
    done = subprocess.run(command, input=stdin, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - started) * 1000
    assert done.returncode == 0 and (done.stdout == b"" or command[-1] == "--version"), done
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "mcp-push"))
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="three runs: checks the script still works")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    runs = 3 if args.smoke else args.runs
    fakes = Fakes()
    channel_env, services = fakes.environment(["bark"], 0)
    with tempfile.TemporaryDirectory() as state:
        env = {**base_env(state), "MCP_PUSH_HOOK_MIN_SECONDS": "0"}
        with_channel = {**env, **channel_env}
        payload = json.dumps(STOP).encode()
        def hook_with_channel() -> float:
            # The hook hands its message to a background sender: the time the agent waits is the
            # hook's; the delivery is waited for after, so that the next run does not share the CPU with it.
            expected = services[0].requests + 1
            elapsed = timed([args.binary, "hook", "claude"], with_channel, payload)
            deadline = time.monotonic() + 10
            while services[0].requests < expected and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.05)  # the sender exits once the outbox is empty
            return elapsed

        kinds = {
            "version": lambda: timed([args.binary, "--version"], env),
            "hook, one channel": hook_with_channel,
            "hook, no channel": lambda: timed([args.binary, "hook", "claude"], env, payload),
        }
        figures: dict[str, list[float]] = {name: [] for name in kinds}
        for run in range(runs + 1):
            for name, measure in kinds.items():
                value = measure()
                if run > 0:  # the first round creates the database and warms the page cache
                    figures[name].append(value)
        assert services[0].requests == runs + 1, f"{services[0].requests} deliveries for {runs + 1} hooks"
    floor = statistics.median(figures["version"])
    print("| spawn → exit | median ms | min | max | × --version |")
    print("|---|---|---|---|---|")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {min(values):.1f} | {max(values):.1f} | {median / floor:.2f} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({name: {"median": statistics.median(v), "min": min(v), "max": max(v)} for name, v in figures.items()}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
