"""Permission prompts and questions answered with Telegram buttons: the full loop through a fake Bot
API, asserted on the hook's stdout and exit code. One poller per bot token, shared by processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

from conftest import BOT_TOKEN, USER_ID, finish, permission_payload, start_hook

ALLOW = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow"}}}


def history(binary, env):
    done = subprocess.run([binary, "history", "--approvals", "--json"], env={**os.environ, **env}, capture_output=True, timeout=20)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_claude_permission_allowed_from_telegram(binary, telegram, telegram_env, tmp_path):
    hook = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path), "rm -rf build"))
    message = telegram.wait_for_message()
    assert message["text"].startswith("🔐 Claude Code wants to run: Bash")
    assert "rm -rf build" in message["text"]
    buttons = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Allow", "Deny"]
    callback = telegram.press(message, "Allow")
    code, out, err = finish(hook)
    assert code == 0
    assert json.loads(out) == ALLOW
    assert "✓" in telegram.wait_for_answer(callback)["text"]
    edit = telegram.wait_for_edit(message["message_id"])
    assert "Allow by @ada (telegram)" in edit["text"]
    assert BOT_TOKEN not in err and BOT_TOKEN.split(":")[1] not in err
    [record] = history(binary, telegram_env)
    assert record["state"] == "answered" and record["answer"] == "Allow" and record["agent"] == "claude"
    assert record["answered_by"] == "@ada" and record["channel"] == "telegram"


def test_codex_permission_denied_from_telegram(binary, telegram, telegram_env, tmp_path):
    hook = start_hook(binary, telegram_env, "codex", permission_payload("codex", str(tmp_path), "git push --force"))
    message = telegram.wait_for_message()
    assert message["text"].startswith("🔐 Codex CLI wants to run: Bash")
    telegram.press(message, "Deny")
    code, out, _ = finish(hook)
    assert code == 0
    decision = json.loads(out)["hookSpecificOutput"]
    assert decision["hookEventName"] == "PermissionRequest"
    assert decision["decision"]["behavior"] == "deny"
    assert "@ada" in decision["decision"]["message"]
    assert set(decision["decision"]) == {"behavior", "message"}  # Codex fails closed on updatedInput & co.


def test_no_answer_is_no_decision(binary, telegram, telegram_env, tmp_path):
    env = {**telegram_env, "MCP_PUSH_APPROVAL_TIMEOUT": "5"}
    started = time.monotonic()
    hook = start_hook(binary, env, "claude", permission_payload("claude", str(tmp_path)))
    message = telegram.wait_for_message()
    code, out, _ = finish(hook)
    elapsed = time.monotonic() - started
    assert code == 0 and out == ""  # the terminal's own prompt decides
    assert 5 <= elapsed < 12
    assert "No answer in time" in telegram.wait_for_edit(message["message_id"])["text"]
    assert history(binary, env)[0]["state"] == "expired"
    # A late answer changes nothing and is told so.
    late = telegram.press(message, "Allow")
    other = start_hook(binary, env, "claude", permission_payload("claude", str(tmp_path), "ls"))  # someone must poll
    telegram.wait_for_message(2)
    assert "expired" in telegram.wait_for_answer(late)["text"]
    other.kill()


def test_only_the_configured_user_can_answer(binary, telegram, telegram_env, tmp_path):
    hook = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path)))
    message = telegram.wait_for_message()
    stranger = telegram.press(message, "Allow", from_id=777)
    refused = telegram.wait_for_answer(stranger)
    assert refused.get("show_alert") is True and "Only the person" in refused["text"]
    in_group = telegram.press(message, "Allow", chat_id=-100123)
    assert "Only the person" in telegram.wait_for_answer(in_group)["text"]
    assert hook.poll() is None  # still waiting: neither counted
    telegram.press(message, "Deny")
    code, out, err = finish(hook)
    assert json.loads(out)["hookSpecificOutput"]["decision"]["behavior"] == "deny"
    assert "refused an answer from user 777" in err


def test_replayed_and_forged_answers_change_nothing(binary, telegram, telegram_env, tmp_path):
    hook = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path)))
    first = telegram.wait_for_message()
    telegram.press(first, "Deny")
    assert json.loads(finish(hook)[1])["hookSpecificOutput"]["decision"]["behavior"] == "deny"

    # A second request; the old Allow button (a replay) and forged tokens must not decide it.
    hook = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path), "make deploy"))
    second = telegram.wait_for_message(2)
    replay = telegram.press(first, "Allow")
    assert "Already decided" in telegram.wait_for_answer(replay)["text"]
    allow = next(b["callback_data"] for row in second["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Allow")
    altered = allow[:-1] + ("A" if allow[-1] != "A" else "B")
    for data in [altered, "mp1:" + "A" * 22, "mp1:short", "allow", "mp1:" + allow[4:] + "x"]:
        answer = telegram.wait_for_answer(telegram.press(second, "", data=data))
        assert "no longer open" in answer.get("text", "") or answer.get("text") is None
    assert hook.poll() is None
    telegram.press(second, "Allow")
    code, out, _ = finish(hook)
    assert code == 0 and json.loads(out) == ALLOW


def test_two_processes_share_one_poller(binary, telegram, process_env, tmp_path):
    first = start_hook(binary, process_env(1), "claude", permission_payload("claude", str(tmp_path), "make a", session="a"))
    second = start_hook(binary, process_env(2), "codex", permission_payload("codex", str(tmp_path), "make b", session="b"))
    one = telegram.wait_for_message(1)
    two = telegram.wait_for_message(2)
    time.sleep(3)  # both wait; only one polls
    by_command = {("make a" in m["text"]): m for m in (one, two)}
    telegram.press(by_command[False], "Deny")
    telegram.press(by_command[True], "Allow")
    first_done, second_done = finish(first), finish(second)
    # Both opened the shared store although they set it up together (a private one would hide the question).
    assert "store unavailable" not in first_done[2] + second_done[2]
    assert json.loads(first_done[1]) == ALLOW
    assert json.loads(second_done[1])["hookSpecificOutput"]["decision"]["behavior"] == "deny"
    assert telegram.conflicts == 0


def test_the_poller_is_taken_over_when_its_holder_dies(binary, telegram, process_env, tmp_path):
    first = start_hook(binary, process_env(1), "claude", permission_payload("claude", str(tmp_path), "make a", session="a"))
    telegram.wait_for_message(1)
    time.sleep(1)  # the first holds the lease
    second = start_hook(binary, process_env(2), "claude", permission_payload("claude", str(tmp_path), "make b", session="b"))
    message = telegram.wait_for_message(2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    started = time.monotonic()
    telegram.press(message, "Allow")
    code, out, _ = finish(second)
    assert json.loads(out) == ALLOW
    assert time.monotonic() - started < 12  # the lease (poll time + 5 s) ran out and the second polled


def test_terminal_answer_first_withdraws_the_question(binary, telegram, telegram_env, tmp_path):
    hook = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path)))
    message = telegram.wait_for_message()
    time.sleep(0.5)
    hook.send_signal(signal.SIGTERM)  # the agent stops the hook: the person answered in the terminal
    code, out, _ = finish(hook)
    assert code == 0 and out == ""
    late = telegram.press(message, "Allow")
    other = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path), "ls"))
    telegram.wait_for_message(2)
    assert "in the terminal" in telegram.wait_for_answer(late)["text"]
    other.kill()


def test_secrets_in_the_command_are_masked(binary, telegram, telegram_env, tmp_path):
    env = {**telegram_env, "MCP_PUSH_APPROVAL_TIMEOUT": "5"}
    command = f"curl -H 'Authorization: Bearer sk_live_51HqLyjWDarjtT1zdp7dc' https://admin:hunter2@db.example/x --password=s3cr3t! && echo {BOT_TOKEN}"
    hook = start_hook(binary, env, "claude", permission_payload("claude", str(tmp_path), command))
    text = telegram.wait_for_message()["text"]
    for secret in ["sk_live_51HqLyjWDarjtT1zdp7dc", "hunter2", "s3cr3t!", BOT_TOKEN]:
        assert secret not in text
    assert "curl" in text and "db.example" in text
    finish(hook)


def test_approvals_off_asks_nothing(binary, telegram, telegram_env, tmp_path):
    env = {**telegram_env, "MCP_PUSH_APPROVALS": "off"}
    done = subprocess.run([binary, "hook", "claude"], input=permission_payload("claude", str(tmp_path)).encode(),
                          env={**os.environ, **env}, capture_output=True, timeout=20)
    assert done.returncode == 0 and done.stdout == b""
    time.sleep(0.5)
    assert telegram.sent == []


def test_a_group_chat_cannot_answer(binary, telegram, telegram_env, tmp_path):
    env = {**telegram_env, "TG_USER_ID": "-100123456"}
    done = subprocess.run([binary, "hook", "claude"], input=permission_payload("claude", str(tmp_path)).encode(),
                          env={**os.environ, **env}, capture_output=True, timeout=20)
    assert done.returncode == 0 and done.stdout == b""
    assert telegram.sent == []
    assert USER_ID  # the fixture's user is a person; a group id never answers


def test_an_answer_for_a_killed_asker_is_not_reported_as_counted(binary, telegram, telegram_env, tmp_path):
    dead = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path), "make a", session="a"))
    message = telegram.wait_for_message(1)
    dead.send_signal(signal.SIGKILL)  # no chance to withdraw
    dead.wait()
    alive = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path), "make b", session="b"))
    telegram.wait_for_message(2)
    pressed = telegram.press(message, "Allow")
    assert "decided elsewhere" in telegram.wait_for_answer(pressed, seconds=20)["text"]
    assert sorted(r["state"] for r in history(binary, telegram_env)) == ["pending", "withdrawn"]
    alive.kill()


def test_a_foreign_poller_is_reported_and_answers_resume_after_it(binary, telegram, telegram_env, tmp_path):
    """Another program polling the same bot gets Telegram's 409 fight: we say so, and read answers once it stops."""
    import urllib.request

    stop = threading.Event()

    def foreign():
        while not stop.is_set():
            request = urllib.request.Request(f"{telegram.base_url}/bot{BOT_TOKEN}/getUpdates", data=b'{"timeout": 1}',
                                             headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=5).read()
            except OSError:
                pass

    thread = threading.Thread(target=foreign, daemon=True)
    thread.start()
    hook = start_hook(binary, telegram_env, "claude", permission_payload("claude", str(tmp_path)))
    message = telegram.wait_for_message()
    time.sleep(4)
    stop.set()
    thread.join()
    assert telegram.conflicts > 0
    telegram.press(message, "Allow")
    code, out, err = finish(hook)
    assert code == 0 and json.loads(out) == ALLOW
    assert "only one bot instance" in err and "answers can only be read while nothing else polls this bot" in err

