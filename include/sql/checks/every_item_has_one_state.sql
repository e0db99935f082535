-- Invariant (R14): every settlement line and every order of the window has exactly one state.
-- Returns the number of violations: lines or orders without a row, or with an unknown state.
-- Binds: :window_start, :window_end.
with

lines as (
    select l.line_id, r.state
    from settlement_lines as l
    left join reconciliation_results as r
        on r.item_type = 'settlement_line' and r.item_id = l.line_id
    where l.window_start = :window_start
),

window_orders as (
    select o.order_id, r.state
    from orders as o
    left join reconciliation_results as r
        on r.item_type = 'order' and r.item_id = o.order_id
    where o.created_at >= :window_start and o.created_at < :window_end
),

final as (
    select count(*) as violations from lines
    where state is null or state not in (
        'matched', 'amount_mismatch', 'currency_mismatch', 'settled_without_order', 'duplicate',
        'refund', 'chargeback', 'fee', 'payout', 'adjustment')
    union all
    select count(*) from window_orders
    where state is null or state not in (
        'matched', 'amount_mismatch', 'currency_mismatch', 'pending', 'order_without_settlement',
        'failed_attempt', 'offline')
)

select sum(violations) from final
