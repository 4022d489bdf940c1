"""Local stand-ins for push services, for the interop tests (127.0.0.1 only).

Each fake checks a request the way the real service does and answers with the
service's real success or error body.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JSONHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON and logs nothing."""

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class LocalService:
    """A threaded HTTP server on 127.0.0.1 for a handler class; a context manager."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeBark(LocalService):
    """bark-server's POST /push: JSON with a known device_key, else its 400 answer."""

    def __init__(self, device_key: str) -> None:
        self.device_key = device_key
        # Switched off, it answers 503 like a service behind a proxy that lost its backend.
        self.up = True
        # Seconds to hold each request before answering 503 (a service that hangs, then fails).
        self.hang = 0.0
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if fake.hang:
                    time.sleep(fake.hang)
                    self._answer(503, {"code": 503, "message": "service unavailable"})
                    return
                if not fake.up:
                    self._answer(503, {"code": 503, "message": "service unavailable"})
                    return
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/push" or not self.headers.get("Content-Type", "").startswith("application/json"):
                    self._answer(404, {"code": 404, "message": "not found"})
                elif not isinstance(body, dict) or body.get("device_key") != fake.device_key:
                    self._answer(400, {"code": 400, "message": "failed to get device token: failed to get [x] device token from database", "timestamp": 1732406400})
                else:
                    self._answer(200, {"code": 200, "message": "success", "timestamp": 1732406400})

        self._serve(Handler)

    def delivered_titles(self) -> list[str]:
        """Titles of the requests answered with success."""
        return [
            r["body"]["title"]
            for r in self.requests
            if isinstance(r["body"], dict) and r["body"].get("device_key") == self.device_key and r["path"] == "/push"
        ]


class FakeWebhook(LocalService):
    """Any HTTP endpoint behind WEBHOOK_URL: records each request's raw body, answers 200 {"ok":true}."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        fake = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                fake.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                self._answer(200, {"ok": True})

        self._serve(Handler)
        self.url = self.base_url + "/hook"
