"""Fakes of the services that answer back, on 127.0.0.1: the Telegram Bot API (sendMessage with an
inline keyboard, getUpdates long polling with 409 Conflict for a second poller, answerCallbackQuery,
editMessageText) and ntfy (JSON publish with actions, publishing to a topic, the JSON subscription
stream). Each checks requests the way the service does and answers with its real bodies."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from fake_services import JSONHandler, LocalService  # noqa: E402


class FakeTelegram(LocalService):
    """api.telegram.org for one bot. `press()` is the person tapping a button."""

    def __init__(self, token: str, user_id: int) -> None:
        self.token = token
        self.user_id = user_id
        self.sent: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.conflicts = 0
        self.polls = 0
        self.lock = threading.Condition()
        self.next_update = 1
        self.next_message = 100
        self.open_callbacks: set[str] = set()
        self.poller = 0  # the generation of the latest getUpdates; an older one is told 409
        fake = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"})
                    return
                method = self.path[len(prefix):]
                status, answer = fake.handle(method, body)
                self._answer(status, answer)

        self._serve(Handler)

    def bad(self, description: str) -> tuple[int, dict[str, Any]]:
        return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}

    def handle(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "sendMessage":
            if str(body.get("chat_id")) != str(self.user_id):
                return self.bad("chat not found")
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return self.bad("message text is empty")
            for row in (body.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if not 1 <= len(data.encode()) <= 64:
                        return self.bad("BUTTON_DATA_INVALID")
            with self.lock:
                self.next_message += 1
                message = {"message_id": self.next_message, "chat": {"id": self.user_id, "type": "private"}, "date": int(time.time()),
                           "text": text, "reply_markup": body.get("reply_markup")}
                self.sent.append(message)
                self.lock.notify_all()
            return 200, {"ok": True, "result": message}
        if method == "getUpdates":
            return self.get_updates(body)
        if method == "answerCallbackQuery":
            query = body.get("callback_query_id")
            with self.lock:
                if query not in self.open_callbacks:
                    return self.bad("query is too old and response timeout expired or query ID is invalid")
                self.open_callbacks.discard(query)
                self.answered.append(body)
                self.lock.notify_all()
            return 200, {"ok": True, "result": True}
        if method == "editMessageText":
            with self.lock:
                if not any(m["message_id"] == body.get("message_id") for m in self.sent):
                    return self.bad("message to edit not found")
                self.edits.append(body)
                self.lock.notify_all()
            return 200, {"ok": True, "result": {"message_id": body.get("message_id"), "text": body.get("text")}}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def get_updates(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(body.get("offset") or 0)
        timeout = min(float(body.get("timeout") or 0), 50)
        deadline = time.monotonic() + timeout
        with self.lock:
            self.polls += 1
            self.poller += 1
            me = self.poller
            self.lock.notify_all()  # a newer poller ends the older one's request with 409
            # Updates before the offset are confirmed: Telegram forgets them.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                if self.poller != me:
                    self.conflicts += 1
                    return 409, {"ok": False, "error_code": 409,
                                 "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
                if self.updates or time.monotonic() >= deadline:
                    return 200, {"ok": True, "result": list(self.updates)}
                self.lock.wait(timeout=max(0.01, deadline - time.monotonic()))

    # The person's side.

    def wait_for_message(self, count: int = 1, seconds: float = 15) -> dict[str, Any]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.sent) >= count, timeout=seconds)
            assert len(self.sent) >= count, f"Telegram got {len(self.sent)} messages, expected {count}"
            return self.sent[count - 1]

    def press(self, message: dict[str, Any], label: str, from_id: int | None = None, chat_id: int | None = None,
              data: str | None = None) -> str:
        """Taps the button `label` of `message` (or sends `data` as if it were one); returns the callback id."""
        if data is None:
            buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
            data = next(b["callback_data"] for b in buttons if b["text"] == label)
        user = self.user_id if from_id is None else from_id
        with self.lock:
            update_id = self.next_update
            self.next_update += 1
            callback_id = f"cb{update_id}"
            self.open_callbacks.add(callback_id)
            self.updates.append({
                "update_id": update_id,
                "callback_query": {
                    "id": callback_id,
                    "from": {"id": user, "is_bot": False, "first_name": "Ada", "username": "ada" if user == self.user_id else "mallory"},
                    "message": {"message_id": message["message_id"], "chat": {"id": chat_id or self.user_id, "type": "private"},
                                "date": message["date"], "text": message["text"]},
                    "chat_instance": "-5544332211",
                    "data": data,
                },
            })
            self.lock.notify_all()
        return callback_id

    def wait_for_answer(self, callback_id: str, seconds: float = 15) -> dict[str, Any]:
        with self.lock:
            self.lock.wait_for(lambda: any(a["callback_query_id"] == callback_id for a in self.answered), timeout=seconds)
            found = [a for a in self.answered if a["callback_query_id"] == callback_id]
            assert found, f"callback {callback_id} was never answered (the button would spin)"
            return found[0]

    def wait_for_edit(self, message_id: int, seconds: float = 15) -> dict[str, Any]:
        with self.lock:
            self.lock.wait_for(lambda: any(e["message_id"] == message_id for e in self.edits), timeout=seconds)
            found = [e for e in self.edits if e["message_id"] == message_id]
            assert found, f"message {message_id} was never edited"
            return found[-1]


class FakeNtfy(LocalService):
    """An ntfy server: JSON publishing to `/`, plain publishing to `/<topic>`, and `/<topic>/json`
    subscriptions, with an access token required when `token` is set. `tap()` runs an action."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Condition()
        self.next_id = 0
        fake = self

        class Handler(JSONHandler):
            protocol_version = "HTTP/1.1"

            def authorized(self) -> bool:
                if fake.token and self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._answer(403, {"code": 40301, "http": 403, "error": "forbidden", "link": "https://ntfy.sh/docs/publish/#authentication"})
                    return False
                return True

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not self.authorized():
                    return
                path = urlparse(self.path).path
                if path == "/":
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        self._answer(400, {"code": 40024, "http": 400, "error": "invalid request: body must be message JSON"})
                        return
                    if len(body.get("actions") or []) > 3:
                        self._answer(400, {"code": 40018, "http": 400, "error": "invalid request: actions invalid, too many actions"})
                        return
                    self._answer(200, fake.publish(body.get("topic"), body))
                else:
                    self._answer(200, fake.publish(path.strip("/"), {"message": raw.decode()}))

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                if not url.path.endswith("/json"):
                    self._answer(404, {"code": 40401, "http": 404, "error": "page not found"})
                    return
                if not self.authorized():
                    return
                topic = url.path[1:-len("/json")]
                since = parse_qs(url.query).get("since", ["0"])[0]
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                seen = 0

                def chunk(event: dict[str, Any]) -> None:
                    data = (json.dumps(event) + "\n").encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()

                try:
                    chunk({"id": "open", "time": int(time.time()), "event": "open", "topic": topic})
                    while True:
                        with fake.lock:
                            pending = [m for m in fake.messages if m["topic"] == topic and (since == "all" or m["time"] >= int(since))][seen:]
                            if not pending:
                                fake.lock.wait(timeout=1)
                        for message in pending:
                            chunk(message)
                            seen += 1
                        if not pending:
                            chunk({"id": "ka", "time": int(time.time()), "event": "keepalive", "topic": topic})
                except (BrokenPipeError, ConnectionResetError):
                    return

        self._serve(Handler)

    def publish(self, topic: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            message = {"id": f"m{self.next_id}", "time": int(time.time()), "event": "message", "topic": topic, **{
                k: v for k, v in body.items() if k != "topic"}}
            self.messages.append(message)
            self.lock.notify_all()
        return message

    def wait_for_message(self, topic: str, seconds: float = 15) -> dict[str, Any]:
        with self.lock:
            self.lock.wait_for(lambda: any(m["topic"] == topic for m in self.messages), timeout=seconds)
            found = [m for m in self.messages if m["topic"] == topic]
            assert found, f"nothing published to {topic}"
            return found[0]

    @staticmethod
    def tap(message: dict[str, Any], label: str) -> int:
        """What the ntfy app does for an `http` action: the request as declared."""
        action = next(a for a in message["actions"] if a["label"] == label)
        assert action["action"] == "http"
        request = urllib.request.Request(action["url"], data=action.get("body", "").encode(), method=action.get("method", "POST"),
                                         headers=action.get("headers") or {})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
