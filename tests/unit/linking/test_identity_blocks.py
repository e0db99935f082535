"""R8 blocking: the keys pairs are drawn from, whether a run resolves some records or all of them.

`int_identity_blocks` (the records of `_link_affected`) and `int_identity_blocks_all` (every record of the
horizon, one grouping of identity_keys) must keep the same (record, key) rows when every record of the
horizon is resolved: a key held by 2 to `max_block_size` records of the horizon, counted over the
horizon only, never a key of one record or of a crowd.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from payrecon.linking.settings import LinkSettings
from payrecon.warehouse import sql

HORIZON = datetime(2026, 8, 1, tzinfo=UTC)
IN = HORIZON + timedelta(days=30)
OUT = HORIZON - timedelta(days=1)
MAX = LinkSettings().max_block_size


def _keys() -> tuple[list[dict], set[tuple[str, str, str]]]:
    """identity_keys rows (each record with its 'self' row) and the (record, kind, key) rows to keep."""
    holders: dict[str, list[tuple[str, str, datetime]]] = {}

    def hold(customer: str, kind: str, value: str, seen: datetime = IN) -> None:
        holders.setdefault(customer, []).append((kind, value, seen))

    for c in ("a1", "a2"):
        hold(c, "email", "pair@example.com")  # two holders: a block
    for i in range(MAX + 1):
        hold(f"crowd{i:02d}", "phone", "5550100")  # one holder too many: no block
    for i in range(MAX):
        hold(f"full{i:02d}", "card", "fp-full")  # exactly the limit: a block
    for i in range(3):
        hold(f"gone{i}", "card", "fp-full", OUT)  # left the horizon: not counted, not kept
    hold("s1", "email", "alone@example.com")  # one holder: no pair
    hold("b1", "phone", "5550199")
    hold("b2", "phone", "5550199", OUT)  # the second holder left the horizon: no pair
    rows = []
    for customer, keys in holders.items():
        seen = max(s for _, _, s in keys)
        rows.append({"customer_id": customer, "key_kind": "self", "key_value": customer, "seen_at": seen})
        rows += [{"customer_id": customer, "key_kind": k, "key_value": v, "seen_at": s} for k, v, s in keys]
    expected = {("a1", "email", "pair@example.com"), ("a2", "email", "pair@example.com")}
    expected |= {(f"full{i:02d}", "card", "fp-full") for i in range(MAX)}
    return rows, expected


def _blocked(conn: sa.Connection, step: str, binds: dict) -> set[tuple[str, str, str]]:
    sql.run(conn, step, **binds)
    return set(conn.execute(sa.text("select customer_id, key_kind, key_value from _identity_blocked")).tuples())


def test_r8_blocks_of_the_whole_horizon_equal_the_incremental_ones(engine: sa.Engine) -> None:
    rows, expected = _keys()
    binds = {"horizon_start": HORIZON, "max_block_size": MAX}
    with engine.begin() as conn:
        conn.execute(sa.text("insert into identity_keys (customer_id, key_kind, key_value, seen_at) "
                             "values (:customer_id, :key_kind, :key_value, :seen_at)"), rows)
        sql.run(conn, "linking/linking_affected_all", **binds)
        incremental = _blocked(conn, "intermediate/int_identity_blocks", binds)
        whole = _blocked(conn, "intermediate/int_identity_blocks_all", binds)
    assert incremental == expected
    assert whole == expected


def test_r8_incremental_blocks_count_holders_outside_the_run(engine: sa.Engine) -> None:
    """Only the resolved records' rows come out, and a crowd's key stays out however few of its holders a
    run resolves: blocks are counted over all of identity_keys, not over the run's records."""
    rows, _ = _keys()
    binds = {"horizon_start": HORIZON, "max_block_size": MAX}
    with engine.begin() as conn:
        conn.execute(sa.text("insert into identity_keys (customer_id, key_kind, key_value, seen_at) "
                             "values (:customer_id, :key_kind, :key_value, :seen_at)"), rows)
        conn.exec_driver_sql("create temporary table _link_affected as "
                             "select customer_id from identity_keys where key_kind = 'self' "
                             "and customer_id in ('a1', 'a2', 'crowd00', 'crowd01')")
        blocked = _blocked(conn, "intermediate/int_identity_blocks", binds)
    assert blocked == {("a1", "email", "pair@example.com"), ("a2", "email", "pair@example.com")}
