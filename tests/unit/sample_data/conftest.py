"""One default-size scenario per test session (generation takes well under a second)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from payrecon.sample_data import ScenarioSummary, generate

DEFAULT = {"start": "2026-11-01", "days": 5, "orders_per_day": 200, "seed": 7}


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScenarioSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, **DEFAULT)


@pytest.fixture(scope="session")
def commerce(scenario) -> dict[str, pd.DataFrame]:
    """The commerce tables as text, exactly as stored (no driver conversion)."""
    _, summary = scenario
    engine = sa.create_engine(summary.commerce_url)
    with engine.connect() as conn:
        tables = {}
        for name in ("customers", "products", "subscriptions", "orders", "payment_attempts"):
            cols = [c["name"] for c in sa.inspect(conn).get_columns(name)]
            select = ", ".join(f"cast({c} as text) as {c}" for c in cols)
            tables[name] = pd.read_sql(sa.text(f"select {select} from {name}"), conn, dtype=object)
    engine.dispose()
    return tables


@pytest.fixture(scope="session")
def truth(scenario) -> dict[str, pd.DataFrame]:
    out, _ = scenario
    return {
        "orders": pd.read_csv(out / "truth" / "orders.csv", dtype=str, keep_default_na=False),
        "lines": pd.read_csv(out / "truth" / "settlement_lines.csv", dtype=str, keep_default_na=False),
    }


@pytest.fixture(scope="session")
def files(scenario) -> dict[tuple[str, str], pd.DataFrame]:
    """Every settlement file as strings, keyed by (gateway, report date)."""
    out, _ = scenario
    return {
        (path.parent.parent.name, path.parent.name): pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted((out / "inbox").glob("*/*/settlement.csv"))
    }
