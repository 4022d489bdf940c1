"""Fixtures shared with the interop tests."""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from interop_fixtures import (  # noqa: E402,F401
    DEVICE_KEY, FakeBark, bark, bark_env, binary, no_background_sender_outlives_its_test, wait_until)
