"""Browser tests keep their screenshots as test artefacts: `test-artifacts/captures/<test>/`
at the repository's root (ignored by git; CRISIS_TEST_ARTIFACTS moves it), replaced at each
run, so the latest pictures of the main pages are there after the suite."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder (emptied first)."""
    base = Path(os.environ.get("CRISIS_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "captures"
    folder = base / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
