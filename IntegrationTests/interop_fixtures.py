"""The interop tests' fixtures (the built binary, a fake Bark, an environment pointing at it),
for the other test directories: each directory runs as its own pytest session."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

_INTEROP = pathlib.Path(__file__).resolve().parent / "interop"
sys.path.insert(0, str(_INTEROP))
_spec = importlib.util.spec_from_file_location("interop_conftest", _INTEROP / "conftest.py")
_interop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_interop)

binary = _interop.binary
no_background_sender_outlives_its_test = _interop.no_background_sender_outlives_its_test
bark = _interop.bark
bark_env = _interop.bark_env
wait_until = _interop.wait_until
fresh_postgres_database = _interop.fresh_postgres_database
TEST_DATABASE_SERVER = _interop.TEST_DATABASE_SERVER
DEVICE_KEY = _interop.DEVICE_KEY
FakeBark = _interop.FakeBark
