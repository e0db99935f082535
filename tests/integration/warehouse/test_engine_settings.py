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


@pytest.fixture
def migrated_pg(pg_url: str):  # noqa: ANN201 - a Connection
    """A connection to an upgraded PostgreSQL warehouse, inside a transaction rolled back after the test."""
    from payrecon.warehouse.migrate import upgrade

    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        with engine.connect() as conn, conn.begin() as tx:
            yield conn
            tx.rollback()
    finally:
        engine.dispose()


def _index_defs(conn, *names: str) -> dict[str, str]:  # noqa: ANN001 - Connection
    rows = conn.exec_driver_sql(
        "select indexname, indexdef from pg_indexes where indexname = any(%(names)s)", {"names": list(names)})
    return dict(rows.all())


def _plan(conn, query: str) -> str:  # noqa: ANN001 - Connection
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"explain {query}"))


@pytest.mark.postgres
def test_postgres_journey_index_holds_journey_rows_and_still_serves_their_lookup(migrated_pg) -> None:  # noqa: ANN001
    """Migration 0013: ix_followup_outbox_journey is partial (journey rows only), and the equality lookup
    journeys use (`journey_await_delivery`) still goes through it. (DuckDB keeps no index on the outbox.)"""
    conn = migrated_pg
    definition = _index_defs(conn, "ix_followup_outbox_journey")["ix_followup_outbox_journey"]
    assert definition.endswith("WHERE (journey_instance_id IS NOT NULL)"), definition
    # an outbox with many waiting rows, a few of them journey steps: on an empty table every index costs
    # the same and the planner's pick says nothing
    conn.exec_driver_sql(
        "insert into followup_outbox (outbox_id, idempotency_key, event_kind, event_at, subject_ref, "
        "action_id, channel, cancellable, status, attempts, next_attempt_at, planned_at, "
        "journey_instance_id, journey_step) "
        "select md5('k' || i), 'k' || i, 'failed_purchase', now(), 'o-' || i, 'email_apology', 'email', "
        "true, 'pending', 0, now(), now(), case when mod(i, 500) = 0 then 'ji-' || i end, "
        "case when mod(i, 500) = 0 then 'send' end from generate_series(1, 5000) as i")
    conn.exec_driver_sql("analyze followup_outbox")
    plan = _plan(conn, "select outbox_id from followup_outbox as o where o.journey_instance_id = 'ji-500' "
                       "and o.journey_step = 'send' and o.status in ('pending', 'sending')")
    assert "ix_followup_outbox_journey" in plan, plan


@pytest.mark.postgres
def test_postgres_charge_indexes_serve_the_lookups_by_charge_alone(migrated_pg) -> None:  # noqa: ANN001
    """Migration 0014: attempts and settlement lines are found by their charge alone (as reconciliation
    and finance join them), through partial indexes that leave charge-less rows out; the index on a
    table no query reads is gone."""
    conn = migrated_pg
    defs = _index_defs(conn, "ix_payment_attempts_charge", "ix_settlement_lines_charge", "ix_attempt_classes_order")
    assert set(defs) == {"ix_payment_attempts_charge", "ix_settlement_lines_charge"}, defs
    assert defs["ix_payment_attempts_charge"].endswith(
        "(gateway_charge_id) WHERE (gateway_charge_id IS NOT NULL)"), defs
    assert defs["ix_settlement_lines_charge"].endswith("(charge_id) WHERE (charge_id IS NOT NULL)"), defs
    for method in ("seqscan", "hashjoin", "mergejoin"):  # a lookup per charge, as a small window runs it
        conn.exec_driver_sql(f"set local enable_{method} = off")
    plan = _plan(conn, "select a.order_id from (values ('ch_1'), ('ch_2')) as c (charge_id) "
                       "inner join payment_attempts as a on a.gateway_charge_id = c.charge_id "
                       "inner join settlement_lines as l on l.charge_id = c.charge_id")
    assert "ix_payment_attempts_charge" in plan, plan
    assert "ix_settlement_lines_charge" in plan, plan


@pytest.mark.postgres
def test_postgres_due_index_holds_waiting_and_sending_rows_and_serves_claim_and_reclaim(migrated_pg) -> None:  # noqa: ANN001
    """Migration 0015: ix_followup_outbox_due is partial (pending and sending rows only); the dispatcher's
    claim of due rows and its reclaim of expired claims still go through it."""
    conn = migrated_pg
    definition = _index_defs(conn, "ix_followup_outbox_due")["ix_followup_outbox_due"]
    assert definition.endswith("WHERE (status = ANY (ARRAY['pending'::text, 'sending'::text]))"), definition
    conn.exec_driver_sql("set local enable_seqscan = off")
    claim = _plan(conn, "select outbox_id from followup_outbox where status = 'pending' "
                        "and next_attempt_at <= now() order by next_attempt_at, outbox_id limit 100")
    reclaim = _plan(conn, "select outbox_id from followup_outbox where status = 'sending' and claimed_until < now()")
    assert "ix_followup_outbox_due" in claim, claim
    assert "ix_followup_outbox_due" in reclaim, reclaim


def test_without_merge_joins_is_scoped_to_its_statements(warehouse_url: str) -> None:
    """`sql.without_merge_joins`: off inside on PostgreSQL, the session's value again after (a caller that
    had turned merge joins off keeps them off); DuckDB runs the statements unchanged."""
    from payrecon.warehouse import sql

    engine = make_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            with sql.without_merge_joins(conn):
                inside = conn.exec_driver_sql("select 1").scalar()
                if conn.dialect.name == "postgresql":
                    assert conn.exec_driver_sql("show enable_mergejoin").scalar() == "off"
            assert inside == 1
            if conn.dialect.name == "postgresql":
                assert conn.exec_driver_sql("show enable_mergejoin").scalar() == "on"
                conn.exec_driver_sql("set local enable_mergejoin = off")
                with sql.without_merge_joins(conn):
                    pass
                assert conn.exec_driver_sql("show enable_mergejoin").scalar() == "off"
    finally:
        engine.dispose()


@pytest.mark.parametrize("scope", ["without_merge_joins", "unordered"])
def test_a_failing_step_raises_its_own_error_not_the_settings_restore(warehouse_url: str, scope: str) -> None:
    """A statement failing inside a scoped setting aborts the transaction; restoring the setting then
    would fail too and hide the real error (an out-of-memory error surfaced as "transaction is aborted")."""
    import sqlalchemy as sa

    from payrecon.warehouse import sql

    engine = make_engine(warehouse_url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn, getattr(sql, scope)(conn):
            conn.exec_driver_sql("select no_such_column from orders")
        assert "no_such_column" in str(caught.value)
        assert "aborted" not in str(caught.value).lower()
    finally:
        engine.dispose()
