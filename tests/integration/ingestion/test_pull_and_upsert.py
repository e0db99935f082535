"""The orders pull and the bulk upsert it rests on, on DuckDB and PostgreSQL (R15: re-running changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from payrecon.warehouse.bulk import DuplicateKeyError, upsert_frame

T0 = datetime(2026, 11, 1, 10, tzinfo=UTC)
COLS = ["customer_id", "first_name", "last_name", "email", "phone", "created_at", "updated_at"]


def _customers(ids: list[str], name: str, at: datetime) -> pa.Table:
    n = len(ids)
    return pa.table({
        "customer_id": ids,
        "first_name": [name] * n,
        "last_name": ["Doe"] * n,
        "email": [f"{i}@example.com" for i in ids],
        "phone": [None] * n,
        "created_at": pa.array([T0] * n, pa.timestamp("us", tz="UTC")),
        "updated_at": pa.array([at] * n, pa.timestamp("us", tz="UTC")),
    })


def _table(engine, name: str, order: str) -> pd.DataFrame:  # noqa: ANN001
    with engine.connect() as conn:
        return pd.read_sql(sa.text(f"select * from {name} order by {order}"), conn)  # noqa: S608


def test_upsert_updates_changed_rows_inserts_new_ones_and_reruns_change_nothing(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        assert upsert_frame(conn, "customers", _customers(["c1", "c2"], "Ann", T0), ["customer_id"]) == 2
    later = T0 + timedelta(hours=1)
    changed = pa.concat_tables([_customers(["c2"], "Bea", later), _customers(["c3"], "Cy", later)])
    for _ in range(2):  # the second run is a replay: same rows, same tables
        with engine.begin() as conn:
            assert upsert_frame(conn, "customers", changed, ["customer_id"]) == 2
        rows = _table(engine, "customers", "customer_id")
        assert rows["customer_id"].tolist() == ["c1", "c2", "c3"]
        assert rows["first_name"].tolist() == ["Ann", "Bea", "Cy"]


def test_upsert_the_last_duplicate_of_a_key_wins(engine) -> None:  # noqa: ANN001
    frame = pa.concat_tables([_customers(["c1"], "Al", T0), _customers(["c1"], "Alice", T0)])
    with engine.begin() as conn:
        assert upsert_frame(conn, "customers", frame, ["customer_id"]) == 1
    assert _table(engine, "customers", "customer_id")["first_name"].tolist() == ["Alice"]


def test_duckdb_upsert_keeps_columns_the_frame_does_not_carry(tmp_path: Path) -> None:
    """An update, never a delete and re-insert. (PostgreSQL's `on conflict` checks NOT NULL on the
    proposed row first, so there a partial frame may only leave nullable columns out.)"""
    from payrecon.warehouse.engine import make_engine
    from payrecon.warehouse.migrate import upgrade

    engine = make_engine(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    try:
        upgrade(engine)
        with engine.begin() as conn:
            upsert_frame(conn, "customers", _customers(["c1"], "Ann", T0), ["customer_id"])
            upsert_frame(conn, "customers", pd.DataFrame({"customer_id": ["c1"], "first_name": ["Alice"]}),
                         ["customer_id"])
        row = _table(engine, "customers", "customer_id").iloc[0]
        assert (row["first_name"], row["email"]) == ("Alice", "c1@example.com")
    finally:
        engine.dispose()


def test_duckdb_upsert_refuses_a_key_held_twice(tmp_path: Path) -> None:
    """DuckDB keeps no primary key on the big tables (migration 0008): the upsert proves uniqueness itself."""
    from payrecon.warehouse.bulk import insert_frame
    from payrecon.warehouse.engine import make_engine
    from payrecon.warehouse.migrate import upgrade

    engine = make_engine(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    try:
        upgrade(engine)
        with engine.begin() as conn:
            insert_frame(conn, "customers", _customers(["c1", "c1"], "Ann", T0))  # a writer that ignored the rule
        with pytest.raises(DuplicateKeyError, match="customers"), engine.begin() as conn:
            upsert_frame(conn, "customers", _customers(["c1"], "Bea", T0), ["customer_id"])
        assert _table(engine, "customers", "customer_id")["first_name"].tolist() == ["Ann", "Ann"]  # rolled back
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from payrecon.sample_data import generate

    out = tmp_path_factory.mktemp("shop")
    generate(out, "2026-11-01", 2, 300, seed=5)
    return out


def test_pull_reads_sqlite_by_adbc_in_batches_and_a_rerun_changes_nothing(
    engine, shop: Path, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    from payrecon.commerce import pull
    from payrecon.warehouse.engine import make_engine

    monkeypatch.setattr(pull, "PULL_BATCH_ROWS", 97)  # several batches per table
    used = []
    adbc = pull._read_sqlite_adbc
    monkeypatch.setattr(pull, "_read_sqlite_adbc", lambda *a: used.append(a[-1]) or adbc(*a))
    commerce = make_engine(f"sqlite:///{shop / 'commerce.sqlite'}")
    until = datetime(2026, 11, 3, tzinfo=UTC)
    try:
        first = pull.pull_incremental(commerce, engine, until)
        assert used and set(used) == {97}  # the fast path, never the one-batch or cursor fallback
        snap = {t: _table(engine, t, key) for t, key in (("orders", "order_id"), ("payment_attempts", "attempt_id"),
                                                          ("customers", "customer_id"))}
        with sa.create_engine(f"sqlite:///{shop / 'commerce.sqlite'}").connect() as src:
            want = src.execute(sa.text("select count(*) from orders")).scalar()
        assert first["orders"] == want == len(snap["orders"])
        assert snap["orders"]["order_id"].is_unique and snap["payment_attempts"]["attempt_id"].is_unique
        pull.pull_incremental(commerce, engine, until)  # only the overlap comes back: upserted, unchanged
        for t, key in (("orders", "order_id"), ("payment_attempts", "attempt_id"), ("customers", "customer_id")):
            pd.testing.assert_frame_equal(_table(engine, t, key), snap[t])
    finally:
        commerce.dispose()


def test_pull_falls_back_when_the_driver_cannot_type_a_later_batch(
    engine, shop: Path, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """A reader failing mid-table hands over to the next; the rows already upserted are upserted again."""
    from payrecon.commerce import pull
    from payrecon.warehouse.engine import make_engine

    real = pull._read_sqlite_adbc

    def breaks_after_one_batch(commerce, query, batch_rows):  # noqa: ANN001, ANN202
        batches = real(commerce, query, batch_rows)
        if batch_rows == pull.ADBC_BATCH_ROWS:
            yield from batches
            return
        yield next(batches)
        raise OSError("[SQLite] Type mismatch in column 3: expected INT64 but got STRING/BINARY")

    monkeypatch.setattr(pull, "PULL_BATCH_ROWS", 50)
    monkeypatch.setattr(pull, "_read_sqlite_adbc", breaks_after_one_batch)
    commerce = make_engine(f"sqlite:///{shop / 'commerce.sqlite'}")
    try:
        counts = pull.pull_incremental(commerce, engine, datetime(2026, 11, 3, tzinfo=UTC))
    finally:
        commerce.dispose()
    orders = _table(engine, "orders", "order_id")
    assert counts["orders"] == len(orders) and orders["order_id"].is_unique


def test_zoned_timestamps_land_as_the_same_instants(engine) -> None:  # noqa: ANN001
    """PostgreSQL's COPY gets zoned timestamps as UTC text with an explicit offset (the fast formatting
    path): every instant lands unchanged, whatever zone the column carries or the session runs in,
    microseconds, instants before 1970 and nulls included."""
    instants = [
        datetime(2026, 11, 1, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # a daylight-saving change in Europe
        None,
    ]
    ids = [f"t{i}" for i in range(len(instants))]
    frame = _customers(ids, "Tz", T0).set_column(
        5, "created_at", pa.array(instants, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz="Europe/Berlin"))
    )
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("set local timezone = 'America/Los_Angeles'")
        upsert_frame(conn, "customers", frame, ["customer_id"])
    rows = _table(engine, "customers", "customer_id")
    got = [None if pd.isna(v) else pd.Timestamp(v).tz_localize("UTC") if pd.Timestamp(v).tzinfo is None
           else pd.Timestamp(v).tz_convert("UTC") for v in rows["created_at"]]
    assert got == [None if v is None else pd.Timestamp(v) for v in instants]
