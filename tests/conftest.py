"""Shared fixtures. Test files live in tests/data (copied from the project's shared corpus)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
if str(TESTS) not in sys.path:  # the fixture builders (build_pdf, build_docx) are plain modules here
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (DATA / "seed" / "county-annual-report.txt").read_text(encoding="utf-8")
