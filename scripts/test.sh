#!/usr/bin/env bash
# Runs every test: the Swift suites, then the official Python MCP clients driving the built binary.
# Needs Swift and Python 3 with venv; installs the Python packages it needs into .venv and .venv-mcp1.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}

# A venv per requirements file, rebuilt only when the file changes.
ensure_venv() {
    local dir=$1 requirements=$2
    if [ ! -x "$dir/bin/python" ] || ! cmp -s "$requirements" "$dir/.requirements"; then
        echo "==> setting up $dir from $requirements"
        rm -rf "$dir"
        "$python" -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$dir/.requirements"
    fi
}

ensure_venv .venv requirements-test.txt
ensure_venv .venv-mcp1 requirements-mcp1.txt

# A throwaway PostgreSQL for the store's second backend and the replica tests (stopped on exit).
postgres_dir=$(mktemp -d /tmp/mcp-push-postgres.XXXXXX)
trap 'scripts/postgres.sh stop "$postgres_dir"; rm -rf "$postgres_dir"' EXIT
export MCP_PUSH_TEST_DATABASE_URL=$(scripts/postgres.sh start "$postgres_dir")
echo "==> PostgreSQL for the tests at $MCP_PUSH_TEST_DATABASE_URL"

echo "==> swift build"
swift build --build-tests

echo "==> swift test"
export MCP_PUSH_TEST_PYTHON="$PWD/.venv/bin/python3"
# One test at a time: run together on two cores, tests that compute or wait on SQLite's locks for seconds
# held the shared pool's two threads, and other tests' timeouts and deadlines measured seconds late.
swift test --skip-build --no-parallel

echo "==> interop: official Python MCP client (mcp 2.x) over stdio and Streamable HTTP"
export MCP_PUSH_BINARY="$PWD/.build/debug/mcp-push"
.venv/bin/python -m pytest -q IntegrationTests/interop

echo "==> agents' hooks: payloads as each agent documents them, at a fake service"
.venv/bin/python -m pytest -q IntegrationTests/hooks

echo "==> approvals: permission prompts and questions answered on fake Telegram and ntfy, and the page in Chromium"
.venv/bin/python -m pytest -q IntegrationTests/approvals

echo "==> install / uninstall / doctor in a temporary HOME, agents' CLIs as stand-ins"
.venv/bin/python -m pytest -q IntegrationTests/install

echo "==> command line: terminal output, JSON, exit codes, stdin"
.venv/bin/python -m pytest -q IntegrationTests/cli

echo "==> interop: older official client (mcp 1.9, protocol 2025-03-26)"
.venv-mcp1/bin/python -m pytest -q IntegrationTests/interop_mcp1

echo "==> release build: the binary agents run, its links, and the malformed-input corpus against it"
scripts/build-release.sh
MCP_PUSH_BINARY="$PWD/.build/release/mcp-push" .venv/bin/python -m pytest -q IntegrationTests/link \
    IntegrationTests/interop/test_malformed.py

echo "==> bench smoke run (tiny counts; timings are not checked)"
"$python" bench/bench.py --smoke --binary "$MCP_PUSH_BINARY"
.venv/bin/python bench/http_load.py --smoke --binary "$MCP_PUSH_BINARY"
"$python" bench/hook_bench.py --smoke --binary "$MCP_PUSH_BINARY"

echo "==> all tests passed"
