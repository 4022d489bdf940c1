"""Permission prompts answered with ntfy action buttons: each button publishes its answer token to
a reply topic made for the question, which the waiting process subscribes to."""

from __future__ import annotations

import json
import re
import urllib.request

from conftest import NTFY_TOKEN, finish, permission_payload, start_hook

ALLOW = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow"}}}


def test_permission_allowed_from_ntfy(binary, ntfy, ntfy_env, tmp_path):
    hook = start_hook(binary, ntfy_env, "claude", permission_payload("claude", str(tmp_path), "npm publish"))
    message = ntfy.wait_for_message("phone-topic")
    assert message["title"] == "🔐 Claude Code wants to run: Bash"
    assert "npm publish" in message["message"]
    labels = [a["label"] for a in message["actions"]]
    assert labels == ["Allow", "Deny"]
    allow = message["actions"][0]
    reply_topic = allow["url"].rsplit("/", 1)[1]
    assert re.fullmatch(r"mcp-push-[A-Za-z0-9_-]{22}", reply_topic)  # 128 random bits: unguessable
    assert allow["headers"] == {"Authorization": f"Bearer {NTFY_TOKEN}"}  # the reply topic is protected like the main one
    assert allow["body"] != message["actions"][1]["body"]  # one token per decision
    assert ntfy.tap(message, "Allow") == 200
    code, out, err = finish(hook)
    assert code == 0 and json.loads(out) == ALLOW
    assert NTFY_TOKEN not in err


def test_forged_replies_are_ignored(binary, ntfy, ntfy_env, tmp_path):
    hook = start_hook(binary, ntfy_env, "codex", permission_payload("codex", str(tmp_path)))
    message = ntfy.wait_for_message("phone-topic")
    url = message["actions"][0]["url"]
    real = message["actions"][0]["body"]
    for forged in ["allow", "mp1:" + "A" * 22, real[:-2] + "zz", ""]:
        request = urllib.request.Request(url, data=forged.encode(), method="POST", headers={"Authorization": f"Bearer {NTFY_TOKEN}"})
        urllib.request.urlopen(request, timeout=5).read()
    assert hook.poll() is None
    ntfy.tap(message, "Deny")
    code, out, err = finish(hook)
    assert json.loads(out)["hookSpecificOutput"]["decision"]["behavior"] == "deny"
    assert "unknown token was refused" in err
