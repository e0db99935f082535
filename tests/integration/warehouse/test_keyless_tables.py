"""The embedded warehouse's big tables keep no ART (migrations 0007, 0008, 0011), and their writers
prove "one row per key" instead: a duplicate fails the writer's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from payrecon.warehouse import sql
from payrecon.warehouse.bulk import DuplicateKeyError
from payrecon.warehouse.engine import make_engine
from payrecon.warehouse.migrate import upgrade

PLANNED = datetime(2026, 11, 3, tzinfo=UTC)
KEYLESS = ("followup_outbox", "followup_contacts", "order_decisions", "reconciliation_results",
           "settlement_lines", "orders", "payment_attempts")


@pytest.fixture
def duck(tmp_path: Path):  # noqa: ANN201
    engine = make_engine(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _outbox_row(conn, outbox_id: str, planned_at: datetime) -> None:  # noqa: ANN001
    conn.execute(
        text(
            "insert into followup_outbox (outbox_id, idempotency_key, event_kind, event_at, subject_ref, "
            "action_id, channel, cancellable, status, attempts, next_attempt_at, planned_at) values "
            "(:id, :id, 'failed_purchase', :t, 'o-1', 'email_apology', 'email', true, 'pending', 0, :t, :t)"
        ),
        {"id": outbox_id, "t": planned_at},
    )


def test_duckdb_big_tables_have_no_key_or_index(duck) -> None:  # noqa: ANN001
    with duck.connect() as conn:
        keyed = {t for (t,) in conn.execute(text(
            "select table_name from duckdb_constraints() where constraint_type in ('PRIMARY KEY', 'UNIQUE') "
            "union select table_name from duckdb_indexes()"))}
    assert keyed.isdisjoint(KEYLESS), keyed & set(KEYLESS)


def test_prove_unique_fails_on_a_key_written_twice_and_ignores_other_runs(duck) -> None:  # noqa: ANN001
    with duck.begin() as conn:
        _outbox_row(conn, "k1", PLANNED)
        _outbox_row(conn, "k2", PLANNED)
        sql.prove_unique(conn, "followup_outbox", ["outbox_id"], "n.planned_at = :p", p=PLANNED)  # unique: passes
    with pytest.raises(DuplicateKeyError, match="followup_outbox: 1 key"), duck.begin() as conn:
        _outbox_row(conn, "k1", datetime(2026, 11, 4, tzinfo=UTC))  # a later writer that ignored the rule
        sql.prove_unique(conn, "followup_outbox", ["outbox_id"], "n.planned_at = :p",
                         p=datetime(2026, 11, 4, tzinfo=UTC))
    with duck.connect() as conn:  # the failing transaction was rolled back
        assert conn.execute(text("select count(*) from followup_outbox")).scalar() == 2


def test_prove_unique_checks_composite_keys(duck) -> None:  # noqa: ANN001
    insert = text(
        "insert into order_decisions (window_start, order_id, aspect, rule, attempt_kind, origin, outcome, result, "
        "window_end, as_of, inputs) values (:ws, :o, :a, 'R1', 'initial', 'checkout', 'card_failure', 'tagged', "
        ":ws, :ws, '{}')"
    )
    with duck.begin() as conn:
        conn.execute(insert, {"ws": PLANNED, "o": "o-1", "a": "initial"})
        conn.execute(insert, {"ws": PLANNED, "o": "o-1", "a": "retry"})
        sql.prove_unique(conn, "order_decisions", ["window_start", "order_id", "aspect"],
                         "n.window_start = :ws", ws=PLANNED)
        conn.execute(insert, {"ws": PLANNED, "o": "o-1", "a": "retry"})
        with pytest.raises(DuplicateKeyError, match="order_decisions"):
            sql.prove_unique(conn, "order_decisions", ["window_start", "order_id", "aspect"],
                             "n.window_start = :ws", ws=PLANNED)
