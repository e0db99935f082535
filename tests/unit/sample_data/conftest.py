"""One default-size scenario per test session (generation takes well under a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from payrecon.sample_data import ScenarioSummary, generate

DEFAULT = {"start": "2026-11-01", "days": 5, "orders_per_day": 200, "seed": 7}


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScenarioSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, **DEFAULT)
