"""One message per run, across processes: `mcp-push event` start in one process and end in another edit one
Telegram message (the fake Telegram here is the one the approvals use, with sendMessage and editMessageText)."""

from __future__ import annotations

import json
import os
import subprocess


def event(binary: str, env: dict[str, str], *arguments: str) -> dict:
    done = subprocess.run([binary, "event", "--json", *arguments], env={**os.environ, **env}, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_run_started_and_ended_by_two_processes_is_one_edited_message(binary, telegram, telegram_env):
    env = {**telegram_env, "MCP_PUSH_EVENTS": "all", "MCP_PUSH_APPROVALS": ""}
    started = event(binary, env, "--run-id", "nightly-7", "--event", "start", "--message", "Building **3** targets", "--format", "markdown")
    assert started["status"] == "success" and "edited" not in started["results"][0]
    ended = event(binary, env, "--run-id", "nightly-7", "--event", "end", "--message", "All 3 built")
    assert ended["status"] == "success" and ended["results"][0]["edited"] is True
    [sent] = telegram.sent
    assert sent["text"].startswith("<b>▶️ nightly-7 started</b>\n\nBuilding <b>3</b> targets")
    [edit] = telegram.edits
    assert edit["message_id"] == sent["message_id"]
    assert edit["text"].startswith("✅ nightly-7 finished\n\nAll 3 built") and "parse_mode" not in edit
    # Another run is a message of its own.
    event(binary, env, "--run-id", "nightly-8", "--event", "start", "--message", "Building")
    assert len(telegram.sent) == 2 and len(telegram.edits) == 1
