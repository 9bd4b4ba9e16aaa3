"""The test command also lints: ruff over the code, mypy over the pure parts.

Their settings live in pyproject.toml (``[tool.ruff]``, ``[tool.mypy]``); these tests run the two
tools exactly as a developer would, so a finding fails the suite with the tool's own report.
"""
from __future__ import annotations

import re
import subprocess
import sys

from testenv import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing_in_parsing_analysis_and_the_classifier():
    done = run("mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout + done.stderr
    checked = re.search(r"Success: no issues found in (\d+) source files", done.stdout)
    assert checked and int(checked.group(1)) >= 20, done.stdout   # the three packages, not an empty selection
