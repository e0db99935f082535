"""Warehouse connections carry the session settings a million-row window needs, and a setting in the
Connection's URL wins over the defaults (a DBA tunes a server without a code change)."""

from __future__ import annotations

import hashlib

import pytest

from payrecon.warehouse.engine import make_engine


@pytest.mark.postgres
def test_postgres_sessions_get_window_sized_settings_and_the_url_wins(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            shown = {name: conn.exec_driver_sql(f"show {name}").scalar()
                     for name in ("work_mem", "temp_buffers", "jit", "timezone")}
        assert shown == {"work_mem": "128MB", "temp_buffers": "256MB", "jit": "off", "timezone": "UTC"}
    finally:
        engine.dispose()
    engine = make_engine(f"{pg_url}?options=-c%20work_mem%3D64MB")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("show work_mem").scalar() == "64MB"
            assert conn.exec_driver_sql("show jit").scalar() == "off"
    finally:
        engine.dispose()


def test_duckdb_memory_limit_defaults_and_the_url_wins(tmp_path) -> None:  # noqa: ANN001
    engine = make_engine(f"duckdb:///{tmp_path / 'a.duckdb'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("select current_setting('memory_limit')").scalar().startswith("1.8")
    finally:
        engine.dispose()
    engine = make_engine(f"duckdb:///{tmp_path / 'b.duckdb'}?memory_limit=1GB")
    try:
        with engine.connect() as conn:
            limit = conn.exec_driver_sql("select current_setting('memory_limit')").scalar()
        assert limit.startswith(("953", "1.0")), limit
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_outbox_refuses_an_id_that_is_not_the_md5_of_its_key(warehouse_url: str) -> None:
    """Migration 0012: the primary key on md5(idempotency key) is the key's uniqueness."""
    if not warehouse_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's check constraint (DuckDB's writers prove the key, see test_keyless_tables)")
    import sqlalchemy as sa

    engine = make_engine(warehouse_url)
    insert = sa.text(
        "insert into followup_outbox (outbox_id, idempotency_key, event_kind, event_at, subject_ref, action_id, "
        "channel, cancellable, status, attempts, next_attempt_at, planned_at) values "
        "(:id, :key, 'failed_purchase', now(), 'o-1', 'email_apology', 'email', true, 'pending', 0, now(), now())"
    )
    try:
        with engine.begin() as conn:
            conn.execute(insert, {"id": hashlib.md5(b"k1").hexdigest(), "key": "k1"})
        with pytest.raises(sa.exc.IntegrityError, match="ck_followup_outbox_id_is_key_md5"), engine.begin() as conn:
            conn.execute(insert, {"id": "not-an-md5", "key": "k2"})
        with pytest.raises(sa.exc.IntegrityError, match="followup_outbox_pkey"), engine.begin() as conn:
            conn.execute(insert, {"id": hashlib.md5(b"k1").hexdigest(), "key": "k1"})
    finally:
        engine.dispose()
