#!/usr/bin/env bash
# Builds the binary agents run, .build/release/mcp-push, the way that starts fastest.
# On Linux the Swift runtime and Foundation are linked in statically and the executable is not
# position-independent: fewer libraries to load and relocate at every start (docs/PERFORMANCE.md).
# Extra arguments go to `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" = Linux ]; then
    swift build -c release --product mcp-push --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -no-pie "$@"
else
    swift build -c release --product mcp-push "$@"
fi
echo "built $PWD/.build/release/mcp-push"
