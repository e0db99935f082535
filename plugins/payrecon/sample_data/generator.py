"""`generate()`: a whole deterministic merchant scenario, with its ground truth."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from payrecon.sample_data.catalog import GATEWAY_FORMATS, load_catalog
from payrecon.sample_data.config import Config
from payrecon.sample_data.database import write_commerce
from payrecon.sample_data.orders import CHARGEBACK, REFUNDED, REGULAR, SCENARIOS, build_commerce, order_ids
from payrecon.sample_data.settlements import build_settlements
from payrecon.sample_data.truth import LINE_STATES, ORDER_STATES, line_states, order_states
from payrecon.sample_data.writers import clear_previous, write_settlement_files, write_truth


@dataclass
class ScenarioSummary:
    out_dir: str
    commerce_url: str
    seed: int
    start: str
    days: int
    orders_per_day: int
    grace_days: int
    as_of: str
    gateways: dict[str, str]
    table_counts: dict[str, int] = field(default_factory=dict)
    order_states: dict[str, int] = field(default_factory=dict)
    line_states: dict[str, int] = field(default_factory=dict)
    scenarios: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        out = [f"sample data in {self.out_dir} (seed {self.seed}, {self.days} days from {self.start}, "
               f"{self.orders_per_day} orders/day, as of {self.as_of}, grace {self.grace_days} days)",
               f"commerce database: {self.commerce_url}", "tables:"]
        out += [f"  {k:<20} {v:>10}" for k, v in self.table_counts.items()]
        out.append("expected order states:")
        out += [f"  {k:<26} {v:>10}" for k, v in self.order_states.items()]
        out.append("expected settlement line states:")
        out += [f"  {k:<26} {v:>10}" for k, v in self.line_states.items()]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in self.stage_seconds.items())
        out.append(f"{len(self.files)} settlement files, generated in {self.seconds:.1f} s ({stages})")
        return "\n".join(out)


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _counts(values: np.ndarray, order: tuple[str, ...]) -> dict[str, int]:
    counts = pd.Series(values).value_counts()
    return {state: int(counts.get(state, 0)) for state in order}


def generate(
    out_dir: str | Path,
    start: date | str = "2026-11-01",
    days: int = 5,
    orders_per_day: int = 200,
    seed: int = 7,
    commerce_url: str | None = None,
    grace_days: int = 3,
) -> ScenarioSummary:
    began = time.perf_counter()
    cfg = Config(_as_date(start), int(days), int(orders_per_day), int(seed), int(grace_days))
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    url = commerce_url or f"sqlite:///{out / 'commerce.sqlite'}"

    cat = load_catalog()
    stages: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = round(now - mark, 3)
        mark = now

    com = build_commerce(cfg, cat)
    lap("orders")
    lines, refunds = build_settlements(cfg, cat, com)
    lap("settlements")

    orders = com.orders
    scenario = orders["scenario"]
    rows = refunds["order"].to_numpy()
    orders["status"][rows] = "refunded"
    orders["updated_s"][rows] = np.maximum(orders["updated_s"][rows], refunds["refunded_s"].to_numpy())
    # label post-sale events only on otherwise regular orders (a refunded retry stays a retry)
    scenario[rows[scenario[rows] == REGULAR]] = REFUNDED
    disputed = _orders_of_charges(com, lines.loc[lines["type"] == "chargeback", "charge_row"].to_numpy())
    scenario[disputed[scenario[disputed] == REGULAR]] = CHARGEBACK

    lines["expected_state"] = line_states(com, lines)
    orders["expected_state"] = order_states(cfg, com, lines, lines["expected_state"].to_numpy())
    # a sale is a purchase's first successful order; failed attempts and the second of a double purchase are not
    purchase = orders["purchase"]
    paid_rows = np.flatnonzero(orders["has_success"])
    first_paid = paid_rows[~pd.Series(purchase[paid_rows]).duplicated().to_numpy()]
    orders["is_sale"] = np.zeros(orders.rows, dtype=bool)
    orders["is_sale"][first_paid] = True
    orders["scenario_name"] = SCENARIOS[scenario]
    lines["true_order_id"] = _true_order_ids(com, lines)

    lap("truth")
    clear_previous(out)
    files = write_settlement_files(cfg, out, lines)
    lap("settlement_files")
    table_counts = write_commerce(url, com, cat, fresh_file=commerce_url is None)
    lap("commerce_db")
    table_counts["settlement_lines"] = len(lines)
    summary = ScenarioSummary(
        out_dir=str(out),
        commerce_url=url,
        seed=cfg.seed,
        start=cfg.start.isoformat(),
        days=cfg.days,
        orders_per_day=cfg.orders_per_day,
        grace_days=cfg.grace_days,
        as_of=datetime.fromtimestamp(cfg.as_of, tz=UTC).isoformat(),
        gateways=dict(GATEWAY_FORMATS),
        table_counts=table_counts,
        order_states=_counts(orders["expected_state"], ORDER_STATES),
        line_states=_counts(lines["expected_state"].to_numpy(), LINE_STATES),
        scenarios={k: int(v) for k, v in pd.Series(SCENARIOS[scenario]).value_counts().sort_index().items()},
        files=[str(p.relative_to(out)) for p in files],
    )
    truth_meta = {k: v for k, v in summary.as_dict().items() if k not in ("out_dir", "commerce_url", "seconds", "stage_seconds")}
    truth_meta["counts"] = {
        "tables": summary.table_counts, "order_states": summary.order_states, "line_states": summary.line_states,
        "scenarios": summary.scenarios,
    }
    for k in ("table_counts", "order_states", "line_states", "scenarios"):
        truth_meta.pop(k)
    write_truth(cfg, out, orders, lines, truth_meta)
    lap("truth_files")
    summary.stage_seconds = stages
    summary.seconds = round(time.perf_counter() - began, 3)
    return summary


def _orders_of_charges(com, charge_rows: np.ndarray) -> np.ndarray:
    return np.unique(com.attempts["order"][np.asarray(charge_rows, dtype=np.int64)])


def _true_order_ids(com, lines: pd.DataFrame) -> np.ndarray:
    rows = lines["charge_row"].to_numpy()
    orders = np.r_[com.attempts["order"], 0]  # padding row for lines without a charge
    out = order_ids(orders[np.where(rows >= 0, rows, len(orders) - 1)]).astype(object)
    out[rows < 0] = None
    return out
