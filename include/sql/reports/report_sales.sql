-- Sales counted cleanly (R8), per currency. Orders placed in the period split by their role in a
-- purchase: a sale, a failed attempt (not a sale), or a second paid order (a duplicate to refund).
-- Purchases started in the period and whether they converted, and purchases that converted in the
-- period after at least one failed attempt. Installments of a running plan are not purchases.
-- Binds: :period_start, :period_end.
with

placed as (
    select
        o.currency,
        count(*) as orders_placed,
        sum(case when l.role = 'sale' then 1 else 0 end) as sales,
        sum(case when l.role = 'sale' then o.total_minor else 0 end) as sales_minor,
        sum(case when l.role = 'failed_attempt' then 1 else 0 end) as failed_attempts,
        sum(case when l.role = 'failed_attempt' then o.total_minor else 0 end) as failed_attempts_minor,
        sum(case when l.role = 'duplicate_sale' then 1 else 0 end) as duplicate_sales,
        sum(case when o.status in ('paid', 'refunded', 'approved_m') then 1 else 0 end) as paid_orders
    from attempt_links as l
    inner join orders as o
        on o.order_id = l.order_id
    where o.created_at >= :period_start
      and o.created_at < :period_end
    group by o.currency
),

started as (
    select
        pr.currency,
        count(*) as purchases_started,
        sum(case when p.converted_at < :period_end then 1 else 0 end) as purchases_converted
    from purchases as p
    inner join products as pr
        on pr.product_id = p.product_id
    where p.first_attempt_at >= :period_start
      and p.first_attempt_at < :period_end
    group by pr.currency
),

after_failure as (
    select
        o.currency,
        count(*) as converted_after_failure,
        sum(o.total_minor) as converted_after_failure_minor
    from purchases as p
    inner join orders as o
        on o.order_id = p.converted_order_id
    where p.failed_attempts > 0
      and p.converted_at >= :period_start
      and p.converted_at < :period_end
    group by o.currency
),

keys as (
    select currency from placed
    union
    select currency from started
    union
    select currency from after_failure
),

final as (
    select
        k.currency,
        cast(coalesce(pl.orders_placed, 0) as bigint) as orders_placed,
        cast(coalesce(pl.paid_orders, 0) as bigint) as paid_orders,
        cast(coalesce(pl.sales, 0) as bigint) as sales,
        cast(coalesce(pl.sales_minor, 0) as bigint) as sales_minor,
        cast(coalesce(pl.failed_attempts, 0) as bigint) as failed_attempts,
        cast(coalesce(pl.failed_attempts_minor, 0) as bigint) as failed_attempts_minor,
        cast(coalesce(pl.duplicate_sales, 0) as bigint) as duplicate_sales,
        cast(coalesce(st.purchases_started, 0) as bigint) as purchases_started,
        cast(coalesce(st.purchases_converted, 0) as bigint) as purchases_converted,
        cast(coalesce(af.converted_after_failure, 0) as bigint) as converted_after_failure,
        cast(coalesce(af.converted_after_failure_minor, 0) as bigint) as converted_after_failure_minor
    from keys as k
    left join placed as pl
        on pl.currency = k.currency
    left join started as st
        on st.currency = k.currency
    left join after_failure as af
        on af.currency = k.currency
)

select * from final
order by currency
