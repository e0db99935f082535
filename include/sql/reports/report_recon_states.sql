-- Reconciliation states of the period's windows (R14): items and amounts per item type, state and
-- currency. Failed attempts and offline orders have no charge: their currency is the order's and
-- their amounts are empty. Binds: :period_start, :period_end.
with

results as (
    select
        r.item_type,
        r.state,
        coalesce(r.currency, o.currency) as currency,
        r.expected_minor,
        r.settled_minor,
        r.difference_minor,
        r.fee_minor
    from reconciliation_results as r
    left join orders as o
        on r.item_type = 'order'
       and o.order_id = r.item_id
    where r.window_start >= :period_start
      and r.window_start < :period_end
),

final as (
    select
        item_type,
        state,
        currency,
        cast(count(*) as bigint) as items,
        cast(sum(expected_minor) as bigint) as expected_minor,
        cast(sum(settled_minor) as bigint) as settled_minor,
        cast(sum(difference_minor) as bigint) as difference_minor,
        cast(sum(fee_minor) as bigint) as fee_minor
    from results
    group by item_type, state, currency
)

select * from final
order by item_type, state, currency
