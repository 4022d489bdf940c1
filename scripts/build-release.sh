#!/usr/bin/env bash
# Builds the binary agents run, .build/release/mcp-push, the way that starts fastest.
# On Linux the Swift runtime and Foundation are linked in statically and the executable is not
# position-independent: fewer libraries to load and relocate at every start (docs/PERFORMANCE.md).
# --no-export-dynamic: the static runtime's link arguments export every symbol of the executable
# (47 000); nothing looks them up, but the dynamic loader checks that table first for every symbol
# the shared libraries bind, and the runtime's start-up `dladdr` walks it (about 1.5 ms per start).
# Extra arguments go to `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" = Linux ]; then
    swift build -c release --product mcp-push --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -no-pie \
        -Xlinker --no-export-dynamic "$@"
else
    swift build -c release --product mcp-push "$@"
fi
echo "built $PWD/.build/release/mcp-push"
