"""The answer page of `mcp-push serve --transport http`, clicked in a real headless Chromium: a
permission prompt pushed to a channel that carries only text (a webhook) is answered from its link.
Seeing the page never decides; forged, cross-site and replayed posts are refused."""

from __future__ import annotations

import json
import re
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import finish, free_port, http_server, permission_payload, start_hook, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from fake_services import FakeBark, FakeWebhook  # noqa: E402

DEVICE_KEY = "ApprovalsBarkKey0123456789"

ALLOW = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow"}}}


@pytest.fixture()
def webhook():
    with FakeWebhook() as fake:
        yield fake


@pytest.fixture()
def bark():
    with FakeBark(DEVICE_KEY) as fake:
        yield fake


@pytest.fixture()
def web_env(base_env, webhook):
    port = free_port()
    return {**base_env, "WEBHOOK_URL": webhook.url, "WEBHOOK_METHOD": "POST", "WEBHOOK_BODY": "title: $title\ncontent: $content", "MCP_PUSH_PUBLIC_URL": f"http://127.0.0.1:{port}/", "PORT": str(port)}


@pytest.fixture()
def server(binary, web_env):
    with http_server(binary, web_env, int(web_env["PORT"])) as process:
        yield process


@pytest.fixture()
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "Chromium and chromedriver are needed (Debian: chromium chromium-driver)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def link_in(webhook: FakeWebhook) -> str:
    assert wait_until(lambda: webhook.bodies, 15), "the question never reached the webhook"
    text = json.loads(webhook.bodies[0])["content"]
    match = re.search(r"http://127\.0\.0\.1:\d+/approve/[A-Za-z0-9_-]{22}", text)
    assert match, text
    return match.group(0)


def post(url: str, form: str, origin: str | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(url, data=form.encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_permission_answered_on_the_page_in_a_browser(binary, server, web_env, webhook, browser, tmp_path):
    from selenium.webdriver.common.by import By

    hook = start_hook(binary, web_env, "claude", permission_payload("claude", str(tmp_path), "terraform apply"))
    link = link_in(webhook)
    token = link.rsplit("/", 1)[1]

    # Link previewers fetch the page: that must decide nothing.
    for _ in range(2):
        with urllib.request.urlopen(link, timeout=5) as response:
            page = response.read().decode()
            assert response.headers["Cache-Control"] == "no-store"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "terraform apply" in page
    assert hook.poll() is None

    # Posts that are not the page's own are refused.
    answer = re.search(r'name="answer" value="([A-Za-z0-9_-]{22})"', page).group(1)
    assert post(link, f"answer={answer}", origin="https://evil.example")[0] == 403
    assert post(link, "answer=" + "A" * 22)[0] == 404
    assert post(link.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")), f"answer={answer}")[0] == 404
    assert post(link, "answer=")[0] == 404
    assert hook.poll() is None

    browser.get(link)
    assert "Claude Code wants to run: Bash" in browser.title or "Claude Code wants to run" in browser.page_source
    buttons = browser.find_elements(By.TAG_NAME, "button")
    assert [b.text for b in buttons] == ["Allow", "Deny"]
    buttons[0].click()
    assert wait_until(lambda: "Your answer was sent" in browser.page_source, 10)
    code, out, _ = finish(hook)
    assert code == 0 and json.loads(out) == ALLOW

    # A replay (the same button again) is told it is decided; the page says so too.
    status, body = post(link, f"answer={answer}", origin=f"http://127.0.0.1:{web_env['PORT']}")
    assert status == 409 and "Already decided" in body
    browser.get(link)
    assert "Already decided: Allow (web)" in browser.page_source

    server.terminate()
    _, log = server.communicate(timeout=20)
    assert token not in log.decode() and "/approve/…" in log.decode()


def test_deny_on_the_page(binary, server, web_env, webhook, browser, tmp_path):
    from selenium.webdriver.common.by import By

    hook = start_hook(binary, web_env, "codex", permission_payload("codex", str(tmp_path), "rm -rf /var/lib/app"))
    browser.get(link_in(webhook))
    next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text == "Deny").click()
    code, out, _ = finish(hook)
    decision = json.loads(out)["hookSpecificOutput"]["decision"]
    assert decision["behavior"] == "deny" and "web" in decision["message"]


def test_page_after_expiry_decides_nothing(binary, server, web_env, webhook, tmp_path):
    env = {**web_env, "MCP_PUSH_APPROVAL_TIMEOUT": "5"}
    hook = start_hook(binary, env, "claude", permission_payload("claude", str(tmp_path)))
    link = link_in(webhook)
    page = urllib.request.urlopen(link, timeout=5).read().decode()
    answer = re.search(r'name="answer" value="([A-Za-z0-9_-]{22})"', page).group(1)
    code, out, _ = finish(hook)
    assert code == 0 and out == ""
    status, body = post(link, f"answer={answer}")
    assert status == 409 and "expired" in body


def test_channels_with_a_link_field_carry_the_page_there(binary, server, web_env, bark, tmp_path):
    env = {**web_env, "BARK_PUSH": DEVICE_KEY, "MCP_PUSH_BARK_BASE_URL": bark.base_url}
    env.pop("WEBHOOK_URL")
    hook = start_hook(binary, env, "claude", permission_payload("claude", str(tmp_path), "make release"))
    assert wait_until(lambda: bark.requests, 15)
    request = bark.requests[0]["body"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/approve/[A-Za-z0-9_-]{22}", request["url"])  # opened when tapped
    assert "/approve/" not in request["body"] and "make release" in request["body"]
    assert urllib.request.urlopen(request["url"], timeout=5).status == 200
    hook.send_signal(15)
    assert finish(hook)[1] == ""
