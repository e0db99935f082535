-- Invariant (R14): every settlement line and every order of the window has exactly one state.
-- Returns the number of violations: lines or orders without a row, with more than one row, or with an
-- unknown state. On DuckDB this is what holds the (item_type, item_id) key (migration 0007).
-- Binds: :window_start, :window_end.
with

lines as (
    select
        l.line_id,
        count(r.item_id) as rows_found,
        min(r.state) as state
    from settlement_lines as l
    left join reconciliation_results as r
        on r.item_type = 'settlement_line' and r.item_id = l.line_id
    where l.window_start = :window_start
    group by l.line_id
),

window_orders as (
    select
        o.order_id,
        count(r.item_id) as rows_found,
        min(r.state) as state
    from orders as o
    left join reconciliation_results as r
        on r.item_type = 'order' and r.item_id = o.order_id
    where o.created_at >= :window_start and o.created_at < :window_end
    group by o.order_id
),

final as (
    select count(*) as violations from lines
    where rows_found <> 1 or state not in (
        'matched', 'amount_mismatch', 'currency_mismatch', 'settled_without_order', 'duplicate',
        'refund', 'chargeback', 'fee', 'payout', 'adjustment')
    union all
    select count(*) from window_orders
    where rows_found <> 1 or state not in (
        'matched', 'amount_mismatch', 'currency_mismatch', 'pending', 'order_without_settlement',
        'failed_attempt', 'offline')
)

select sum(violations) from final
