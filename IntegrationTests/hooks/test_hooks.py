"""`mcp-push hook AGENT` with payloads shaped as each agent documents them: what is pushed
(project, branch, duration, message, error) at a fake Bark, what is not, and that the hook
never gets in the agent's way (exit 0, nothing on stdout, back within its deadline)."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import time

import pytest

from interop_fixtures import wait_until

PAYLOADS = pathlib.Path(__file__).resolve().parent / "payloads"


@pytest.fixture()
def repo(tmp_path: pathlib.Path) -> pathlib.Path:
    """A git working copy on branch feature/parser, as `.git` lays it out."""
    root = tmp_path / "shop-api"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/feature/parser\n")
    (root / "src").mkdir()
    return root


def payload(name: str, cwd: pathlib.Path) -> str:
    return (PAYLOADS / f"{name}.json").read_text().replace('"CWD"', json.dumps(str(cwd)))


def hook(binary: str, env: dict[str, str], agent: str, stdin: str = "", *arguments: str, timeout: float = 20,
         settle: bool = True):
    """Runs the hook; returns once it exited (its time is what the agent waits) and, with `settle`, the
    background process it handed its message to has finished too."""
    started = time.monotonic()
    done = subprocess.run([binary, "hook", agent, *arguments], input=stdin.encode(), env={**os.environ, **env},
                          capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - started
    if settle:
        wait_for_background_senders(binary, env.get("MCP_PUSH_STATE_DIR", ""))
    return done, elapsed


def background_senders(binary: str, state_dir: str) -> list[int]:
    """The `outbox --drain` processes working this test's state directory."""
    found = subprocess.run(["pgrep", "-f", f"^{os.path.realpath(binary)} outbox --drain"], capture_output=True, text=True).stdout
    mine = []
    for pid in map(int, found.split()):
        try:
            environ = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"MCP_PUSH_STATE_DIR={state_dir}".encode() in environ:
            mine.append(pid)
    return mine


def wait_for_background_senders(binary: str, state_dir: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while background_senders(binary, state_dir):
        if time.monotonic() > deadline:
            raise AssertionError("the background sender did not finish")
        time.sleep(0.02)


def pushed(bark) -> list[dict]:
    return [r["body"] for r in bark.requests if isinstance(r["body"], dict)]


def quiet(done) -> None:
    """What every hook run must be: exit 0, nothing on stdout."""
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"", done.stdout


def test_claude_stop_pushes_project_branch_duration_and_the_answer(binary, bark, bark_env, repo):
    env = {**bark_env, "MCP_PUSH_HOOK_MIN_SECONDS": "0"}
    started, _ = hook(binary, env, "claude", payload("claude_user_prompt_submit", repo / "src"))
    quiet(started)
    assert pushed(bark) == [], "a prompt is never pushed"
    time.sleep(1.1)
    done, _ = hook(binary, env, "claude", payload("claude_stop", repo / "src"))
    quiet(done)
    [message] = pushed(bark)
    assert message["title"] == "✅ Claude Code finished: shop-api"
    body = message["body"]
    assert body.startswith("shop-api (feature/parser) · took 1s") or body.startswith("shop-api (feature/parser) · took 2s"), body
    assert "All 412 tests pass.\nI refactored the parser" in body
    assert "Next: review the migration" in body


def test_short_turns_are_not_pushed_unless_the_start_is_unknown(binary, bark, bark_env, repo):
    quiet(hook(binary, bark_env, "claude", payload("claude_user_prompt_submit", repo))[0])
    quiet(hook(binary, bark_env, "claude", payload("claude_stop", repo))[0])
    assert pushed(bark) == [], "a turn under MCP_PUSH_HOOK_MIN_SECONDS (60) is not pushed"
    # No prompt since that turn ended: how long this one took is unknown, so it is pushed.
    quiet(hook(binary, bark_env, "claude", payload("claude_stop", repo).replace("All 412", "All 413"))[0])
    assert [m["title"] for m in pushed(bark)] == ["✅ Claude Code finished: shop-api"]
    assert "took" not in pushed(bark)[0]["body"]


def test_stop_failure_says_what_failed(binary, bark, bark_env, repo):
    quiet(hook(binary, bark_env, "claude", payload("claude_stop_failure", repo))[0])
    [message] = pushed(bark)
    assert message["title"] == "❌ Claude Code failed: shop-api"
    assert "Error: rate_limit: 429 Too Many Requests: retry in 60 s" in message["body"]


def test_notifications_by_type(binary, bark, bark_env, repo):
    quiet(hook(binary, bark_env, "claude", payload("claude_notification_auth", repo))[0])
    quiet(hook(binary, bark_env, "claude", payload("claude_notification_idle", repo))[0])
    assert pushed(bark) == [], "auth_success is ignored; idle_prompt is off by default"
    quiet(hook(binary, bark_env, "claude", payload("claude_notification_permission", repo))[0])
    [message] = pushed(bark)
    assert message["title"] == "⏳ Claude Code needs you: shop-api"
    assert "Claude needs your permission to use Bash" in message["body"]


def test_idle_prompt_after_a_pushed_stop_is_not_pushed_again(binary, bark, bark_env, repo):
    env = {**bark_env, "MCP_PUSH_HOOK_EVENTS": "finished,failed,needs_you,idle"}
    quiet(hook(binary, env, "claude", payload("claude_stop", repo))[0])
    quiet(hook(binary, env, "claude", payload("claude_notification_idle", repo))[0])
    assert [m["title"] for m in pushed(bark)] == ["✅ Claude Code finished: shop-api"]
    # After a new prompt, an idle prompt is news.
    quiet(hook(binary, env, "claude", payload("claude_user_prompt_submit", repo))[0])
    quiet(hook(binary, env, "claude", payload("claude_notification_idle", repo))[0])
    assert [m["title"] for m in pushed(bark)][-1] == "⏳ Claude Code needs you: shop-api"


def test_subagent_stop_is_off_by_default_and_unknown_events_are_ignored(binary, bark, bark_env, repo):
    quiet(hook(binary, bark_env, "claude", payload("claude_subagent_stop", repo))[0])
    quiet(hook(binary, bark_env, "claude", payload("claude_session_start", repo))[0])
    done, _ = hook(binary, bark_env, "claude", payload("claude_unknown", repo))
    quiet(done)
    assert done.stderr == b""
    assert pushed(bark) == []


def test_codex_notify_argument_and_hooks_on_stdin(binary, bark, bark_env, repo):
    quiet(hook(binary, bark_env, "codex", "", payload("codex_notify", repo))[0])
    [first] = pushed(bark)
    assert first["title"] == "✅ Codex CLI finished: shop-api"
    assert "Renamed ConfigLoader to Settings" in first["body"]
    quiet(hook(binary, bark_env, "codex", payload("codex_stop_failure", repo))[0])
    assert pushed(bark)[-1]["title"] == "❌ Codex CLI failed: shop-api"
    assert "Error: overloaded: upstream 529" in pushed(bark)[-1]["body"]
    quiet(hook(binary, bark_env, "codex", payload("codex_user_prompt_submit", repo))[0])
    quiet(hook(binary, {**bark_env, "MCP_PUSH_HOOK_MIN_SECONDS": "0"}, "codex", payload("codex_stop", repo))[0])
    assert pushed(bark)[-1]["title"] == "✅ Codex CLI finished: shop-api"
    assert "took 0s" in pushed(bark)[-1]["body"] or "took 1s" in pushed(bark)[-1]["body"]


def test_gemini_events(binary, bark, bark_env, repo):
    env = {**bark_env, "MCP_PUSH_HOOK_MIN_SECONDS": "0"}
    quiet(hook(binary, env, "gemini", payload("gemini_before_agent", repo))[0])
    assert pushed(bark) == []
    quiet(hook(binary, env, "gemini", payload("gemini_after_agent", repo))[0])
    assert pushed(bark)[-1]["title"] == "✅ Gemini CLI finished: shop-api"
    assert "Added the 0.2.0 entry" in pushed(bark)[-1]["body"]
    quiet(hook(binary, env, "gemini", payload("gemini_notification", repo))[0])
    assert pushed(bark)[-1]["title"] == "⏳ Gemini CLI needs you: shop-api"
    assert "rm -rf build/" in pushed(bark)[-1]["body"]


@pytest.mark.parametrize("agent, stdin", [
    ("claude", ""), ("claude", "not json at all"), ("claude", "[1, 2, 3]"), ("claude", "\xff\xfe garbage"),
    ("vim", '{"hook_event_name": "Stop"}'), ("codex", '{"type": 42}'),
])
def test_garbage_is_one_line_on_stderr_and_exit_0(binary, bark, bark_env, agent, stdin):
    done, _ = hook(binary, bark_env, agent, stdin)
    quiet(done)
    assert len(done.stderr.decode().strip().splitlines()) <= 1, done.stderr
    assert pushed(bark) == []


def test_no_channel_configured_still_exits_0_quietly(binary, tmp_path, repo):
    env = {"MCP_PUSH_STATE_DIR": str(tmp_path / "state"), "MCP_PUSH_CONFIG": os.devnull, "XDG_CONFIG_HOME": "/nonexistent",
           "BARK_PUSH": ""}
    done, _ = hook(binary, env, "claude", payload("claude_stop", repo))
    quiet(done)


def test_a_hanging_channel_never_holds_the_agent_and_nothing_is_lost(binary, bark, bark_env, repo):
    env = {**bark_env, "MCP_PUSH_HOOK_DEADLINE": "3"}
    bark.hang = 8  # holds each request 8 s, then fails
    done, elapsed = hook(binary, env, "claude", payload("claude_stop_failure", repo), settle=False)
    quiet(done)
    assert elapsed < 1, f"the hook took {elapsed:.1f} s: it must not wait on the service"
    bark.hang = 0
    # The background flusher the hook left behind delivers it once the service answers.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not [m for m in pushed(bark) if m.get("title", "").startswith("❌")]:
        time.sleep(0.2)
    assert [m["title"] for m in pushed(bark) if m.get("title")] == ["❌ Claude Code failed: shop-api"]
    history = subprocess.run([binary, "history", "--json"], env={**os.environ, **env}, capture_output=True, text=True, timeout=20)
    deliveries = json.loads(history.stdout)
    assert deliveries[0]["ok"] is True and deliveries[0]["source"] == "outbox"


def allowed_processors(pid: int | str) -> str:
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list"))


def test_what_a_hook_hands_over_is_in_the_store_when_both_processes_die(binary, bark, bark_env, repo):
    """The hook leaves its connection to the exit (no fold of the write-ahead log, which cost it fsyncs):
    what it committed is still read by the next process, even when the sender it started is killed too.
    The sender runs on every processor the hook was given, not on the one the hook's start-up was pinned to."""
    bark.hang = 30
    done, elapsed = hook(binary, bark_env, "claude", payload("claude_stop_failure", repo), settle=False)
    quiet(done)
    assert wait_until(lambda: background_senders(binary, bark_env["MCP_PUSH_STATE_DIR"]), 5)
    time.sleep(0.5)  # past the sender's own start-up pin (150 ms)
    senders = background_senders(binary, bark_env["MCP_PUSH_STATE_DIR"])
    assert [allowed_processors(pid) for pid in senders] == [allowed_processors("self")]
    for pid in senders:
        os.kill(pid, signal.SIGKILL)
    bark.hang = 0
    with sqlite3.connect(pathlib.Path(bark_env["MCP_PUSH_STATE_DIR"]) / "mcp-push.sqlite") as database:
        waiting = database.execute("SELECT title FROM outbox WHERE expired_at IS NULL").fetchall()
    assert waiting == [("❌ Claude Code failed: shop-api",)]


def test_a_stdin_that_never_closes_and_a_closed_stderr_still_end_in_time_with_0(binary, bark, bark_env):
    env = {**os.environ, **bark_env, "MCP_PUSH_HOOK_DEADLINE": "2"}
    started = time.monotonic()
    process = subprocess.Popen([binary, "hook", "claude"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    process.stdin.write(b'{"hook_event_name": "Stop", ')  # and never the rest, never EOF
    process.stdin.flush()
    process.stderr.close()
    assert process.wait(timeout=10) == 0
    assert time.monotonic() - started < 3
    assert process.stdout.read() == b""
    process.stdin.close()


def test_a_huge_payload_is_refused_quietly(binary, bark, bark_env, repo):
    huge = payload("claude_stop", repo).replace("All 412 tests pass.", "x" * (6 << 20))
    done, _ = hook(binary, bark_env, "claude", huge)
    quiet(done)
    assert pushed(bark) == []


def test_without_the_shared_store_the_hook_sends_itself(binary, bark, bark_env, repo):
    """No background process could see a message kept in this process's memory: it is sent before exit."""
    env = {**bark_env, "MCP_PUSH_STATE_DIR": "/proc/no-such-dir/state"}
    done, _ = hook(binary, env, "claude", payload("claude_stop_failure", repo), settle=False)
    quiet(done)
    assert [m["title"] for m in pushed(bark)] == ["❌ Claude Code failed: shop-api"]


def test_a_store_locked_past_the_deadline_does_not_lose_the_message(binary, bark, bark_env, repo):
    """Another process holds the state's write lock for longer than the hook may take: the hook gives the
    store up within its deadline and sends the message itself (before, it waited for the lock until its
    watchdog ended it, with nothing sent and nothing kept)."""
    done, _ = hook(binary, bark_env, "claude", payload("claude_session_start", repo))  # creates the state
    quiet(done)
    locker = sqlite3.connect(pathlib.Path(bark_env["MCP_PUSH_STATE_DIR"]) / "mcp-push.sqlite", isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        done, elapsed = hook(binary, bark_env, "claude", payload("claude_stop_failure", repo), settle=False)
        quiet(done)
        assert elapsed < 4.5, f"the hook took {elapsed:.1f} s against a 5 s deadline"
        assert b"locked by another process" in done.stderr, done.stderr
        assert [m["title"] for m in pushed(bark)] == ["❌ Claude Code failed: shop-api"]
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def test_the_hook_hands_over_and_says_nothing(binary, bark, bark_env, repo):
    done, elapsed = hook(binary, bark_env, "claude", payload("claude_stop_failure", repo))
    quiet(done)
    assert b"handed" not in done.stderr and b"queued" not in done.stderr, done.stderr
    assert [m["title"] for m in pushed(bark)] == ["❌ Claude Code failed: shop-api"]
    history = subprocess.run([binary, "history", "--json"], env={**os.environ, **bark_env}, capture_output=True, text=True, timeout=20)
    assert [(d["ok"], d["source"]) for d in json.loads(history.stdout)][0] == (True, "outbox")


def test_the_agents_markdown_reads_as_plain_text_on_a_service_without_markdown(binary, bark, bark_env, repo):
    """Agents answer in Markdown; the hook sends it as Markdown, so a service that renders nothing shows
    it without marks, and the lines the hook adds (project, branch) stay as written."""
    answer = "## Summary\n\n**All 412 tests pass.** Fixed `parse_args()` in [the parser](https://git.example/p).\n\n- snake_case_kept"
    stop = json.loads(payload("claude_stop", repo))
    stop["last_assistant_message"] = answer
    done, _ = hook(binary, bark_env, "claude", json.dumps(stop))
    quiet(done)
    [message] = pushed(bark)
    assert message["body"] == ("shop-api (feature/parser)\n\nSummary\n\nAll 412 tests pass. Fixed parse_args() in "
                               "the parser (https://git.example/p).\n\n• snake_case_kept"), message["body"]
