#!/usr/bin/env python3
"""Stands in for the `claude`, `codex` and `gemini` CLIs (not installable here): records its
arguments, one JSON array per line, in $STAND_IN_LOG, and does what the real one's `mcp add` /
`mcp remove` does to its own files, so a second install sees the server registered."""

from __future__ import annotations

import json
import os
import pathlib
import sys

name = pathlib.Path(sys.argv[0]).name
arguments = sys.argv[1:]
with open(os.environ["STAND_IN_LOG"], "a") as log:
    log.write(json.dumps([name, *arguments]) + "\n")
if os.environ.get("STAND_IN_FAIL") == name:
    print(f"{name}: something went wrong", file=sys.stderr)
    sys.exit(1)

home = pathlib.Path(os.environ["HOME"])
if name == "claude" and arguments[:2] == ["mcp", "add"]:
    # claude mcp add --scope user NAME -- COMMAND [ARGS...] writes ~/.claude.json (user scope).
    server, command = arguments[4], arguments[6:]
    path = home / ".claude.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("mcpServers", {})[server] = {"type": "stdio", "command": command[0], "args": command[1:], "env": {}}
    path.write_text(json.dumps(data, indent=2))
elif name == "claude" and arguments[:2] == ["mcp", "remove"]:
    path = home / ".claude.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    if arguments[-1] not in data.get("mcpServers", {}):
        print(f"No MCP server found with name: {arguments[-1]}", file=sys.stderr)
        sys.exit(1)
    del data["mcpServers"][arguments[-1]]
    path.write_text(json.dumps(data, indent=2))
