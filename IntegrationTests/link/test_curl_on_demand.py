"""CurlOnDemand: libcurl's functions are forwarded to libcurl.so.4, which is loaded only on first use.

The release executable must not load libcurl at start (about 6 ms and 6 MiB for code mcp-push never
calls); these tests check the forwarding itself and, when a static release build is present, the
executable's link.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHIM = ROOT / "Sources" / "CurlOnDemand"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("clang")
    if compiler is None:
        pytest.fail("no C compiler (cc or clang) to build the CurlOnDemand driver")
    output = tmp_path_factory.mktemp("curl") / "curl_driver"
    # No -lcurl: every libcurl symbol must come from the shim.
    subprocess.run(
        [compiler, "-Wall", "-Wextra", "-Werror", "-I", str(SHIM / "include"),
         str(pathlib.Path(__file__).with_name("curl_driver.c")), str(SHIM / "curl_on_demand.c"),
         "-o", str(output), "-ldl", "-lpthread"],
        check=True,
    )
    return output


def run_driver(driver: pathlib.Path) -> dict[str, str]:
    done = subprocess.run([str(driver)], capture_output=True, text=True, timeout=30, check=True)
    return dict(line.split(": ", 1) for line in done.stdout.splitlines())


def test_libcurl_is_loaded_by_the_first_call_not_before(driver: pathlib.Path) -> None:
    answers = run_driver(driver)
    assert answers["before"] == "loaded=0 mapped=0"
    assert answers["version"].startswith("libcurl/")
    assert answers["after"] == "loaded=1 mapped=1"


def test_every_kind_of_call_reaches_libcurl_with_its_arguments(driver: pathlib.Path) -> None:
    answers = run_driver(driver)
    assert answers["global_init"] == "0"
    # A pointer through the variadic setopt comes back through the variadic getinfo.
    assert answers["setopt private"] == "0"
    assert answers["getinfo private"] == "0 same=1"
    # A long, all 64 bits of it: libcurl accepts 5 redirects and rejects -2 with
    # CURLE_BAD_FUNCTION_ARGUMENT (43); cut to 32 bits, -2 would read as a large positive number.
    assert answers["setopt maxredirs 5"] == "0"
    assert answers["setopt maxredirs -2"] == "43"
    assert answers["strerror 43"] == "A libcurl function was given a bad argument"
    assert answers["setopt headers"] == "0"
    assert [answers[key] for key in ("multi_setopt", "multi_add", "multi_remove", "multi_cleanup")] == ["0"] * 4
    assert answers["url_set"] == "0"
    assert answers["url host"] == "127.0.0.1 port: 8443"


def needed_libraries(binary: str) -> list[str]:
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]


@pytest.fixture()
def static_release_binary() -> str:
    binary = os.environ.get("MCP_PUSH_RELEASE_BINARY") or str(ROOT / ".build" / "release" / "mcp-push")
    if not os.access(binary, os.X_OK) or shutil.which("readelf") is None:
        pytest.skip("no release build (scripts/build-release.sh) or no readelf")
    if any(name.startswith("libswiftCore") for name in needed_libraries(binary)):
        pytest.skip("the release build links the Swift runtime dynamically; its Foundation brings libcurl itself")
    return binary


def test_the_static_release_executable_exports_no_swift_symbols(static_release_binary: str) -> None:
    # Exported symbols slow every start (see Package.swift, --no-export-dynamic).
    symbols = subprocess.run(["readelf", "--dyn-syms", "-W", static_release_binary],
                             capture_output=True, text=True, check=True).stdout
    exported_swift = [line for line in symbols.splitlines() if " $s" in line and " UND " not in line]
    assert exported_swift == [], exported_swift[:5]


def test_the_static_release_executable_starts_without_libcurl(static_release_binary: str, tmp_path: pathlib.Path) -> None:
    binary = static_release_binary
    needed = needed_libraries(binary)
    assert not [name for name in needed if "curl" in name], needed

    server = subprocess.Popen(
        [binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", ""), "MCP_PUSH_STATE_DIR": str(tmp_path), "MCP_PUSH_CONFIG": os.devnull},
    )
    try:
        request = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "link-test", "version": "1"}}}
        server.stdin.write((json.dumps(request) + "\n").encode())
        server.stdin.flush()
        answer = json.loads(server.stdout.readline())
        assert answer["result"]["serverInfo"]["name"] == "mcp-push"
        maps = pathlib.Path(f"/proc/{server.pid}/maps").read_text()
        assert "libcurl" not in maps
        assert "libgnutls" not in maps
    finally:
        server.stdin.close()
        server.wait(timeout=10)
