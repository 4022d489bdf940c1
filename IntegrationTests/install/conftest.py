"""Fixtures shared with the interop tests."""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from interop_fixtures import binary  # noqa: E402,F401
