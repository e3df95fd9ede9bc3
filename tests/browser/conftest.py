"""Browser tests: Debian's Chromium (never `playwright install`), and their screenshots kept as
test artefacts in `test-artifacts/captures/<test>/` at the repository's root (ignored by git;
CRISIS_TEST_ARTIFACTS moves it), replaced at each run, so the latest pictures of the main pages
are there after the suite."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def chromium() -> Path:
    """The browser's executable; in CI its absence fails the test instead of skipping it."""
    if CHROMIUM.is_file():
        return CHROMIUM
    message = (
        f"{CHROMIUM} est absent : installer le paquet Debian « chromium » "
        "(apt-get install chromium)"
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder (emptied first)."""
    base = Path(os.environ.get("CRISIS_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "captures"
    folder = base / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
