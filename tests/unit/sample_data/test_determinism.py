"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from payrecon.sample_data import generate

SMALL = {"start": "2026-11-01", "days": 4, "orders_per_day": 120}


def _digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".json")
    }


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {
            t: conn.execute(sa.text(f"select * from {t} order by 1")).all()
            for t in ("customers", "products", "subscriptions", "orders", "payment_attempts")
        }
    engine.dispose()
    return out


def test_same_seed_gives_identical_files_and_rows(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=3, **SMALL)
    b = generate(tmp_path / "b", seed=3, **SMALL)
    da, db = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert da == db
    assert any(k.startswith("inbox/stripe/") for k in da) and any(k.startswith("inbox/acmepay/") for k in da)
    assert {"truth/orders.csv", "truth/settlement_lines.csv", "truth/scenario.json"} <= set(da)
    assert _rows(a.commerce_url) == _rows(b.commerce_url)
    assert a.order_states == b.order_states and a.line_states == b.line_states


def test_regenerating_in_place_is_idempotent(tmp_path: Path) -> None:
    reused = generate(tmp_path / "reused", seed=3, **{**SMALL, "days": 6})
    reused = generate(tmp_path / "reused", seed=3, **SMALL)  # a shorter run leaves no stale folder behind
    fresh = generate(tmp_path / "fresh", seed=3, **SMALL)
    assert _digests(tmp_path / "reused") == _digests(tmp_path / "fresh")
    assert _rows(reused.commerce_url) == _rows(fresh.commerce_url)


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=3, **SMALL)
    generate(tmp_path / "b", seed=4, **SMALL)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a["truth/orders.csv"] != b["truth/orders.csv"]


def test_tiny_and_long_scenarios_generate(tmp_path: Path) -> None:
    for days, per_day in ((1, 1), (2, 3), (12, 20)):
        summary = generate(tmp_path / f"{days}x{per_day}", "2026-12-30", days, per_day, seed=1)
        assert summary.table_counts["orders"] == days * per_day
        assert sum(summary.order_states.values()) == days * per_day
        assert sum(summary.line_states.values()) == summary.table_counts["settlement_lines"]
