"""Shared by every test folder: tests/support holds helpers that several conftests import."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "support"))
