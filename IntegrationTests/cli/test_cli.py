"""The command line as people use it: results as channels answer on a terminal, JSON and exit
codes for scripts, stdin as the message, "did you mean", quiet logs, the config file's exposure."""

from __future__ import annotations

import json
import os
import pathlib
import pty
import select
import subprocess
import time

import pytest

from conftest import DEVICE_KEY, FakeBark


def run(binary: str, env: dict[str, str], *arguments: str, stdin: str | None = None, timeout: float = 30):
    return subprocess.run([binary, *arguments], input=None if stdin is None else stdin.encode(),
                          stdin=subprocess.DEVNULL if stdin is None else None,
                          env={**os.environ, **env}, capture_output=True, timeout=timeout)


def bodies(bark: FakeBark) -> list[dict]:
    return [r["body"] for r in bark.requests if isinstance(r["body"], dict)]


def test_a_mistyped_command_gets_did_you_mean(binary, bark_env):
    done = run(binary, bark_env, "sned", "-t", "x", "-c", "y")
    assert done.returncode == 2
    assert done.stdout == b""
    assert "unknown command 'sned'; did you mean 'send'?" in done.stderr.decode()
    far = run(binary, bark_env, "frobnicate")
    assert far.returncode == 2
    assert "the commands are serve, send, event, channels, test, history, outbox" in far.stderr.decode()


def test_content_from_stdin_with_the_first_line_as_title(binary, bark, bark_env):
    done = run(binary, bark_env, "send", "-c", "-", stdin="\n  Build finished  \nAll 412 tests passed\nin 3 min\n")
    assert done.returncode == 0, done.stderr
    [message] = bodies(bark)
    assert message["title"] == "Build finished"
    assert message["body"] == "All 412 tests passed\nin 3 min"
    with_title = run(binary, bark_env, "send", "-t", "Tests", "-c", "-", stdin="line 1\nline 2\n")
    assert with_title.returncode == 0, with_title.stderr
    assert bodies(bark)[-1]["title"] == "Tests" and bodies(bark)[-1]["body"] == "line 1\nline 2\n"


def test_an_empty_stdin_is_an_error_not_a_blank_notification(binary, bark, bark_env):
    done = run(binary, bark_env, "send", "-c", "-", stdin="  \n")
    assert done.returncode == 2
    assert "read nothing from stdin" in done.stderr.decode()
    assert bodies(bark) == []


def test_channels_json_and_exit_codes(binary, bark_env):
    nothing = {**bark_env, "BARK_PUSH": ""}
    assert run(binary, nothing, "channels").returncode == 2, "nothing configured: nothing would be sent"
    fine = run(binary, bark_env, "channels", "--json")
    assert fine.returncode == 0, fine.stderr
    states = {c["id"]: c["state"] for c in json.loads(fine.stdout)}
    assert states["bark"] == "configured" and states["telegram"] == "off" and len(states) == 22
    broken = run(binary, {**bark_env, "TG_BOT_TOKEN": "123456:ABC-secret-token",
                          "BARK_LEVEL": "loud"}, "channels")
    assert broken.returncode == 2, "bark and telegram both misconfigured: none configured"
    text = broken.stdout.decode()
    assert 'got "loud"' in text, "a misconfiguration names the user's own (non-secret) value"
    assert "ABC-secret-token" not in text
    partly = run(binary, {**bark_env, "BARK_LEVEL": "loud", "WEBHOOK_URL": "http://127.0.0.1:9/hook",
                          "WEBHOOK_METHOD": "POST"}, "channels")
    assert partly.returncode == 1, partly.stdout


def test_test_command_prints_json_for_scripts(binary, bark, bark_env):
    done = run(binary, bark_env, "test", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert [(r["channel"], r["ok"]) for r in result["results"]] == [("bark", True)]
    assert bodies(bark)[0]["title"] == "mcp-push test"


def test_each_failure_is_said_once_and_logs_need_verbose(binary, bark, bark_env):
    wrong = {**bark_env, "BARK_PUSH": "WrongDeviceKey"}
    quiet = run(binary, wrong, "send", "-t", "x", "-c", "y")
    assert quiet.returncode == 2
    assert quiet.stdout.decode().count("failed to get device token") == 1
    assert quiet.stderr == b"", quiet.stderr
    verbose = run(binary, wrong, "send", "-v", "-t", "x", "-c", "y")
    assert verbose.returncode == 2
    assert verbose.stderr != b""
    assert "WrongDeviceKey" not in verbose.stderr.decode() + verbose.stdout.decode()


def test_results_say_when_a_message_was_cut_to_fit(binary, bark, bark_env):
    done = run(binary, bark_env, "send", "-t", "Log", "-c", "测" * 3334)
    assert done.returncode == 0, done.stderr
    assert "ok (cut to fit)" in done.stdout.decode()
    assert len(json.dumps(bodies(bark)[0], ensure_ascii=False).encode()) < 4096


@pytest.mark.parametrize("mode, warned", [(0o644, "every user"), (0o640, "its group"), (0o600, None)])
def test_a_config_file_holding_tokens_readable_by_others_is_warned_about(binary, bark, bark_env, tmp_path, mode, warned):
    config = tmp_path / "config.sh"
    config.write_text(f'export BARK_PUSH="{DEVICE_KEY}"\nexport MCP_PUSH_BARK_BASE_URL="{bark.base_url}"\n')
    config.chmod(mode)
    env = {**bark_env, "BARK_PUSH": "", "MCP_PUSH_BARK_BASE_URL": "", "MCP_PUSH_CONFIG": str(config)}
    done = run(binary, env, "channels")
    assert done.returncode == 0, done.stdout
    if warned:
        assert f"{config} holds tokens and is readable by {warned}; run `chmod 600 {config}`" in done.stderr.decode()
    else:
        assert done.stderr == b""


def read_terminal(binary: str, env: dict[str, str], *arguments: str, timeout: float = 30):
    """Runs with stdout on a pseudo-terminal; each chunk of output with the time it arrived."""
    master, slave = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen([binary, *arguments], stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                               env={**os.environ, **env})
    os.close(slave)
    chunks: list[tuple[float, str]] = []
    while time.monotonic() - started < timeout:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append((time.monotonic() - started, data.decode()))
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=5), chunks


def test_on_a_terminal_each_channel_shows_as_it_answers_and_the_wait_is_named(binary, bark, bark_env):
    with FakeBark("unused") as slow:
        slow.hang = 5  # holds each request 5 s, then answers 503
        env = {**bark_env, "MCP_PUSH_RETRIES": "0", "WEBHOOK_URL": f"{slow.base_url}/push", "WEBHOOK_METHOD": "POST",
               "WEBHOOK_CONTENT_TYPE": "application/json", "WEBHOOK_BODY": '{"title": "$title"}'}
        status, chunks = read_terminal(binary, env, "send", "-t", "Deploy", "-c", "done")
    text = "".join(chunk for _, chunk in chunks)
    assert status == 1, text
    bark_line = next(at for at, chunk in chunks if "bark" in chunk and " ok " in chunk)
    assert bark_line < 3, f"bark's line came after {bark_line:.1f} s, with the slow channel"
    assert "still waiting for webhook (3 s)" in text, text
    assert "webhook  queued" in text.replace("    ", "  ") or "webhook" in text.split("still waiting")[-1]
    assert text.rstrip().endswith("queued for a later retry (webhook).")


def test_a_bare_mcp_push_typed_at_a_terminal_says_what_it_is_on_stderr(binary, bark_env):
    master, slave = pty.openpty()
    process = subprocess.Popen([binary], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, **bark_env})
    os.close(slave)
    time.sleep(0.5)
    os.write(master, b"\x04")  # Ctrl-D: end of input, as a person would end it
    stdout, stderr = process.communicate(timeout=15)
    os.close(master)
    assert stdout == b"", "stdout carries only the protocol"
    assert "speaking MCP on stdin/stdout for an agent" in stderr.decode()
    piped = subprocess.run([binary], input=b"", env={**os.environ, **bark_env}, capture_output=True, timeout=15)
    assert piped.stderr == b"" and piped.stdout == b"", "an agent's pipe gets no such line"


def test_json_logs_are_one_object_a_line_without_secrets(binary, bark_env):
    env = {**bark_env, "MCP_PUSH_LOG_FORMAT": "json", "MCP_PUSH_LOG_LEVEL": "info", "MCP_PUSH_RETRIES": "0",
           "MCP_PUSH_BARK_BASE_URL": "http://127.0.0.1:9"}
    done = run(binary, env, "send", "-t", "Deploy", "-c", "done")
    stderr = done.stderr.decode()
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "a queued delivery is logged"
    records = [json.loads(line) for line in lines]
    assert all(list(r)[:4] == ["time", "level", "label", "message"] for r in records)
    queued = next(r for r in records if r["message"] == "delivery queued")
    assert queued["level"] == "warning" and queued["channel"] == "bark" and "connection refused" in queued["error"]
    assert DEVICE_KEY not in stderr
    bad = run(binary, {**bark_env, "MCP_PUSH_LOG_FORMAT": "xml"}, "send", "-t", "t", "-c", "c")
    assert bad.returncode == 2 and "MCP_PUSH_LOG_FORMAT: expected text or json" in bad.stderr.decode()


def test_db_migrate_from_several_processes_at_once(binary, tmp_path):
    env = {"MCP_PUSH_STATE_DIR": str(tmp_path / "fresh"), "MCP_PUSH_CONFIG": os.devnull}
    started = [subprocess.Popen([binary, "db", "migrate", "--json"], env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for _ in range(3)]
    answers = [(p.wait(timeout=60), p.stdout.read()) for p in started]
    for code, out in answers:
        assert code == 0
        status = json.loads(out)
        assert status["ok"] is True and status["schema_version"] >= 5 and status["location"].endswith("/fresh/mcp-push.sqlite")
    unusable = run(binary, {"MCP_PUSH_STATE_DIR": "/proc/nowhere", "MCP_PUSH_CONFIG": os.devnull}, "db", "migrate")
    assert unusable.returncode == 1 and b"the state cannot be used" in unusable.stderr and b"/proc/nowhere" in unusable.stderr
