"""One generated merchant (every order origin) decided once per module on the embedded warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from payrecon.linking.scenario import Scenario, build, day_windows, load
from payrecon.rules.decide import decide
from payrecon.rules.settings import RuleSettings
from payrecon.warehouse.engine import make_engine
from payrecon.warehouse.migrate import upgrade

ALL_ORIGINS = {"shopping_cart", "order_form", "legacy_order_form", "manual", "campaign", "api", "action_set"}


@dataclass
class Decided:
    engine: sa.Engine
    scenario: Scenario
    settings: RuleSettings

    def frame(self, query: str, **binds) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(sa.text(query), conn, params=binds)

    def latest(self) -> pd.DataFrame:
        """Each order's decisions from the latest window that decided it: what stands now."""
        return self.frame(
            """
            select d.*
            from order_decisions as d
            where d.window_start = (select max(x.window_start) from order_decisions as x where x.order_id = d.order_id)
            """
        )


def decided_warehouse(tmp: Path, settings: RuleSettings) -> Iterator[Decided]:
    scenario = build(seed=11, persons=400, days=7)
    assert set(scenario.orders["origin"]) == ALL_ORIGINS
    engine = make_engine(f"duckdb:///{tmp / 'rules.duckdb'}")
    upgrade(engine)
    load(engine, scenario)
    decide(engine, day_windows(scenario), settings, run_id="test-run")
    yield Decided(engine, scenario, settings)
    engine.dispose()


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Decided]:
    yield from decided_warehouse(tmp_path_factory.mktemp("rules"), RuleSettings(auto_charge=True))


@pytest.fixture(scope="module")
def decided_auto_charge_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Decided]:
    yield from decided_warehouse(tmp_path_factory.mktemp("rules_off"), RuleSettings(auto_charge=False))
