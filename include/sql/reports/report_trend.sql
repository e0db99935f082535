-- One row per reconciled window and currency from :trend_start to the period's end: what was
-- charged and settled, how many orders matched, failed or need chasing. The report compares the
-- period with the 7 and 30 windows before it. Binds: :trend_start, :period_end.
with

windows as (
    select window_start
    from reconciliation_windows
    where window_start >= :trend_start
      and window_start < :period_end
),

order_rows as (
    select
        r.window_start,
        coalesce(r.currency, o.currency) as currency,
        r.state,
        r.expected_minor
    from reconciliation_results as r
    inner join windows as w
        on w.window_start = r.window_start
    left join orders as o
        on o.order_id = r.item_id
    where r.item_type = 'order'
),

orders_agg as (
    select
        window_start,
        currency,
        sum(case when state not in ('failed_attempt', 'offline') then 1 else 0 end) as orders_charged,
        sum(case when state not in ('failed_attempt', 'offline') then expected_minor else 0 end) as ordered_minor,
        sum(case when state = 'matched' then 1 else 0 end) as orders_matched,
        sum(
            case
                when state in ('matched', 'amount_mismatch', 'currency_mismatch', 'order_without_settlement')
                    then 1
                else 0
            end
        ) as orders_settled_or_overdue,
        sum(case when state = 'failed_attempt' then 1 else 0 end) as failed_attempts,
        sum(
            case when state in ('amount_mismatch', 'currency_mismatch', 'order_without_settlement') then 1 else 0 end
        ) as order_exceptions
    from order_rows
    group by window_start, currency
),

lines_agg as (
    select
        l.window_start,
        l.currency,
        sum(case when l.line_type = 'charge' then l.gross_minor else 0 end) as settled_gross_minor,
        sum(case when l.line_type <> 'payout' then l.net_minor else 0 end) as net_minor
    from settlement_lines as l
    inner join windows as w
        on w.window_start = l.window_start
    group by l.window_start, l.currency
),

line_exceptions as (
    select
        r.window_start,
        r.currency,
        count(*) as line_exceptions
    from reconciliation_results as r
    inner join windows as w
        on w.window_start = r.window_start
    where r.item_type = 'settlement_line'
      and r.state in ('settled_without_order', 'duplicate')
    group by r.window_start, r.currency
),

keys as (
    select window_start, currency from orders_agg
    union
    select window_start, currency from lines_agg
    union
    select window_start, currency from line_exceptions
),

final as (
    select
        k.window_start,
        k.currency,
        cast(coalesce(o.orders_charged, 0) as bigint) as orders_charged,
        cast(coalesce(o.ordered_minor, 0) as bigint) as ordered_minor,
        cast(coalesce(s.settled_gross_minor, 0) as bigint) as settled_gross_minor,
        cast(coalesce(s.net_minor, 0) as bigint) as net_minor,
        cast(coalesce(o.orders_matched, 0) as bigint) as orders_matched,
        cast(coalesce(o.orders_settled_or_overdue, 0) as bigint) as orders_settled_or_overdue,
        cast(coalesce(o.failed_attempts, 0) as bigint) as failed_attempts,
        cast(coalesce(o.order_exceptions, 0) + coalesce(e.line_exceptions, 0) as bigint) as exceptions
    from keys as k
    left join orders_agg as o
        on o.window_start = k.window_start
       and o.currency = k.currency
    left join lines_agg as s
        on s.window_start = k.window_start
       and s.currency = k.currency
    left join line_exceptions as e
        on e.window_start = k.window_start
       and e.currency = k.currency
    where k.currency is not null
)

select * from final
order by window_start, currency
