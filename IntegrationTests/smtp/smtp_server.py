"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1 with TLS, STARTTLS and AUTH.

Started by the Swift tests (Tests/PushCoreTests/Channels/SMTPTests.swift). Prints `PORT <n>` and,
with TLS, `CERT <path>` (its throwaway self-signed certificate), then serves until killed.
Every accepted message is written to --maildir as <n>.eml, with <n>.json holding the envelope.

    python smtp_server.py --maildir DIR [--tls implicit|starttls|none] [--mechanisms PLAIN,LOGIN]
                          [--user U --password P] [--hang]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate(directory: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


IMPLICIT_TLS = False


class Recorder:
    def __init__(self, maildir: pathlib.Path) -> None:
        self.maildir = maildir
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's naming)
        self.count += 1
        (self.maildir / f"{self.count}.eml").write_bytes(envelope.original_content or envelope.content)
        (self.maildir / f"{self.count}.json").write_text(json.dumps(
            {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None or IMPLICIT_TLS}))
        return "250 2.0.0 Ok: queued"


def exit_with_the_test() -> None:
    """The parent may start us with signals blocked, and may die without stopping us: leave when
    SIGTERM arrives or when our stdin (a pipe from the test) closes."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def watch() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    exit_with_the_test()
    parser = argparse.ArgumentParser()
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--tls", choices=["implicit", "starttls", "none"], default="starttls")
    parser.add_argument("--mechanisms", default="PLAIN,LOGIN")
    parser.add_argument("--user", default="bot@example.com")
    parser.add_argument("--password", default="app-password-123")
    parser.add_argument("--hang", action="store_true", help="accept connections and never answer")
    args = parser.parse_args()
    maildir = pathlib.Path(args.maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    port = free_port()

    if args.hang:
        listener = socket.create_server(("127.0.0.1", port))
        print(f"PORT {port}", flush=True)
        held = []
        while True:
            connection, _ = listener.accept()
            held.append(connection)

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
        return AuthResult(success=ok, handled=False)

    every = {"PLAIN", "LOGIN", "CRAM-MD5"}
    wanted = {m.strip().upper() for m in args.mechanisms.split(",") if m.strip()}
    context = None
    if args.tls != "none":
        cert, key = certificate(maildir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        print(f"CERT {cert}", flush=True)
    options = dict(
        authenticator=authenticate,
        auth_exclude_mechanism=every - wanted,
        # With implicit TLS aiosmtpd does not see the TLS layer (asyncio wraps it), so it would hide
        # AUTH; the connection is encrypted from the first byte anyway.
        auth_require_tls=args.tls == "starttls",
        hostname="127.0.0.1",
        port=port,
    )
    if args.tls == "implicit":
        global IMPLICIT_TLS
        IMPLICIT_TLS = True
        controller = Controller(Recorder(maildir), ssl_context=context, **options)
    elif args.tls == "starttls":
        controller = Controller(Recorder(maildir), tls_context=context, require_starttls=True, **options)
    else:
        controller = Controller(Recorder(maildir), **options)
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
