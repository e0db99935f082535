-- What finance must chase (R14), each once: mismatches and missing settlements from the order side
-- (the order row carries both amounts), orphans and duplicate lines from the settlement side.
-- Windows of the period and the lookback before it, with the age in days at the period's end.
-- Binds: :lookback_start, :period_start, :period_end.
with

exceptions as (
    select
        r.*,
        case r.state
            when 'amount_mismatch' then 'mismatch'
            when 'currency_mismatch' then 'mismatch'
            when 'order_without_settlement' then 'missing settlement'
            when 'settled_without_order' then 'orphan line'
            when 'duplicate' then 'duplicate line'
        end as kind
    from reconciliation_results as r
    where r.window_start >= :lookback_start
      and r.window_start < :period_end
      and (
          (r.item_type = 'order' and r.state in ('amount_mismatch', 'currency_mismatch', 'order_without_settlement'))
          or (r.item_type = 'settlement_line' and r.state in ('settled_without_order', 'duplicate'))
      )
),

dated as (
    select
        e.*,
        coalesce(o.created_at, l.occurred_at) as occurred_at,
        l.source_ref as gateway_ref
    from exceptions as e
    left join orders as o
        on e.item_type = 'order'
       and o.order_id = e.item_id
    left join settlement_lines as l
        on l.line_id = e.line_id
),

final as (
    select
        kind,
        state,
        item_type,
        item_id,
        order_id,
        gateway_ref,
        line_id,
        gateway,
        currency,
        expected_minor,
        settled_minor,
        difference_minor,
        occurred_at,
        cast(cast(:period_end as date) - cast(occurred_at as date) as bigint) as age_days,
        window_start,
        window_start >= :period_start as is_new,
        detail
    from dated
)

select * from final
order by age_days desc, kind, item_id
