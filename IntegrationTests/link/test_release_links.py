"""The release executable: no libcurl and no FoundationNetworking (swift-sdk brought both), few shared libraries."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

BINARY = pathlib.Path(os.environ.get("MCP_PUSH_BINARY", ""))


@pytest.fixture(scope="module")
def shared_libraries() -> list[str]:
    if not BINARY.is_file():
        pytest.fail("MCP_PUSH_BINARY must name the release executable")
    listing = subprocess.run(["ldd", str(BINARY)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def test_no_libcurl_and_no_foundation_networking(shared_libraries: list[str]) -> None:
    assert not [name for name in shared_libraries if "curl" in name or "FoundationNetworking" in name], shared_libraries
    symbols = subprocess.run(["nm", "--defined-only", str(BINARY)], capture_output=True, text=True, check=True).stdout
    assert "20FoundationNetworking" not in symbols  # no Swift symbol of the module
    assert "curl_easy_init" not in symbols


def test_it_starts_and_answers(shared_libraries: list[str]) -> None:
    # The static runtime leaves only the C library, the C++ runtime's few and SQLite.
    assert len(shared_libraries) <= 12, shared_libraries
    done = subprocess.run([str(BINARY), "--version"], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0 and done.stdout.strip()
